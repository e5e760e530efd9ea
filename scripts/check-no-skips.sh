#!/bin/sh
# Fails when a CTest log shows a test that did not run: reported skipped (GTEST_SKIP, exit 77) or not run at
# all. A skipped test has proved nothing, and where every tool is installed and the run is root (CI, the
# package build as scripts/test.sh runs it) nothing may skip.
#
#   check-no-skips.sh LOG
set -eu
[ $# -eq 1 ] || { echo "usage: $0 LOG" >&2; exit 2; }
[ -r "$1" ] || { echo "$0: cannot read $1" >&2; exit 2; }
if grep -E '[*]+Skipped|[(]Skipped[)]|Not Run' "$1"; then
  echo "the tests above did not run (log: $1)" >&2
  exit 1
fi
