#!/usr/bin/env bash
# Build the sandbox's interpreter: CPython 3.13 for wasm32-wasip1, optimised (-O3, CPython's own
# release flags, ThinLTO), plus its standard library as a zip of compiled modules. The only way the
# shipped files in wasm_sandbox/interpreter/ are made; run it as root on Debian 12 (bookworm):
#
#     bash wasm_sandbox/wasi_build/build_python_wasm.sh [WORK_DIR]
#
# Inputs, all from Debian's archive and checked by SHA-256 before use:
#   - CPython 3.13.5 source: python3.13_3.13.5.orig.tar.xz from Debian 13 (trixie) sources, which
#     is python.org's release tarball unchanged (its upstream .asc signature ships beside it);
#   - wasi-libc 0.0~git20241209.574b88d-2 (trixie, architecture "all": headers and libraries only,
#     unpacked into a private sysroot, never installed);
#   - clang-19, lld-19 and libclang-rt-19-dev-wasm32 (compiler-rt builtins) from bookworm;
#   - a build Python of the same minor version (3.13), found as python3.13 on PATH or given
#     in $BUILD_PYTHON: CPython cross-builds freeze their start-up modules with it.
# Debian's trixie lists are read through a private apt configuration under WORK_DIR, so the
# machine's own apt sources are left as they were. The mirror is the machine's own: the URI of the
# first `deb` entry for bookworm in its apt configuration (as `apt-get indextargets` reads it from
# /etc/apt/sources.list and /etc/apt/sources.list.d/, either format), with the suite trixie;
# set $DEBIAN_MIRROR to use another. No mirror is named here: the inputs are checked by hash, so
# the output does not depend on which mirror served them.
#
# Output (wasm_sandbox/interpreter/): python.wasm, lib/python313.zip (the stdlib, .pyc only,
# stored uncompressed: the guest has no zlib), BUILD.json (inputs, flags, hashes). Then update
# runtime.PINNED_SHA256 / STDLIB_SHA256 from BUILD.json.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="$(cd "$HERE/.." && pwd)/interpreter"
WORK="${1:-/tmp/codeact-python-wasm}"
JOBS="${JOBS:-$(nproc)}"

PY_VERSION=3.13.5
PY_DEB_VERSION=3.13.5-2+deb13u5
PY_ORIG=python3.13_${PY_VERSION}.orig.tar.xz
PY_ORIG_SHA256=93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640
WASI_LIBC_DEB=wasi-libc_0.0~git20241209.574b88d-2_all.deb
WASI_LIBC_SHA256=b7716260051d289248b7667f81fa2792c125d888ff51da3fa09c6272cc0bd11d
LLVM=19
# CPython's configure adds its release flags (-DNDEBUG -g -O3 -Wall; the VMware build we used
# before had appended -O0). On top: ThinLTO, bulk-memory (memcpy/memset as single wasm
# instructions) and SIMD128, all enabled by default in wasmtime; measured against plain -O3 in
# one interleaved run (load 8.8): start-up to `pass` 35 ms instead of 85 ms, the 200k dict/str
# loop 1,020 ms instead of 1,074 ms. The prefix map and --strip-debug keep the output
# reproducible (two builds in different folders gave the same bytes) and small.
EXTRA_CFLAGS="-ffile-prefix-map=$WORK=/build -mbulk-memory -msimd128 -flto=thin"
EXTRA_LDFLAGS="-Wl,--strip-debug -flto=thin -mbulk-memory -msimd128"

mkdir -p "$WORK"
cd "$WORK"

# -- toolchain ------------------------------------------------------------------------------
if ! command -v clang-$LLVM >/dev/null || ! command -v wasm-ld-$LLVM >/dev/null \
   || [ ! -f /usr/lib/llvm-$LLVM/lib/clang/$LLVM/lib/wasi/libclang_rt.builtins-wasm32.a ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang-$LLVM lld-$LLVM \
    libclang-rt-$LLVM-dev-wasm32 llvm-$LLVM
fi

# The machine's Debian mirror: the first `deb` index target of the bookworm suite.
MIRROR="${DEBIAN_MIRROR:-$(apt-get indextargets --format '$(TARGET_OF) $(RELEASE) $(REPO_URI)' \
  | awk '$1 == "deb" && $2 == "bookworm" { print $3; exit }')}"
if [ -z "$MIRROR" ]; then
  echo "No 'deb' entry for bookworm in this machine's apt sources; set DEBIAN_MIRROR." >&2
  exit 1
fi
MIRROR="${MIRROR%/}"
APT_DIR="$WORK/apt"
mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
cat > "$APT_DIR/sources.list" <<SOURCES
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR trixie main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR trixie main
SOURCES
APT=(-o "Dir::Etc::SourceList=$APT_DIR/sources.list" -o "Dir::Etc::SourceParts=-"
     -o "Dir::State::Lists=$APT_DIR/lists" -o "Dir::Cache=$APT_DIR/cache")

check() {  # check FILE SHA256
  echo "$2  $1" | sha256sum -c --quiet - || { echo "SHA-256 of $1 is wrong" >&2; exit 1; }
}

if [ ! -f "$PY_ORIG" ] || [ ! -f "$WASI_LIBC_DEB" ]; then
  apt-get "${APT[@]}" update -q
  apt-get "${APT[@]}" source --download-only "python3.13=$PY_DEB_VERSION"
  apt-get "${APT[@]}" download "wasi-libc=0.0~git20241209.574b88d-2"
fi
check "$PY_ORIG" "$PY_ORIG_SHA256"
check "$WASI_LIBC_DEB" "$WASI_LIBC_SHA256"

SRC="$WORK/Python-$PY_VERSION"
rm -rf "$SRC" "$WORK/sysroot" "$WORK/resource"
tar xf "$PY_ORIG"
dpkg -x "$WASI_LIBC_DEB" "$WORK/sysroot"
# clang looks for the wasm builtins under its resource dir by target triple; Debian ships them
# under lib/wasi/. A private resource dir points at both.
mkdir -p "$WORK/resource/lib/wasm32-unknown-wasip1"
ln -s /usr/lib/llvm-$LLVM/lib/clang/$LLVM/include "$WORK/resource/include"
ln -s /usr/lib/llvm-$LLVM/lib/clang/$LLVM/lib/wasi/libclang_rt.builtins-wasm32.a \
  "$WORK/resource/lib/wasm32-unknown-wasip1/libclang_rt.builtins.a"

BUILD_PYTHON="${BUILD_PYTHON:-$(command -v python3.13)}"
"$BUILD_PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 13), sys.version'

# -- configure and build --------------------------------------------------------------------
TARGET=wasm32-wasip1
CC="clang-$LLVM --target=$TARGET --sysroot=$WORK/sysroot/usr -resource-dir=$WORK/resource"
mkdir -p "$SRC/cross-build/$TARGET"
cd "$SRC/cross-build/$TARGET"
export SOURCE_DATE_EPOCH=1749081600  # 2025-06-05, the day 3.13.5 was cut: no build dates
CONFIG_SITE="$SRC/Tools/wasm/config.site-wasm32-wasi" \
CC="$CC" CPP="$CC -E" AR="llvm-ar-$LLVM" RANLIB="llvm-ranlib-$LLVM" \
CFLAGS="$EXTRA_CFLAGS" LDFLAGS="$EXTRA_LDFLAGS" \
PKG_CONFIG_PATH="" PKG_CONFIG_LIBDIR="$WORK/sysroot/usr/lib/$TARGET/pkgconfig" \
  ../../configure --host=$TARGET --build="$(../../config.guess)" \
    --with-build-python="$BUILD_PYTHON" --disable-test-modules --without-ensurepip \
    > "$WORK/configure.log" 2>&1 || { tail -n 30 "$WORK/configure.log"; exit 1; }
# python.wasm and the sysconfig data only: `make all` would also run the build Python against
# this source's Lib/, which fails when their patch versions differ (and is not needed here).
make -j"$JOBS" python.wasm pybuilddir.txt > "$WORK/make.log" 2>&1 \
  || { tail -n 40 "$WORK/make.log"; exit 1; }

# -- stdlib zip and manifest ----------------------------------------------------------------
mkdir -p "$OUT"
# The guest finds its prefix by these landmarks (else getpath warns on every start-up).
mkdir -p "$OUT/lib/python3.13/lib-dynload"
touch "$OUT/lib/python3.13/lib-dynload/.keep"
cp python.wasm "$OUT/python.wasm"
SYSCONFIG_DIR="$(cat pybuilddir.txt)"
"$BUILD_PYTHON" "$HERE/pack_stdlib.py" "$SRC/Lib" "$SYSCONFIG_DIR" "$OUT/lib/python313.zip" \
  "$WORK=/build"
"$BUILD_PYTHON" - "$OUT" "$PY_ORIG" "$PY_ORIG_SHA256" "$WASI_LIBC_DEB" "$WASI_LIBC_SHA256" \
  "$(clang-$LLVM --version | head -n 1)" "${EXTRA_CFLAGS//$WORK/<WORK_DIR>}" "$EXTRA_LDFLAGS" \
  "$BUILD_PYTHON" <<'PY'
import hashlib, json, subprocess, sys
out, src, src_sha, libc, libc_sha, clang, cflags, ldflags, build_python = sys.argv[1:]
def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()
config = open("config.log", encoding="utf-8", errors="replace").read()
opt = next((l.split("=", 1)[1].strip("'") for l in config.splitlines() if l.startswith("OPT=")), "")
build = {
    "python": "3.13.5", "target": "wasm32-wasip1",
    "source": {"file": src, "sha256": src_sha, "from": "Debian trixie source package python3.13"},
    "wasi_libc": {"file": libc, "sha256": libc_sha},
    "compiler": clang, "opt": opt, "extra_cflags": cflags, "extra_ldflags": ldflags,
    "build_python": subprocess.check_output([build_python, "-VV"], text=True).strip(),
    "python_wasm_sha256": sha(f"{out}/python.wasm"),
    "stdlib_zip_sha256": sha(f"{out}/lib/python313.zip"),
}
json.dump(build, open(f"{out}/BUILD.json", "w"), indent=2)
print(json.dumps(build, indent=2))
PY
