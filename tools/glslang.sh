#!/usr/bin/env bash
# Builds glslangValidator 15 from Debian 13 (trixie)'s glslang source package into
# ${XDG_CACHE_HOME:-$HOME/.cache}/vkgemma/glslang-15, once: Debian 12's glslang 12 rejects
# GL_KHR_cooperative_matrix and GL_EXT_integer_dot_product, which the matrix-unit and integer-dot
# kernel families need (docs/architecture.md, decision 2). CMake picks the build up by itself (cmake/glslang.cmake).
# The system is left untouched: apt reads a private source list and package lists under the cache
# directory, and only the source is downloaded (Debian's archive checks its hashes and signature).
# Needs cmake, g++, make and python3 (glslang's build generates a header with it).
# VKG_NO_GLSLANG_BUILD=1 skips it; a failure is reported and leaves the project on the old compiler.
set -euo pipefail
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/vkgemma"
PREFIX="$CACHE/glslang-15"
EXE="$PREFIX/bin/glslangValidator"

if [ "${VKG_NO_GLSLANG_BUILD:-0}" = 1 ]; then exit 0; fi
if [ -x "$EXE" ] && "$EXE" --version >/dev/null 2>&1; then exit 0; fi

WORK="$CACHE/glslang-build"
rm -rf "$WORK"
mkdir -p "$WORK/lists/partial" "$WORK/src"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
  >"$WORK/sources.list"
# Private source list, package lists and no package cache: the system's apt state is not read or written.
APT=(apt-get -qq -o "Dir::Etc::SourceList=$WORK/sources.list" -o Dir::Etc::SourceParts=/dev/null
     -o "Dir::State::Lists=$WORK/lists" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=)
# As root, apt drops to the _apt user for downloads, which cannot write to a private directory.
[ "$(id -u)" -eq 0 ] && APT+=(-o APT::Sandbox::User=root)

start=$(date +%s)
echo "building glslangValidator 15 from Debian 13's glslang source into $PREFIX (a few minutes, once)"
"${APT[@]}" update
(cd "$WORK/src" && "${APT[@]}" source --download-only glslang >/dev/null)
# Upstream's source as released: Debian's patches only concern its packaging (pkg-config files
# and linking against SPIRV-Tools, which the optimizer-less build does not use).
mkdir -p "$WORK/src/glslang"
tar -xzf "$WORK"/src/glslang_*.orig.tar.gz -C "$WORK/src/glslang" --strip-components=1
# Only the standalone compiler: no optimizer (vkgemma never asks for -O, and it would need
# SPIRV-Tools), no HLSL, no tests.
# Its compiler warnings are glslang's business: the log is kept only when the build fails.
if ! { cmake -S "$WORK/src/glslang" -B "$WORK/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-w \
         -DENABLE_OPT=OFF -DENABLE_HLSL=OFF -DGLSLANG_TESTS=OFF -DBUILD_EXTERNAL=OFF \
         -DENABLE_SPVREMAPPER=OFF -DGLSLANG_ENABLE_INSTALL=OFF &&
       cmake --build "$WORK/build" -j"$(nproc)" --target glslang-standalone; } >"$WORK/build.log" 2>&1; then
  echo "error: building glslang 15 failed; see $WORK/build.log" >&2
  exit 1
fi
mkdir -p "$PREFIX/bin"
cp "$WORK/build/StandAlone/glslang" "$EXE"
rm -rf "$WORK"
echo "$("$EXE" --version | head -1) in $PREFIX, built in $(( $(date +%s) - start )) s"
