#!/bin/sh
# Configures and builds into ./build (or $BUILD_DIR).
#
#   scripts/build.sh                         everything: the programs, the test suite and the fuzz targets
#   scripts/build.sh --no-tests [TARGET]...  the programs only (or only TARGETs), without configuring the
#                                            suite, so its dependencies (GoogleTest, ...) need not be installed
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}
tests=ON
if [ "${1:-}" = --no-tests ]; then
  tests=OFF
  shift
fi
# PP_BUILD_TESTS is given every time: a build tree configured by one kind of run serves the other.
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPP_BUILD_TESTS=$tests >/dev/null
if [ $# -gt 0 ]; then
  cmake --build "$build" -j"$(nproc)" --target "$@"
else
  cmake --build "$build" -j"$(nproc)"
fi
