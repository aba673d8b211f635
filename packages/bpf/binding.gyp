{
  "targets": [
    {
      "target_name": "proctrail_bpf",
      "sources": [
        "binding/addon.cc",
        "binding/bpf_error.cc",
        "binding/libbpf_log.cc",
        "binding/ring_poller.cc",
        "binding/sensor_handle.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "src/bpf"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra"],
      "libraries": ["-lbpf", "-lelf", "-lz"]
    }
  ]
}
