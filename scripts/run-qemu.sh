#!/usr/bin/env bash
# Boots build/zazen.elf under QEMU (TCG, an SVM-capable CPU) with the REPL on this terminal.
# Usage: scripts/run-qemu.sh [--iso|--uefi] [extra QEMU arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

boot=(-kernel build/zazen.elf)
mods=$(grep -v '^\s*#' scripts/iso/modules.list | grep -v '^\s*$' | while read -r src name; do printf '%s %s,' "$src" "$name"; done)
[ -n "$mods" ] && boot+=(-initrd "${mods%,}")
case "${1:-}" in
  --iso) boot=(-cdrom build/zazen.iso); shift ;;
  --uefi) boot=(-bios /usr/share/ovmf/OVMF.fd -cdrom build/zazen.iso); shift ;;
esac

if [ -t 0 ]; then
  echo "zazen under QEMU: the REPL is on this terminal. Ctrl-A X quits QEMU, Ctrl-A H lists more keys."
fi
# mon:stdio multiplexes the serial line and QEMU's monitor on the terminal, in raw mode, so
# Ctrl-C reaches zazen instead of killing QEMU.
exec qemu-system-x86_64 -accel tcg -cpu EPYC -m 1024 -smp 1 -display none -no-reboot \
  -serial mon:stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 "${boot[@]}" "$@"
