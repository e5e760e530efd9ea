#!/bin/sh
# Installs what is missing, builds, and runs every test, in four jobs:
#   suite       the CTest suite in ./build: unit tests, the module under pam_wrapper with the real helper,
#               pamtester, valgrind, real sshd/sudo/login in namespaces, the fault matrix, the load test and
#               the replay of every fuzz corpus file
#   package     the Debian package: the upstream tarball, dpkg-buildpackage (source and binary), lintian, then
#               install, enable, log in, the autopkgtest, remove and purge in a throwaway mount namespace, and a
#               nocheck build without the test-only build dependencies (tests/package/check_package.sh)
#   sanitizers  the suite again, built with ASan and UBSan (scripts/test-sanitizers.sh)
#   fuzz        each libFuzzer target for $PP_FUZZ_SECONDS seconds, default 10 (tests/fuzz/run_fuzzers.sh)
#
#   scripts/test.sh [suite|package|sanitizers|fuzz]...      (default: all four, in that order)
#
# Every job runs even when an earlier one failed; the exit status is non-zero when any failed. The package
# job builds the package with its own test run (debian/rules runs the suite unless nocheck), so the suite
# also passes where the package is built.
set -eu
. "$(dirname "$0")/as-root.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}
jobs=${*:-suite package sanitizers fuzz}
for job in $jobs; do
  case "$job" in
  suite | package | sanitizers | fuzz) ;;
  *)
    echo "usage: $0 [suite|package|sanitizers|fuzz]..." >&2
    exit 2
    ;;
  esac
done
"$top/scripts/install-deps.sh"

failed=""
run_job() {
  name=$1
  shift
  start=$(date +%s)
  echo
  echo "######## $name"
  if "$@"; then
    echo "######## $name: passed ($(($(date +%s) - start)) s)"
  else
    echo "######## $name: FAILED ($(($(date +%s) - start)) s)"
    failed="$failed $name"
  fi
}

suite() {
  BUILD_DIR=$build "$top/scripts/build.sh" || return 1
  (cd "$build" && ctest --output-on-failure -j"$(nproc)" --timeout 300 --output-log "$build/ctest.log") || return 1
  "$top/scripts/check-no-skips.sh" "$build/ctest.log"
}
package() {
  /bin/bash "$top/tests/package/check_package.sh" --source-dir "$top" --work-dir "$build/package" --with-tests
}
sanitizers() {
  "$top/scripts/test-sanitizers.sh"
}
fuzz() {
  FUZZ_JOBS=$(nproc) /bin/bash "$top/tests/fuzz/run_fuzzers.sh" "${PP_FUZZ_SECONDS:-10}"
}

for job in $jobs; do
  run_job "$job" "$job"
done
echo
if [ -n "$failed" ]; then
  echo "FAILED:$failed" >&2
  exit 1
fi
echo "all passed: $jobs"
