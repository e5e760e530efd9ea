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
# -O1 -g1 in place of RelWithDebInfo's -O2 -g: the build is this job's longest part, and at -O1 with line
# tables only (function names and lines for every report's stack, no variables) it takes half as long
# (passkey_login_test.cpp: 69 s at -O2 -g, 34 s at -O1 -g1). -O1 is what the sanitizers' own documentation
# suggests; what they check does not depend on it. NDEBUG stays, as in the package's build.
opt="-O1 -g1 -DNDEBUG"
# CMake passes these flags to the link step too, so every program and library gets the runtimes.
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="$opt" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$opt" \
  -DCMAKE_C_FLAGS="$sanitize $warnings" -DCMAKE_CXX_FLAGS="$sanitize $warnings" >/dev/null
cmake --build "$build" -j"$(nproc)"

# Every process writes its reports to a file here, the helper and the module in pamtester included: their
# exit status or stderr is not what their tests check, so a report there would otherwise go unseen.
reports=$build/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"
# Some tests run the command line or a login as another user; they must be able to write a report too.
chmod 1777 "$reports"
# verify_asan_link_order=0: test programs built here run with LD_PRELOAD of pam_wrapper or the virtual key in
# front of the runtime. Neither replaces malloc or free, so ASan's interceptors still come before libc's;
# the check would only refuse those runs.
asan="detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1"
export ASAN_OPTIONS="$asan:verify_asan_link_order=0:log_path=$reports/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan"

# Left out, each for a reason the test itself would have to address:
# - valgrind.*: valgrind cannot run programs built with ASan (both replace the allocator and track the same
#   memory); they run in the normal build.
# - e2e.* and browser.sshd_login: the real sshd, sudo and login load the instrumented module, but sshd clears its child's
#   environment and sudo is setuid, so the ASan runtime cannot be preloaded into them from outside (it
#   would have to go into the namespace's /etc/ld.so.preload, as the virtual key does).
# - the scans of the live helper's memory for secrets (KeptSecrets.NoCodeSessionOrTokenOutlivesItsLogin,
#   PoolPasskeysWithUv.NoPinSessionOrTokenOutlivesAPasskeySignIn, Recovery.AUsedCodeIsGoneFromTheHelpersMemory) and the wiping free()'s own unit tests
#   (WipingFree.*): under ASan the helper's wiping free() is
#   compiled out, freed blocks wait in ASan's quarantine and frames live on its fake stacks, so what they scan
#   is ASan's memory, not the helper's; they run in the normal build.
# - virtual_fido.fido2_tools: Debian's fido2-tools, which exit without closing the (virtual) device; the leak
#   LeakSanitizer then finds in the virtual key is theirs, and no code of the project's runs there.
cd "$build"
status=0
ctest --output-on-failure -j"$(nproc)" --timeout 900 -E '^(valgrind|e2e)[.]|^browser[.]sshd_login$|^virtual_fido[.]fido2_tools$|^KeptSecrets[.]NoCodeSessionOrTokenOutlivesItsLogin$|^PoolPasskeysWithUv[.]NoPinSessionOrTokenOutlivesAPasskeySignIn$|^Recovery[.]AUsedCodeIsGoneFromTheHelpersMemory$|^WipingFree[.]' \
  --output-log "$build/ctest.log" "$@" || status=$?
"$top/scripts/check-no-skips.sh" "$build/ctest.log" || status=1
if [ -n "$(ls -A "$reports")" ]; then
  for f in "$reports"/*; do
    echo "=== $f"
    cat "$f"
  done
  echo "sanitizer reports above (in $reports)" >&2
  [ "$status" -ne 0 ] || status=1
fi
exit "$status"
