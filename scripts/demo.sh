#!/bin/sh
# A real passwordless login on this machine, against the bundled local auth service: installs what the demo
# needs and is missing (scripts/install-deps.sh demo), builds only the helper (with its network worker) and the
# module (no test suite), starts the local user-pool stand-in and the helper on loopback, and runs pamtester
# (through the real module and libpam, under pam_wrapper) for the account alice. At a terminal you choose the method and type the code
# the local service "sent" (it is shown as it arrives); without a terminal the answers are given
# automatically. It ends by saying where the demo's configuration and the helper's audit line are.
set -eu
. "$(dirname "$0")/as-root.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}
"$top/scripts/install-deps.sh" demo
mkdir -p "$build"
log=$build/demo-build.log
echo "building the helper and the module (log: $log) ..."
if ! BUILD_DIR=$build "$top/scripts/build.sh" --no-tests pam-passwordless-helper pam_passwordless >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "demo: the build failed; the whole log is $log" >&2
  exit 1
fi
if [ -t 0 ] && [ -t 1 ]; then mode=--interactive; else mode=; fi
exec /usr/bin/python3 "$top/tests/pamtester/pamtester_login.py" --build-dir "$build" \
  --work-dir "$build/demo" --show-where $mode
