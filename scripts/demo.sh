#!/bin/sh
# A real passwordless login on this machine, against the bundled local auth service:
# installs what is missing, builds, starts the local user-pool stand-in and the helper on loopback, and runs
# pamtester (through the real module and libpam, under pam_wrapper) for the account alice. At a terminal you
# choose the method and type the code the local service "sent" (it is shown as it arrives); without a terminal
# the answers are given automatically.
set -eu
. "$(dirname "$0")/as-root.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}
"$top/scripts/install-deps.sh"
BUILD_DIR=$build "$top/scripts/build.sh"
if [ -t 0 ] && [ -t 1 ]; then mode=--interactive; else mode=; fi
exec /usr/bin/python3 "$top/tests/pamtester/pamtester_login.py" --build-dir "$build" \
  --work-dir "$build/demo" $mode
