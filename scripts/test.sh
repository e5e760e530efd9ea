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
#   scripts/test.sh [suite|package|sanitizers|fuzz]...      (default: package, sanitizers, fuzz)
#
# Every job runs even when an earlier one failed; the exit status is non-zero when any failed. The package
# job builds the package with its own test run (debian/rules runs the suite unless nocheck): run as root, as
# here, that is the whole suite, every test of which must run (check-no-skips.sh on the build log, as the
# suite job checks its own). So by default the suite runs once, inside the package build, and not a second
# time in ./build; `scripts/test.sh suite` runs it alone, and naming both jobs runs both.
set -eu
. "$(dirname "$0")/as-root.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}
jobs=${*:-package sanitizers fuzz}
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
# Each job's output is also kept in $build/jobs/NAME.log. A CI log is often read from its end only, so a failed
# job is summed up again after all jobs have run, right before the last line: which tests failed or timed out
# and the job's own last lines (digest below).
logs=$build/jobs
mkdir -p "$logs"
run_job() {
  name=$1
  shift
  start=$(date +%s)
  echo
  echo "######## $name"
  # Into the file, and shown from it as it grows: not through a pipe, whose end a process the job left
  # behind could hold open (tail stops when the job's own process ends).
  : >"$logs/$name.log"
  "$@" >>"$logs/$name.log" 2>&1 &
  pid=$!
  tail -n +1 -f --pid="$pid" "$logs/$name.log" &
  shown=$!
  rc=0
  wait "$pid" || rc=$?
  wait "$shown" || true
  if [ "$rc" -eq 0 ]; then
    echo "######## $name: passed ($(($(date +%s) - start)) s)"
  else
    echo "######## $name: FAILED ($(($(date +%s) - start)) s)"
    failed="$failed $name"
  fi
}
# What made a job fail, from its log and the logs it names: CTest's failed and timed-out tests (the suite's
# own log, the package build's log, the sanitizer build's log), the failing checks' FAIL lines, and its end.
digest() {
  name=$1
  echo
  echo "######## why $name failed (its whole output: $logs/$name.log)"
  for log in "$logs/$name.log" $(grep -oE '(/[^ ;:]+)?/(build|ctest)\.log' "$logs/$name.log" | sort -u); do
    [ -r "$log" ] || continue
    grep -E '[*]{3}(Failed|Timeout|Exception)|^[[:space:]]*[0-9]+ - .*[(](Failed|Timeout|SEGFAULT|Subprocess aborted|Child aborted|Exception)[)]|^FAIL: |^ *Failed  ' "$log" |
      sort -u | head -n 40 | sed "s|^|  $(basename "$log"): |"
  done
  echo "  the last lines of its output:"
  tail -n 25 "$logs/$name.log" | sed 's/^/  | /'
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
for name in $failed; do
  digest "$name"
done
if [ -n "$failed" ]; then
  echo "FAILED:$failed" >&2
  exit 1
fi
echo "all passed: $jobs"
