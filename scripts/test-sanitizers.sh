#!/bin/sh
# Builds everything with AddressSanitizer and UndefinedBehaviorSanitizer (gcc) into ./build-asan (or
# $ASAN_BUILD_DIR) and runs the whole test suite there. Any sanitizer report fails the test it happens in:
# ASan and LeakSanitizer end the process with an error, and UBSan does too (-fno-sanitize-recover).
# Extra arguments go to ctest, e.g. `scripts/test-sanitizers.sh -R fuzz_replay`.
set -eu
. "$(dirname "$0")/as-root.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
build=${ASAN_BUILD_DIR:-$top/build-asan}
"$top/scripts/install-deps.sh"

sanitize="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# GCC 12 warns "may be used uninitialized" inside libstdc++'s <regex> and <functional> once the sanitizers
# instrument them (a known false positive of its flow analysis under -fsanitize); every other warning is
# still an error here.
warnings="-Wno-maybe-uninitialized"
# Programs built elsewhere (pamtester, python, sshd) that load an instrumented library, and test programs that
# preload pam_wrapper, need the ASan runtime first in LD_PRELOAD: the tests that preload something put
# PP_ASAN_RUNTIME in front of it. Needed during the build too: listing the PAM tests runs them.
PP_ASAN_RUNTIME=$(gcc -print-file-name=libasan.so)
export PP_ASAN_RUNTIME
# CMake passes these flags to the link step too, so every program and library gets the runtimes.
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS="$sanitize $warnings" -DCMAKE_CXX_FLAGS="$sanitize $warnings" >/dev/null
cmake --build "$build" -j"$(nproc)"

export ASAN_OPTIONS="detect_leaks=1:strict_init_order=1:check_initialization_order=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

cd "$build"
# valgrind cannot run programs built with ASan (both replace the allocator and watch the same memory); the
# valgrind tests run in the normal build.
ctest --output-on-failure -j"$(nproc)" --timeout 900 -E '^valgrind' "$@"
