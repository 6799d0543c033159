#!/usr/bin/env bash
# Fetches Debian 12's kernel and busybox-static with apt and builds the Debian guest's boot assets.
#
# Usage: scripts/fetch-guest-assets.sh
# Outputs in build/guest/: vmlinuz (the bzImage as shipped), vmlinux (its ELF, checked for
# the PVH entry note) and initramfs.cpio.gz (busybox, applet links, device nodes, /init).
# Idempotent: the .debs are cached in .cache/guest/ (git-ignored) and each output is rebuilt
# only when an input is newer. The kernel package is the one the linux-image-amd64
# metapackage depends on today, so a Debian kernel update fetches the new ABI once.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=$ROOT/.cache/guest
OUT=$ROOT/build/guest
GUEST=$ROOT/scripts/guest

die() { echo "fetch-guest-assets: $*" >&2; exit 1; }
log() { echo "fetch-guest-assets: $*" >&2; }

for tool in apt-cache apt-get dpkg-deb tar xz node; do
  command -v "$tool" >/dev/null || die "missing tool: $tool"
done
mkdir -p "$CACHE" "$OUT"

# The exact kernel package (linux-image-6.1.0-NN-amd64) the metapackage points at.
kernel_package() {
  apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}
KPKG=$(kernel_package)
if [ -z "$KPKG" ]; then
  log "linux-image-amd64 unknown to apt-cache; running apt-get update"
  apt-get update -qq || die "apt-get update failed"
  KPKG=$(kernel_package)
fi
[ -n "$KPKG" ] || die "cannot resolve the kernel package linux-image-amd64 depends on"
case "$KPKG" in linux-image-6.1.0-*-amd64) ;; *) die "unexpected kernel package '$KPKG' (want linux-image-6.1.0-*-amd64)";; esac

# apt drops to its _apt user to download, which cannot write into a root-owned cache; as root,
# download as root instead of printing a warning about it on every fetch.
APT_OPTS=()
[ "$(id -u)" = 0 ] && APT_OPTS=(-o APT::Sandbox::User=root)

# Downloads a package into the cache unless a .deb of its candidate version is already there.
fetch_deb() {
  local pkg=$1 version file
  version=$(apt-cache policy "$pkg" | awk '/Candidate:/ { print $2; exit }')
  [ -n "$version" ] && [ "$version" != "(none)" ] || die "apt has no candidate for $pkg"
  # apt names the file with the epoch's ':' written as %3a.
  file="$CACHE/${pkg}_${version//:/%3a}_amd64.deb"
  if [ ! -s "$file" ]; then
    log "downloading $pkg $version"
    (cd "$CACHE" && apt-get download -q "${APT_OPTS[@]}" "$pkg=$version" >&2) || die "apt-get download $pkg failed"
  fi
  [ -s "$file" ] || die "expected $file after apt-get download"
  echo "$file"
}
KDEB=$(fetch_deb "$KPKG")
BDEB=$(fetch_deb busybox-static)

# Extracts one package's files into the cache. Only boot/ of the kernel package is taken:
# its modules tree is 391 MB and this guest needs none of it (hvc and xenbus are built in).
extract_deb() {
  local deb=$1 dir=$2
  shift 2
  if [ ! -f "$dir/.done" ] || [ "$deb" -nt "$dir/.done" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir" --wildcards "$@" || die "cannot extract $deb"
    touch "$dir/.done"
  fi
}
extract_deb "$KDEB" "$CACHE/kernel" './boot/*'
extract_deb "$BDEB" "$CACHE/busybox" './bin/busybox'

VMLINUZ_SRC=$CACHE/kernel/boot/vmlinuz-${KPKG#linux-image-}
[ -s "$VMLINUZ_SRC" ] || die "the kernel package has no $VMLINUZ_SRC"
BUSYBOX=$CACHE/busybox/bin/busybox
[ -x "$BUSYBOX" ] || die "busybox-static has no executable bin/busybox"

if [ ! -s "$OUT/vmlinuz" ] || [ "$VMLINUZ_SRC" -nt "$OUT/vmlinuz" ]; then
  cp "$VMLINUZ_SRC" "$OUT/vmlinuz"
fi

# The ELF is taken out of the bzImage here, at build time: decompressing 8 MB of XZ into
# 65 MB inside QuickJS under TCG would cost minutes of every guest boot.
if [ ! -s "$OUT/vmlinux" ] || [ "$OUT/vmlinuz" -nt "$OUT/vmlinux" ]; then
  node "$GUEST/extract-vmlinux.mjs" "$OUT/vmlinuz" "$OUT/vmlinux.tmp"
  node "$GUEST/check-pvh.mjs" "$OUT/vmlinux.tmp"
  mv "$OUT/vmlinux.tmp" "$OUT/vmlinux"
fi

INITRAMFS_INPUTS=("$BUSYBOX" "$GUEST/init.sh" "$GUEST/mkinitramfs.mjs")
stale=0
[ -s "$OUT/initramfs.cpio.gz" ] || stale=1
for f in "${INITRAMFS_INPUTS[@]}"; do [ "$f" -nt "$OUT/initramfs.cpio.gz" ] && stale=1; done
if [ "$stale" = 1 ]; then
  # The applet list comes from the busybox binary itself (it is static, so it runs here).
  "$BUSYBOX" --list-full > "$CACHE/applets.txt" || die "cannot list busybox applets"
  node "$GUEST/mkinitramfs.mjs" --busybox "$BUSYBOX" --applets "$CACHE/applets.txt" \
    --init "$GUEST/init.sh" --out "$OUT/initramfs.cpio.gz.tmp"
  mv "$OUT/initramfs.cpio.gz.tmp" "$OUT/initramfs.cpio.gz"
fi

log "$KPKG: $(stat -c %s "$OUT/vmlinuz") B vmlinuz, $(stat -c %s "$OUT/vmlinux") B vmlinux, $(stat -c %s "$OUT/initramfs.cpio.gz") B initramfs.cpio.gz in build/guest/"
