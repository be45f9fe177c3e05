#!/usr/bin/env bash
# Puts cpp-httplib 0.18.7 from Debian 13 (trixie)'s source package, with Debian's security patches
# applied (CVE-2025-46728: chunked bodies past the payload limit; CVE-2025-52887: header count;
# CVE-2025-53629: bodies without a length), into ${XDG_CACHE_HOME:-$HOME/.cache}/vkgemma/cpp-httplib,
# once: `vkgemma serve`'s HTTP layer (README, "Serving": why not Debian 12's 0.11.4). The library
# is one header, so nothing is compiled here; host/serve/CMakeLists.txt finds it (and runs this
# script when it is missing).
# As tools/glslang.sh: apt reads a private source list and package lists under the cache directory,
# only the source is downloaded (Debian's archive checks its hashes and signature), and the system
# is left untouched. Needs apt-get, tar, xz and patch.
set -euo pipefail
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/vkgemma"
PREFIX="$CACHE/cpp-httplib"
HEADER="$PREFIX/include/httplib.h"

if [ -f "$HEADER" ] && grep -q "CPPHTTPLIB_HEADER_MAX_COUNT" "$HEADER"; then exit 0; fi

WORK="$CACHE/cpp-httplib-build"
rm -rf "$WORK"
mkdir -p "$WORK/lists/partial" "$WORK/src"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
  >"$WORK/sources.list"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://security.debian.org/debian-security trixie-security main" \
  >>"$WORK/sources.list"
APT=(apt-get -qq -o "Dir::Etc::SourceList=$WORK/sources.list" -o Dir::Etc::SourceParts=/dev/null
     -o "Dir::State::Lists=$WORK/lists" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=)
[ "$(id -u)" -eq 0 ] && APT+=(-o APT::Sandbox::User=root)

echo "fetching cpp-httplib from Debian 13's source package into $PREFIX (once)"
"${APT[@]}" update
(cd "$WORK/src" && "${APT[@]}" source --download-only cpp-httplib >/dev/null)
mkdir -p "$WORK/src/cpp-httplib"
tar -xJf "$WORK"/src/cpp-httplib_*.orig.tar.* -C "$WORK/src/cpp-httplib" --strip-components=1
tar -xJf "$WORK"/src/cpp-httplib_*.debian.tar.* -C "$WORK/src/cpp-httplib"
# Debian's patches in their order (debian/patches/series): the security fixes above.
if [ -f "$WORK/src/cpp-httplib/debian/patches/series" ]; then
  while read -r p; do
    [ -z "$p" ] || [[ "$p" == \#* ]] && continue
    patch -s -p1 -d "$WORK/src/cpp-httplib" <"$WORK/src/cpp-httplib/debian/patches/$p"
  done <"$WORK/src/cpp-httplib/debian/patches/series"
fi
grep -q "CPPHTTPLIB_HEADER_MAX_COUNT" "$WORK/src/cpp-httplib/httplib.h" ||
  { echo "error: Debian 13's cpp-httplib lacks the header-count limit (CVE-2025-52887)" >&2; exit 1; }
mkdir -p "$PREFIX/include"
cp "$WORK/src/cpp-httplib/httplib.h" "$HEADER"
cp "$WORK/src/cpp-httplib/LICENSE" "$PREFIX/LICENSE"
ls "$WORK"/src/*.dsc | xargs -n1 basename >"$PREFIX/SOURCE"
rm -rf "$WORK"
echo "cpp-httplib $(grep -o 'CPPHTTPLIB_VERSION "[^"]*"' "$HEADER" | cut -d'"' -f2) ($(cat "$PREFIX/SOURCE")) in $PREFIX"
