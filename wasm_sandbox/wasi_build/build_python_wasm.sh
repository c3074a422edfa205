#!/usr/bin/env bash
# Build the sandbox's interpreter: CPython 3.13 for wasm32-wasip1, optimised (-O3, CPython's own
# release flags, ThinLTO at -O3, wasm-opt -O3), with zlib, bz2, lzma and sqlite3 built in, and
# the sandbox's own _codeact_host module (host calls as WebAssembly imports: _codeact_host.c
# here), plus its standard library as a zip of compiled modules. The only way the shipped files
# in wasm_sandbox/interpreter/ are made; run it as root on Debian 12 (bookworm):
#
#     bash wasm_sandbox/wasi_build/build_python_wasm.sh [WORK_DIR]
#
# Inputs, all from Debian's archive and checked by SHA-256 before use:
#   - CPython 3.13.5 source: python3.13_3.13.5.orig.tar.xz from Debian 13 (trixie) sources, which
#     is python.org's release tarball unchanged (its upstream .asc signature ships beside it);
#   - the libraries behind zlib, _bz2, _lzma and _sqlite3, as the upstream tarballs that trixie's
#     source packages carry (.orig.tar.*; Debian's own patches are not applied, as for CPython):
#     zlib 1.3.1, bzip2 1.0.8, xz-utils 5.8.1 (liblzma only) and sqlite3 3.46.1 (the full source
#     tree: its own tools make the single-file amalgamation natively, with tclsh, which is then
#     compiled for WASI: one thread, no loadable extensions, no WAL, no mmap, temporary tables in
#     memory since the guest has no writable folder). Each is compiled with the same clang and
#     flags as CPython into a private prefix under WORK_DIR and linked statically;
#   - wasi-libc 0.0~git20241209.574b88d-2 (trixie, architecture "all": headers and libraries only,
#     unpacked into a private sysroot, never installed);
#   - clang-19, lld-19, llvm-19, libclang-rt-19-dev-wasm32 (compiler-rt builtins), tcl and
#     binaryen (wasm-opt, run on the linked python.wasm) from bookworm;
#   - a build Python of the same minor version (3.13), found as python3.13 on PATH (or as pyenv's
#     3.13.x) or given in $BUILD_PYTHON: CPython cross-builds freeze their start-up modules with it.
# Debian's trixie lists are read through a private apt configuration under WORK_DIR, so the
# machine's own apt sources are left as they were. The mirror is the machine's own: the URI of the
# first `deb` entry for bookworm in its apt configuration (as `apt-get indextargets` reads it from
# /etc/apt/sources.list and /etc/apt/sources.list.d/, either format), with the suite trixie;
# set $DEBIAN_MIRROR to use another. No mirror is named here: the inputs are checked by hash, so
# the output does not depend on which mirror served them. A library's tarball alone is fetched
# (apt's own downloader, at the URI apt-get prints for the source package), so a Debian revision
# that moved on does not matter while the upstream tarball is the same.
#
# Output (wasm_sandbox/interpreter/): python.wasm, lib/python313.zip (the stdlib, .pyc only,
# stored uncompressed: zipimport then reads without inflating, see pack_stdlib.py), BUILD.json
# (inputs, flags, hashes). Two builds in different folders give the same bytes. Then update
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
# Libraries: source package, upstream version, .orig tarball, its SHA-256.
LIBS=(
  "zlib 1.3.1 zlib_1.3.dfsg+really1.3.1.orig.tar.gz 60dd315c07f616887caa029408308a018ace66e3d142726a97db164b3b8f69fb"
  "bzip2 1.0.8 bzip2_1.0.8.orig.tar.gz ab5a03176ee106d3f0fa90e381da478ddae405918153cca248e682cd0c4a2269"
  "xz-utils 5.8.1 xz-utils_5.8.1.orig.tar.xz 0b54f79df85912504de0b14aec7971e3f964491af1812d83447005807513cd9e"
  "sqlite3 3.46.1 sqlite3_3.46.1.orig.tar.xz d0cdd2ece271b29e7ce18095745d892517ee26d0f270065b3a25c2e9eb11639c"
)
# SQLite for a guest with one thread and no writable folder (sqlite3.h sets the first three for
# __wasi__ too); math functions as in SQLite's own builds.
SQLITE_FLAGS="-DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_WAL \
-DSQLITE_MAX_MMAP_SIZE=0 -DSQLITE_TEMP_STORE=3 -DSQLITE_ENABLE_MATH_FUNCTIONS"
LLVM=19
# CPython's configure adds its release flags (-DNDEBUG -g -O3 -Wall; the VMware build we used
# before had appended -O0). On top: ThinLTO, bulk-memory (memcpy/memset as single wasm
# instructions) and SIMD128, all enabled by default in wasmtime; measured against plain -O3 in
# one interleaved run (load 8.8): start-up to `pass` 35 ms instead of 85 ms, the 200k dict/str
# loop 1,020 ms instead of 1,074 ms. ThinLTO optimises at link time, and wasm-ld does that at
# -O2 unless told (clang passes it no level): --lto-O3. Then binaryen's wasm-opt -O3. The 200k
# dict/str loop in CPU ms per run, medians of 9 interleaved rounds (load 3.2, anchor 72.7):
# ThinLTO at the default 137.3, with --lto-O3 130.8, plus wasm-opt -O3 125.0 (-O4: no better);
# full LTO 140.4, plus wasm-opt 132.1; pymalloc (off by default on WASI) and -O2 were no faster.
# The prefix map and --strip-debug keep the output reproducible (two builds in different
# folders gave the same bytes) and small.
EXTRA_CFLAGS="-ffile-prefix-map=$WORK=/build -mbulk-memory -msimd128 -flto=thin"
EXTRA_LDFLAGS="-Wl,--strip-debug -Wl,--lto-O3 -flto=thin -mbulk-memory -msimd128"
WASM_OPT_FLAGS="-O3"

mkdir -p "$WORK"
cd "$WORK"

# -- toolchain ------------------------------------------------------------------------------
if ! command -v clang-$LLVM >/dev/null || ! command -v wasm-ld-$LLVM >/dev/null \
   || ! command -v llvm-ar-$LLVM >/dev/null || ! command -v tclsh >/dev/null \
   || ! command -v wasm-opt >/dev/null \
   || [ ! -f /usr/lib/llvm-$LLVM/lib/clang/$LLVM/lib/wasi/libclang_rt.builtins-wasm32.a ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang-$LLVM lld-$LLVM \
    libclang-rt-$LLVM-dev-wasm32 llvm-$LLVM tcl binaryen
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

missing=0
for file in "$PY_ORIG" "$WASI_LIBC_DEB"; do [ -f "$file" ] || missing=1; done
for lib in "${LIBS[@]}"; do read -r _ _ file _ <<< "$lib"; [ -f "$file" ] || missing=1; done
if [ "$missing" = 1 ]; then
  apt-get "${APT[@]}" update -q
fi
if [ ! -f "$PY_ORIG" ] || [ ! -f "$WASI_LIBC_DEB" ]; then
  apt-get "${APT[@]}" source --download-only "python3.13=$PY_DEB_VERSION"
  apt-get "${APT[@]}" download "wasi-libc=0.0~git20241209.574b88d-2"
fi
for lib in "${LIBS[@]}"; do
  read -r package _ file sha <<< "$lib"
  if [ ! -f "$file" ]; then
    uri="$(apt-get "${APT[@]}" source --print-uris "$package" 2>/dev/null \
      | awk -v f="$file" '$2 == f { gsub("\047", "", $1); print $1; exit }')"
    [ -n "$uri" ] || { echo "Debian's $package source package has no $file" >&2; exit 1; }
    /usr/lib/apt/apt-helper "${APT[@]}" download-file "$uri" "$WORK/$file" "SHA256:$sha"
  fi
  check "$file" "$sha"
done
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

# python3.13 on PATH may be a version manager's shim that fails outside a configured folder.
if [ -z "${BUILD_PYTHON:-}" ]; then
  for candidate in "$(command -v python3.13 || true)" "$HOME"/.pyenv/versions/3.13.*/bin/python3.13; do
    if [ -x "$candidate" ] && "$candidate" -c '' 2>/dev/null; then
      BUILD_PYTHON="$candidate"
      break
    fi
  done
fi
"${BUILD_PYTHON:?no python3.13 found; set BUILD_PYTHON}" \
  -c 'import sys; assert sys.version_info[:2] == (3, 13), sys.version'

export SOURCE_DATE_EPOCH=1749081600  # 2025-06-05, the day 3.13.5 was cut: no build dates
TARGET=wasm32-wasip1
CC="clang-$LLVM --target=$TARGET --sysroot=$WORK/sysroot/usr -resource-dir=$WORK/resource"

# -- libraries: static, into a private prefix ------------------------------------------------
DEPS="$WORK/deps"
LIB_CFLAGS="-O3 -DNDEBUG $EXTRA_CFLAGS"
LIB_TOOLS=(AR="llvm-ar-$LLVM" RANLIB="llvm-ranlib-$LLVM")
rm -rf "$DEPS" "$WORK/libsrc"
mkdir -p "$DEPS/include" "$DEPS/lib" "$WORK/libsrc"
cd "$WORK/libsrc"
for lib in "${LIBS[@]}"; do read -r _ _ file _ <<< "$lib"; tar xf "$WORK/$file"; done
(
  cd zlib-1.3.1
  env CC="$CC" CFLAGS="$LIB_CFLAGS" "${LIB_TOOLS[@]}" CHOST=$TARGET ./configure --static \
    --prefix="$DEPS"
  make -j"$JOBS" libz.a
  cp libz.a "$DEPS/lib/" && cp zlib.h zconf.h "$DEPS/include/"
) > "$WORK/zlib.log" 2>&1 || { tail -n 30 "$WORK/zlib.log"; exit 1; }
(
  cd bzip2-1.0.8
  make -j"$JOBS" libbz2.a CC="$CC" CFLAGS="$LIB_CFLAGS -D_FILE_OFFSET_BITS=64" \
    "${LIB_TOOLS[@]}"
  cp libbz2.a "$DEPS/lib/" && cp bzlib.h "$DEPS/include/"
) > "$WORK/bzip2.log" 2>&1 || { tail -n 30 "$WORK/bzip2.log"; exit 1; }
(
  cd xz-5.8.1
  env CC="$CC" CFLAGS="$LIB_CFLAGS" "${LIB_TOOLS[@]}" ./configure --host=$TARGET \
    --prefix="$DEPS" --disable-shared --enable-static --enable-threads=no --disable-xz \
    --disable-xzdec --disable-lzmadec --disable-lzmainfo --disable-lzma-links \
    --disable-scripts --disable-doc --disable-nls --disable-sandbox
  make -j"$JOBS" -C src/liblzma
  make -C src/liblzma install
) > "$WORK/xz.log" 2>&1 || { tail -n 30 "$WORK/xz.log"; exit 1; }
(
  mkdir -p sqlite-amalgamation && cd sqlite-amalgamation
  CC="clang-$LLVM" ../sqlite3-3.46.1/configure --disable-tcl  # native: its tools run here
  make sqlite3.c
  $CC $LIB_CFLAGS $SQLITE_FLAGS -c sqlite3.c -o sqlite3.o
  "llvm-ar-$LLVM" rcs "$DEPS/lib/libsqlite3.a" sqlite3.o
  cp sqlite3.h "$DEPS/include/"
) > "$WORK/sqlite.log" 2>&1 || { tail -n 30 "$WORK/sqlite.log"; exit 1; }

# -- configure and build CPython --------------------------------------------------------------
mkdir -p "$SRC/cross-build/$TARGET/Modules"
cd "$SRC/cross-build/$TARGET"
# _codeact_host (ours, in this folder): the sandbox's host calls as two WebAssembly imports,
# built in through Setup.local (configure keeps a Setup.local that is already there).
cp "$HERE/_codeact_host.c" "$SRC/Modules/_codeact_host.c"
printf '# The sandbox bridge (wasm_sandbox/wasi_build/_codeact_host.c)\n_codeact_host _codeact_host.c\n' \
  > Modules/Setup.local
CONFIG_SITE="$SRC/Tools/wasm/config.site-wasm32-wasi" \
CC="$CC" CPP="$CC -E" AR="llvm-ar-$LLVM" RANLIB="llvm-ranlib-$LLVM" \
CFLAGS="$EXTRA_CFLAGS" LDFLAGS="$EXTRA_LDFLAGS" \
PKG_CONFIG_PATH="" PKG_CONFIG_LIBDIR="$WORK/sysroot/usr/lib/$TARGET/pkgconfig" \
ZLIB_CFLAGS="-I$DEPS/include" ZLIB_LIBS="-L$DEPS/lib -lz" \
BZIP2_CFLAGS="-I$DEPS/include" BZIP2_LIBS="-L$DEPS/lib -lbz2" \
LIBLZMA_CFLAGS="-I$DEPS/include" LIBLZMA_LIBS="-L$DEPS/lib -llzma" \
LIBSQLITE3_CFLAGS="-I$DEPS/include" LIBSQLITE3_LIBS="-L$DEPS/lib -lsqlite3" \
  ../../configure --host=$TARGET --build="$(../../config.guess)" \
    --with-build-python="$BUILD_PYTHON" --disable-test-modules --without-ensurepip \
    > "$WORK/configure.log" 2>&1 || { tail -n 30 "$WORK/configure.log"; exit 1; }
for module in zlib _bz2 _lzma _sqlite3; do
  grep -q "checking for stdlib extension module $module\.\.\. yes" "$WORK/configure.log" \
    || { grep "module $module" "$WORK/configure.log" >&2; exit 1; }
done
# python.wasm and the sysconfig data only: `make all` would also run the build Python against
# this source's Lib/, which fails when their patch versions differ (and is not needed here).
make -j"$JOBS" python.wasm pybuilddir.txt > "$WORK/make.log" 2>&1 \
  || { tail -n 40 "$WORK/make.log"; exit 1; }
# Built in (WASI has no shared modules): each one's init function is in the inittab.
for module in zlib _bz2 _lzma _sqlite3 _codeact_host; do
  grep -q "PyInit_$module(void)" Modules/config.c \
    || { echo "$module is not built into python.wasm" >&2; exit 1; }
done

# -- stdlib zip and manifest ----------------------------------------------------------------
mkdir -p "$OUT"
# The guest finds its prefix by these landmarks (else getpath warns on every start-up).
mkdir -p "$OUT/lib/python3.13/lib-dynload"
touch "$OUT/lib/python3.13/lib-dynload/.keep"
# Features as clang wrote them in the module's target_features section.
wasm-opt $WASM_OPT_FLAGS python.wasm -o python.opt.wasm
cp python.opt.wasm "$OUT/python.wasm"
SYSCONFIG_DIR="$(cat pybuilddir.txt)"
"$BUILD_PYTHON" "$HERE/pack_stdlib.py" "$SRC/Lib" "$SYSCONFIG_DIR" "$OUT/lib/python313.zip" \
  "$WORK=/build"
"$BUILD_PYTHON" - "$OUT" "$PY_ORIG" "$PY_ORIG_SHA256" "$WASI_LIBC_DEB" "$WASI_LIBC_SHA256" \
  "$(clang-$LLVM --version | head -n 1)" "${EXTRA_CFLAGS//$WORK/<WORK_DIR>}" "$EXTRA_LDFLAGS" \
  "$BUILD_PYTHON" "${LIB_CFLAGS//$WORK/<WORK_DIR>}" "$SQLITE_FLAGS" \
  "wasm-opt $WASM_OPT_FLAGS ($(wasm-opt --version))" "${LIBS[@]}" <<'PY'
import hashlib, json, subprocess, sys
out, src, src_sha, libc, libc_sha, clang, cflags, ldflags, build_python = sys.argv[1:10]
lib_cflags, sqlite_flags, wasm_opt, libs = sys.argv[10], sys.argv[11], sys.argv[12], sys.argv[13:]
def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()
config = open("config.log", encoding="utf-8", errors="replace").read()
opt = next((l.split("=", 1)[1].strip("'") for l in config.splitlines() if l.startswith("OPT=")), "")
build = {
    "python": "3.13.5", "target": "wasm32-wasip1",
    "source": {"file": src, "sha256": src_sha, "from": "Debian trixie source package python3.13"},
    "wasi_libc": {"file": libc, "sha256": libc_sha},
    "libraries": [
        {"name": package, "version": version, "file": file, "sha256": sha,
         "from": f"Debian trixie source package {package}"}
        for package, version, file, sha in (lib.split() for lib in libs)
    ],
    "library_cflags": lib_cflags, "sqlite_flags": " ".join(sqlite_flags.split()),
    "compiler": clang, "opt": opt, "extra_cflags": cflags, "extra_ldflags": ldflags,
    "post_link": wasm_opt,
    "build_python": subprocess.check_output([build_python, "-VV"], text=True).strip(),
    "python_wasm_sha256": sha(f"{out}/python.wasm"),
    "stdlib_zip_sha256": sha(f"{out}/lib/python313.zip"),
}
json.dump(build, open(f"{out}/BUILD.json", "w"), indent=2)
print(json.dumps(build, indent=2))
PY
