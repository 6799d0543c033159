#!/usr/bin/env bash
# Makes build/zazen.iso: a hybrid BIOS + UEFI GRUB image that boots zazen by multiboot2, console on COM1.
set -euo pipefail
cd "$(dirname "$0")/.."

iso=build/zazen.iso
root=build/iso
list=scripts/iso/modules.list
mods=$(grep -v '^\s*#' "$list" | grep -v '^\s*$' || true)

# Rebuild only when the kernel, the module list or a module is newer than the ISO (a module
# that is missing counts as newer, so the build stops at cp with the file's name).
inputs=(build/zazen.elf "$list" "$0")
while read -r src _; do [ -n "$src" ] && inputs+=("$src"); done <<<"$mods"
if [ -f "$iso" ]; then
  stale=0
  for f in "${inputs[@]}"; do { [ ! -e "$f" ] || [ "$f" -nt "$iso" ]; } && stale=1; done
  [ $stale -eq 0 ] && exit 0
fi

rm -rf "$root"
mkdir -p "$root/boot/grub" "$root/boot/modules"
cp build/zazen.elf "$root/boot/zazen.elf"
entries=""
while read -r src name; do
  [ -n "$src" ] || continue
  # An absolute name (/etc/xen/debian.cfg) is kept as a tree under boot/modules/.
  file=/boot/modules/${name#/}
  mkdir -p "$root$(dirname "$file")"
  cp "$src" "$root$file"
  # module2's command line is what follows the file: "<file> <name>", the form QEMU's
  # -initrd gives too; zazen's boot file system takes an absolute <name> as the file's
  # path and otherwise the base name of <file> (src/hv/bootfs.ts).
  # --nounzip: GRUB would otherwise gunzip initramfs.cpio.gz; boot files are byte-exact.
  entries+="  module2 --nounzip $file $file $name"$'\n'
done <<<"$mods"

# GRUB talks on COM1 and the screen; timeout 0 boots at once (hold Shift/Esc for the menu).
cat >"$root/boot/grub/grub.cfg" <<CFG
insmod all_video
serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1
terminal_input serial console
terminal_output serial console
set timeout=0
menuentry "zazen" {
  multiboot2 /boot/zazen.elf
${entries}  boot
}
CFG

# Both platforms go in: grub-mkrescue includes every GRUB platform that is installed
# (grub-pc-bin for BIOS, grub-efi-amd64-bin for UEFI). Locales, themes and fonts are
# left out to keep the image small; all_video lets GRUB hand zazen a framebuffer under UEFI.
grub-mkrescue -o "$iso.tmp" "$root" --locales= --themes= --fonts= \
  2>build/grub-mkrescue.log || { cat build/grub-mkrescue.log; exit 1; }
mv "$iso.tmp" "$iso"
echo "built $iso ($(stat -c %s "$iso") bytes)"
