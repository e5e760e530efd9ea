#!/bin/bash
# Builds the libFuzzer targets with clang-14 (ASan + UBSan) and runs each for a while.
#   tests/fuzz/run_fuzzers.sh [SECONDS-PER-TARGET] [TARGET...]      (default: 60 s, every target)
# Environment: FUZZ_BUILD_DIR (default ./build-fuzz), FUZZ_JOBS (targets run at once, default 1).
# New interesting inputs go to $FUZZ_BUILD_DIR/work/corpus/TARGET (the checked-in seeds are only read), crashes
# to $FUZZ_BUILD_DIR/work/crashes/TARGET/. Exits non-zero when any target crashed, leaked, timed out or broke
# an invariant. After fixing, copy the crashing input into tests/fuzz/corpus/TARGET/ so every test run
# replays it.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-60}
[ $# -gt 0 ] && shift
build=${FUZZ_BUILD_DIR:-$top/build-fuzz}
jobs=${FUZZ_JOBS:-1}
work=$build/work

if ! command -v clang++-14 >/dev/null ||
  [ ! -e "$(clang-14 -print-resource-dir)/lib/linux/libclang_rt.fuzzer-$(uname -m).a" ]; then
  echo "installing clang-14, libclang-rt-14-dev and llvm-14"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    clang-14 libclang-rt-14-dev llvm-14
fi

# Warnings do not stop this build: the gcc build enforces them, and clang's extra ones must not block fuzzing.
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPP_WERROR=OFF -DPP_FUZZ=ON \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzzers

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$top"/tests/fuzz/*_fuzz.cpp; do
    t=$(basename "$f" _fuzz.cpp)
    targets+=("$t")
  done
fi

mkdir -p "$work/logs"
run_one() {
  local t=$1
  mkdir -p "$work/corpus/$t" "$work/crashes/$t"
  # -timeout: one input taking this long is a hang; -rss_limit_mb: a memory blow-up is a finding too.
  "$build/tests/fuzz/${t}_fuzz" "$work/corpus/$t" "$top/tests/fuzz/corpus/$t" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/crashes/$t/" >"$work/logs/$t.log" 2>&1
}

status=0
running=0
for t in "${targets[@]}"; do
  if [ ! -x "$build/tests/fuzz/${t}_fuzz" ]; then
    echo "no such target: $t" >&2
    exit 2
  fi
  echo "fuzzing $t for ${seconds}s"
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || status=1
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || status=1
  running=$((running - 1))
done

printf '\n%-20s %10s %8s %8s %8s %8s %8s  %s\n' target runs exec/s cov ft corpus rss-MB result
for t in "${targets[@]}"; do
  log=$work/logs/$t.log
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
  speed=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
  rss=$(grep -oE 'stat::peak_rss_mb: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
  cov=$(echo "$last" | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+' || echo "?")
  ft=$(echo "$last" | grep -oE 'ft: [0-9]+' | grep -oE '[0-9]+' || echo "?")
  corp=$(echo "$last" | grep -oE 'corp: [0-9]+' | grep -oE '[0-9]+' || echo "?")
  crashes=$(find "$work/crashes/$t" -type f | wc -l)
  result=ok
  if [ "$crashes" -gt 0 ] || grep -qE '^==[0-9]+==ERROR|runtime error:|invariant broken|deadly signal' "$log"; then
    result="FAILED: see $log and $work/crashes/$t/"
    status=1
  fi
  printf '%-20s %10s %8s %8s %8s %8s %8s  %s\n' "$t" "$runs" "$speed" "$cov" "$ft" "$corp" "$rss" "$result"
done
exit $status
