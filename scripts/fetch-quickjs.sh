#!/usr/bin/env bash
# Fetches the pinned QuickJS 2021-03-27 sources (npm qjsc@0.3.0), verifies them and applies our patches.
#
# Usage: scripts/fetch-quickjs.sh [output-dir]    (default: build/quickjs)
# Idempotent: a stamp file records the tarball hash and the patch set; when both are
# unchanged the script does nothing. The tarball is cached in .cache/ (git-ignored) and
# only ever stored there after its hash matched, so a later mismatch means tampering.
set -euo pipefail

PKG=qjsc@0.3.0
TARBALL=qjsc-0.3.0.tgz
INTEGRITY='sha512-a7+cU6/IVcZbIejffdt/wZVMX6LL2MDL3HQ9Zb5Gm23G9DvBMS/z9GHFxz39bAvp2PvMOM+ypSOAyokt2DdZ2w=='
SUBDIR=package/deps/quickjs_2021_03_27

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/build/quickjs}
CACHE=$ROOT/.cache
PATCH_DIR=$ROOT/runtime-c-shim/patches

die() { echo "fetch-quickjs: $*" >&2; exit 1; }

# integrity FILE: prints the npm-style "sha512-<base64>" of FILE.
integrity() {
    node -e 'const c=require("crypto"),f=require("fs");
             process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$1"
}

shopt -s nullglob
patches=("$PATCH_DIR"/*.patch)
shopt -u nullglob

# The stamp names everything the output depends on: the tarball and each patch's content.
stamp_text() {
    echo "$INTEGRITY"
    local p
    for p in "${patches[@]}"; do
        echo "$(basename "$p") $(sha256sum < "$p" | cut -d' ' -f1)"
    done
}

if [[ -f $OUT/.stamp ]] && [[ "$(cat "$OUT/.stamp")" == "$(stamp_text)" ]]; then
    exit 0
fi

mkdir -p "$CACHE"
if [[ ! -f $CACHE/$TARBALL ]]; then
    tmp=$(mktemp -d "$CACHE/pack.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    echo "fetch-quickjs: npm pack $PKG" >&2
    (cd "$tmp" && npm pack "$PKG" --silent >/dev/null) || die "npm pack $PKG failed"
    [[ -f $tmp/$TARBALL ]] || die "npm pack did not produce $TARBALL"
    got=$(integrity "$tmp/$TARBALL")
    [[ $got == "$INTEGRITY" ]] || die "INTEGRITY MISMATCH for downloaded $TARBALL:
  expected $INTEGRITY
  got      $got"
    mv "$tmp/$TARBALL" "$CACHE/$TARBALL"
    rm -rf "$tmp"
    trap - EXIT
fi

got=$(integrity "$CACHE/$TARBALL")
[[ $got == "$INTEGRITY" ]] || die "INTEGRITY MISMATCH for cached $CACHE/$TARBALL:
  expected $INTEGRITY
  got      $got
Refusing to use it; delete it to download it again."

# Extract and patch into a scratch directory, then swap it in, so that a failed patch
# never leaves a half-patched tree behind a valid-looking stamp.
mkdir -p "$(dirname "$OUT")"
work=$(mktemp -d "$(dirname "$OUT")/.quickjs.XXXXXX")
chmod 755 "$work"   # mktemp makes it private
trap 'rm -rf "$work"' EXIT
# -m: stamp files with the extraction time, so objects built from a previous
# extraction are always older and get rebuilt.
tar -xzmf "$CACHE/$TARBALL" -C "$work" --strip-components=3 "$SUBDIR"
[[ -f $work/quickjs.c ]] || die "$TARBALL has no $SUBDIR/quickjs.c"
for p in "${patches[@]}"; do
    echo "fetch-quickjs: applying $(basename "$p")" >&2
    patch -d "$work" -p1 --batch --forward --quiet < "$p" || die "patch $(basename "$p") does not apply"
done
stamp_text > "$work/.stamp"
rm -rf "$OUT"
mv "$work" "$OUT"
trap - EXIT
echo "fetch-quickjs: QuickJS 2021-03-27 ready in $OUT" >&2
