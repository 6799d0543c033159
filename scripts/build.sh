#!/usr/bin/env bash
# Builds zazen: the TypeScript bundle, the kernel (shim + QuickJS + bytecode) and the hybrid ISO.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build

bash scripts/fetch-quickjs.sh

# esbuild always rewrites its output; keep the old file when nothing changed so that
# make sees an unchanged bundle and a no-op build stays a no-op.
node esbuild.config.mjs build/zazen.js.new
if cmp -s build/zazen.js.new build/zazen.js; then rm build/zazen.js.new; else mv build/zazen.js.new build/zazen.js; fi

make -s -C runtime-c-shim BUILD="$PWD/build" -j"$(nproc)"
make -s -C firmware BUILD="$PWD/build" -j"$(nproc)"

# The Debian guest (kernel from apt, vmlinux extracted, busybox initramfs): the Linux tests
# use it and the ISO carries it, so it comes before the ISO.
bash scripts/fetch-guest-assets.sh
bash scripts/make-iso.sh
