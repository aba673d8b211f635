// The module: exports SensorHandle, the native side of @proctrail/bpf's Sensor.
#include "sensor_handle.h"

#include <napi.h>

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
    exports.Set("SensorHandle", proctrail::SensorHandle::Define(env));
    return exports;
}

} // namespace

NODE_API_MODULE(proctrail_bpf, Init)
