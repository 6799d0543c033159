#!/usr/bin/env bash
# Installs what zazen's build and tests need, only what is missing: Debian packages, then npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: the build (gcc, binutils, musl-dev), the ISO (GRUB, xorriso, mtools),
# the tests (QEMU, OVMF for UEFI), the XenStore client tools the tests drive, and xz for
# the Debian guest kernel's payload.
debs=(gcc make binutils musl-dev grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools
      qemu-system-x86 ovmf xenstore-utils xz-utils)

missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages: reinstall only when package.json or the lock file is newer than the install.
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package.json -nt "$stamp" ] || { [ -f package-lock.json ] && [ package-lock.json -nt "$stamp" ]; }; then
  echo "setup: installing npm packages"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi
