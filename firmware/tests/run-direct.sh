#!/usr/bin/env bash
# Boots each test guest under plain QEMU (no hypervisor) and checks its output and exit status.
# Usage: tests/run-direct.sh BUILD_FIRMWARE_DIR   (the directory holding NAME.elf)
set -uo pipefail
dir=${1:?usage: run-direct.sh BUILD_FIRMWARE_DIR}
failures=0
checks=0

# Runs guest $1 with command line $2; leaves stdout in $out and QEMU's status in $status.
# Without Xen leaves the guests print to port 0xE9 (-debugcon) and end through
# isa-debug-exit, where writing v exits QEMU with status (v << 1) | 1.
boot() {
  out=$(timeout 60 qemu-system-x86_64 -accel tcg -cpu EPYC -m 64 -display none \
    -debugcon stdio -serial none -monitor none -no-reboot \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel "$dir/$1.elf" -append "$2" 2>/dev/null)
  status=$?
}

# expect_status GUEST ARGS STATUS: the previous boot ended with STATUS.
expect_status() {
  checks=$((checks + 1))
  if [ "$status" != "$3" ]; then
    echo "FAIL $1 [$2]: exit status $status, expected $3"
    failures=$((failures + 1))
  fi
}

# expect_line GUEST ARGS REGEX: some output line matches the extended regex.
expect_line() {
  checks=$((checks + 1))
  if ! grep -Eq -- "$3" <<<"$out"; then
    echo "FAIL $1 [$2]: no line matching /$3/ in:"
    sed 's/^/    | /' <<<"$out"
    failures=$((failures + 1))
  fi
}

# expect_no_line GUEST ARGS REGEX: no output line matches.
expect_no_line() {
  checks=$((checks + 1))
  if grep -Eq -- "$3" <<<"$out"; then
    echo "FAIL $1 [$2]: unexpected line matching /$3/"
    failures=$((failures + 1))
  fi
}

# The ELF note: type 18 (PHYS32_ENTRY) owned by "Xen", descriptor size as the Makefile chose,
# value equal to the ELF entry point.
check_note() {
  local g=$1 size=$2 class=$3 notes entry
  checks=$((checks + 1))
  notes=$(readelf -n "$dir/$g.elf")
  entry=$(readelf -h "$dir/$g.elf" | awk '/Entry point/ {print $4}')
  if ! grep -Eq "Xen +0x0000000$size[[:space:]]+Unknown note type: \(0x00000012\)" <<<"$notes"; then
    echo "FAIL $g: no Xen note type 18 with a $size-byte descriptor"; failures=$((failures + 1))
  fi
  local desc
  desc=$(awk '/description data:/ {for (i = 3; i <= NF; i++) printf "%s", $i}' <<<"$notes")
  # The descriptor bytes are little-endian; rebuild the number and compare with e_entry.
  local le=""; for ((i = ${#desc} - 2; i >= 0; i -= 2)); do le+=${desc:i:2}; done
  if [ $((16#$le)) != $((entry)) ]; then
    echo "FAIL $g: note entry 0x$le differs from ELF entry $entry"; failures=$((failures + 1))
  fi
  if ! readelf -h "$dir/$g.elf" | grep -q "Class: *$class"; then
    echo "FAIL $g: not $class"; failures=$((failures + 1))
  fi
}

check_note hello 4 ELF64
check_note hello32 4 ELF32
check_note probe 8 ELF64
check_note spinner 8 ELF64
check_note triplefault 8 ELF64
check_note shutdown 4 ELF64
check_note bench 8 ELF64

for g in hello hello32; do
  a='x=1 name=two  spaced'
  boot $g "$a"
  expect_status $g "$a" 1
  expect_line $g "$a" "^zazen-fw $g \\((64|32)-bit\\): no Xen leaves"
  expect_line $g "$a" '^hello from zazen guest \(dom unknown\)$'
  expect_line $g "$a" '^cmdline "x=1 name=two  spaced"$'
  expect_line $g "$a" '^memmap 0 0x0000000000000000-0x[0-9a-f]{16} ram$'
  expect_line $g "$a" '^memmap summary entries=[1-9][0-9]* ram_kib=6[0-9]{4} source=start_info$'
  expect_line $g "$a" '^modules 0$'
  expect_line $g "$a" "^VERDICT $g: PASS\$"
done
a='hypercall=bogus'
boot hello "$a"
expect_status hello "$a" 1
expect_line hello "$a" '^VERDICT hello: FAIL \(bad option hypercall=bogus: expected direct\|page\)$'
a='hypercall=page'
boot hello "$a"
expect_line hello "$a" '^VERDICT hello: FAIL \(hypercall=page: no Xen hypervisor\)$'

# Plain QEMU is not zazen: no Xen leaves, TCG returns 0 for unknown MSRs and real devices
# answer some ports, so the verdict must be FAIL and must say why.
boot probe ""
expect_status probe "" 1
expect_line probe "" '^PROBE vendor AuthenticAMD$'
expect_line probe "" '^PROBE cpuid 0x00000001 eax=0x[0-9a-f]{8} ebx=0x[0-9a-f]{8} ecx=0x[0-9a-f]{8} edx=0x[0-9a-f]{8}$'
expect_line probe "" '^PROBE xen none$'
expect_line probe "" '^PROBE trap ud2 fault=#UD$'
expect_line probe "" '^PROBE msr 0xc0000080 efer value=0x0000000000000500$'
expect_line probe "" '^PROBE msr 0x0000001b apic_base value=0x00000000fee00900$'
expect_line probe "" '^PROBE port 0x0080 size=1 value=0xff all-ones$'
expect_line probe "" '^PROBE port 0x0cfc size=4 value=0x[0-9a-f]{8} NOT-all-ones$'
expect_line probe "" '^PROBE hypercall none$'
expect_line probe "" '^VERDICT probe: FAIL \([0-9]+ problems: no Xen signature in CPUID'
a='ports=0x80,0x2f8:2,0x2e8:4'
boot probe "$a"
expect_line probe "$a" '^PROBE port 0x02f8 size=2 value=0xffff all-ones$'
expect_line probe "$a" '^PROBE port 0x02e8 size=4 value=0xffffffff all-ones$'
expect_no_line probe "$a" '^PROBE port 0x0cfc'
expect_line probe "$a" '^VERDICT probe: FAIL \(2 problems: no Xen signature in CPUID 0x40000000-0x4000ff00; reading the unknown MSR did not raise #GP\)$'
for a in 'ports=0x80:3' 'ports=0x10000' 'ports=,' 'ports=zz' 'msr=0x1ffffffff'; do
  boot probe "$a"
  expect_status probe "$a" 1
  expect_line probe "$a" '^VERDICT probe: FAIL \(bad option (ports|msr)='
done

a='beats=3 every=1000'
boot spinner "$a"
expect_status spinner "$a" 1
expect_line spinner "$a" '^SPIN 1 x=[0-9a-f]{16}$'
expect_line spinner "$a" '^SPIN 3 x=[0-9a-f]{16}$'
expect_no_line spinner "$a" '^SPIN 4 '
expect_line spinner "$a" '^VERDICT spinner: PASS$'
a='spin_ms=300 every=100000'
boot spinner "$a"
expect_status spinner "$a" 1
expect_line spinner "$a" 'tsc_khz=[1-9][0-9]{5,} \(pit\)$'
expect_line spinner "$a" '^SPIN [0-9]+ '
expect_line spinner "$a" '^VERDICT spinner: PASS$'
a='yield=1 beats=2 every=10'
boot spinner "$a"
expect_line spinner "$a" '^SPIN 2 '
expect_line spinner "$a" '^VERDICT spinner: PASS$'
for a in 'every=abc' 'every=0' 'yield=2' 'beats=99999999999999999999999' 'spin_ms=-1'; do
  boot spinner "$a"
  expect_status spinner "$a" 1
  expect_line spinner "$a" '^VERDICT spinner: FAIL \(bad option '
done

# A triple fault resets the machine, which -no-reboot turns into a clean QEMU exit (0).
boot triplefault ""
expect_status triplefault "" 0
expect_line triplefault "" '^about to triple fault$'
expect_no_line triplefault "" '^VERDICT'
expect_no_line triplefault "" '^EXCEPTION'

# isa-debug-exit value = latched code if any, else the reason; status = value * 2 + 1.
for pair in ':1' 'reason=poweroff:1' 'reason=reboot:3' 'reason=crash:7' \
    'reason=crash code=5:11' 'code=0x2a:85' 'reason=watchdog:9' 'reason=soft_reset:11'; do
  a=${pair%:*}
  boot shutdown "$a"
  expect_status shutdown "$a" "${pair##*:}"
  expect_line shutdown "$a" '^VERDICT shutdown: PASS$'
done
for a in 'reason=halt' 'code=256' 'code=x' 'reason=suspend'; do
  boot shutdown "$a"
  expect_status shutdown "$a" 1
  expect_line shutdown "$a" '^VERDICT shutdown: FAIL \('
done

a='n=500'
boot bench "$a"
expect_status bench "$a" 1
expect_line bench "$a" '^bench n=500 cpuid_leaf=0x40000000 fast_op=xen_version forward_op=console_io$'
expect_line bench "$a" '^BENCH loop [0-9]+$'
expect_line bench "$a" '^BENCH cpuid [0-9]+$'
expect_line bench "$a" '^bench fast and forward skipped: no Xen$'
expect_line bench "$a" '^VERDICT bench: PASS$'
for a in 'n=0' 'forward_op=hc:' 'fast_op=hc:1:2:3:4:5' 'forward_op=nope' 'fast_op=hc:x'; do
  boot bench "$a"
  expect_status bench "$a" 1
  expect_line bench "$a" '^VERDICT bench: FAIL \(bad option '
done
a='fast_op=hc:17:0 forward_op=hc:29:0:0 n=5'
boot bench "$a"
expect_line bench "$a" '^VERDICT bench: PASS$'

echo "run-direct: $checks checks, $failures failed"
[ "$failures" = 0 ]
