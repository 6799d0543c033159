#!/usr/bin/env bash
# Yardstick: boots each test guest as the PVH dom0 of real Xen 4.17 under QEMU and checks it.
#
# Usage: tests/run-xen.sh BUILD_FIRMWARE_DIR XEN
#   XEN is Xen's multiboot image, e.g. from Debian 12:
#     apt-get download xen-hypervisor-4.17-amd64 && dpkg-deb -x xen-hypervisor-*.deb x
#     tests/run-xen.sh build/firmware x/boot/xen-4.17-amd64.gz
# Not part of `make check` (it needs that download); it shows the guests speak the ABI real
# Xen speaks: the PHYS32 note, PVH entry, CPUID leaves, VMMCALL and the hypercall page,
# console_io, memory_op, sched_op (and shutdown_code's latching), #GP on unknown MSRs.
# Xen as dom0 host differs from zazen: the guest is dom 0, start_info has no memmap
# (version 0) and dom0 may touch some real ports, so probe is given a port list.
set -uo pipefail
dir=${1:?usage: run-xen.sh BUILD_FIRMWARE_DIR XEN}
xen=${2:?usage: run-xen.sh BUILD_FIRMWARE_DIR XEN}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# QEMU's multiboot loader wants the uncompressed ELF32 image.
if gzip -t "$xen" 2>/dev/null; then zcat "$xen" >"$work/xen"; else cp "$xen" "$work/xen"; fi
failures=0
checks=0

# Boots guest $1 with command line $2 as dom0; $out gets the serial log from Xen's last
# boot message on. Xen halts (rather than exits) after a dom0 poweroff, so the log is
# watched for Xen's final words and this QEMU (by its pid) is stopped then.
boot() {
  local log="$work/log" pid i
  rm -f "$log"
  # -initrd separates modules with commas; ",," is a literal comma in the command line.
  # PVH dom0 needs an IOMMU (Xen panics without one) and SVM with NPT (-cpu EPYC);
  # Xen under TCG also needs MONITOR/MWAIT and RDTSCP hidden and SMAP off (see
  # /work/shared/docs/svm-under-qemu.md).
  qemu-system-x86_64 -accel tcg -machine q35 -cpu EPYC,-monitor,-rdtscp -m 512 \
    -display none -serial "file:$log" -monitor none -no-reboot -device amd-iommu \
    -kernel "$work/xen" -initrd "$dir/$1.elf ${2//,/,,}" \
    -append "console=com1 com1=115200 dom0=pvh dom0_mem=64M smap=0 iommu=1 loglvl=all guest_loglvl=all" \
    >/dev/null 2>&1 &
  pid=$!
  for ((i = 0; i < 240; i++)); do
    sleep 0.5
    kill -0 "$pid" 2>/dev/null || break
    grep -qE 'Hardware Dom0 (halted|shutdown|crashed)|Panic on CPU' "$log" 2>/dev/null && break
  done
  sleep 0.5
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  out=$(tr -d '\r' <"$log" | sed -n '/Freed .* init memory/,$p')
}

expect_line() {
  checks=$((checks + 1))
  if ! grep -Eq -- "$3" <<<"$out"; then
    echo "FAIL $1 [$2]: no line matching /$3/ in:"
    sed 's/^/    | /' <<<"$out"
    failures=$((failures + 1))
  fi
}

for g in hello hello32; do
  boot $g "x=1"
  expect_line $g "x=1" "^zazen-fw $g \\((64|32)-bit\\): Xen 4\\.17 leaves=0x40000000 dom=0 vendor=AuthenticAMD hypercall=vmmcall\$"
  expect_line $g "x=1" '^hello from zazen guest \(dom 0\)$'
  expect_line $g "x=1" '^memmap summary entries=[1-9][0-9]* ram_kib=[1-9][0-9]* source=memory_op$'
  expect_line $g "x=1" '^xen_version 0x40011 \(cpuid 0x40011\) via vmmcall$'
  expect_line $g "x=1" "^VERDICT $g: PASS\$"
done
boot hello "hypercall=page"
expect_line hello "hypercall=page" '^xen_version 0x40011 \(cpuid 0x40011\) via page$'
expect_line hello "hypercall=page" '^VERDICT hello: PASS$'

a='ports=0x80,0x3f8,0xcfc:4'
boot probe "$a"
expect_line probe "$a" '^PROBE cpuid 0x40000000 eax=0x40000005 ebx=0x566e6558 ecx=0x65584d4d edx=0x4d4d566e$'
expect_line probe "$a" '^PROBE msr 0xc0011234 unknown fault=#GP$'
expect_line probe "$a" '^PROBE hcpage addr=0x[0-9a-f]+ stub0=b8 00 00 00 00 0f 01 d9 c3$'
expect_line probe "$a" '^PROBE hypercall page xen_version=0x40011$'
expect_line probe "$a" '^VERDICT probe: PASS$'

a='beats=3 every=100000 yield=1'
boot spinner "$a"
expect_line spinner "$a" '^SPIN 3 '
expect_line spinner "$a" '^VERDICT spinner: PASS$'

boot triplefault ""
expect_line triplefault "" '^about to triple fault$'
expect_line triplefault "" 'd0v0 Triple fault'

boot shutdown "reason=poweroff code=3"
expect_line shutdown "code=3" '^SCHEDOP_shutdown_code\(3\) returned 0$'
expect_line shutdown "code=3" '^VERDICT shutdown: PASS$'
expect_line shutdown "code=3" 'Hardware Dom0 crashed'

a='n=50'
boot bench "$a"
expect_line bench "$a" '^BENCH cpuid [0-9]+$'
expect_line bench "$a" '^BENCH fast [0-9]+$'
expect_line bench "$a" '^BENCH forward [0-9]+$'
expect_line bench "$a" '^VERDICT bench: PASS$'

echo "run-xen: $checks checks, $failures failed"
[ "$failures" = 0 ]
