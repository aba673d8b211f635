#!/usr/bin/env bash
# Builds the native parts of @proctrail/bpf (npm run build:native):
#   1. build/bpf/vmlinux.h from this kernel's BTF (generated, never committed);
#   2. one BPF object per hook family, linked into build/bpf/proctrail.bpf.o;
#   3. the N-API addon, with npm's bundled node-gyp against /usr/include/node: nothing is
#      downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."

out=build/bpf
btf=/sys/kernel/btf/vmlinux
mkdir -p "$out"

if [ ! -r "$btf" ]; then
  echo "build:native: $btf is missing: this kernel has no BTF (CONFIG_DEBUG_INFO_BTF)," \
    "so the CO-RE programs cannot be built or loaded here" >&2
  exit 1
fi
bpftool btf dump file "$btf" format c >"$out/vmlinux.h.tmp"
mv "$out/vmlinux.h.tmp" "$out/vmlinux.h"

case "$(uname -m)" in
  x86_64) arch=x86 ;;
  aarch64) arch=arm64 ;;
  *) arch="$(uname -m)" ;;
esac

objects=()
for src in src/bpf/*.bpf.c; do
  name="$(basename "$src" .bpf.c)"
  clang -target bpf -O2 -g -Wall -Werror -D__TARGET_ARCH_"$arch" \
    -I "$out" -I src/bpf -c "$src" -o "$out/$name.o"
  objects+=("$out/$name.o")
done
# Weak map definitions in maps.h become one map per name in the linked object.
bpftool gen object "$out/proctrail.bpf.o" "${objects[@]}"

# npm puts its bundled node-gyp on PATH for scripts; outside npm, find it beside npm itself.
if command -v node-gyp >/dev/null; then
  gyp=(node-gyp)
else
  npm_root="$(dirname "$(readlink -f "$(command -v npm)")")/.."
  gyp=(node "$npm_root/node_modules/node-gyp/bin/node-gyp.js")
fi
# configure + build, not rebuild: rebuild would clean build/ and the BPF objects with it.
"${gyp[@]}" configure build --nodedir=/usr --jobs=2 --loglevel=warn
