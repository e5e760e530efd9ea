#!/bin/sh
# Runs a test command with a /tmp of its own: a fresh folder under BASE (in the build tree), bound on /tmp in a
# private mount namespace, and removed afterwards. Only as root; otherwise (the tests that need pam_wrapper
# skip without root anyway) the command runs as it is.
#
#   private_tmp.sh BASE COMMAND [ARGUMENT...]
#
# Why: pam_wrapper makes its working folder /tmp/pam.N by looking for a free N and then creating it, with no
# lock. Two tests whose processes load it at the same moment (ctest -j) can pick the same folder; when one of
# them ends it deletes the folder the other still reads its PAM services from, and that login fails with
# "pam_start: failed to initialize handlers". With a /tmp per test no two tests share those folders, and
# whatever pam_wrapper leaves behind stays in the build tree.
set -eu
base=$1
shift
if [ "$(id -u)" -ne 0 ]; then
  exec "$@"
fi
# A /tmp of its own would hide a build tree (BASE lies in it) or a source tree (this script lies in it) under
# /tmp, and the programs and scripts of the test with them.
for path in "$base" "$0"; do
  case "$(realpath -m "$path")/" in
  /tmp/*)
    echo "private_tmp.sh: $path is under /tmp, which a private /tmp would hide; running with the shared /tmp" >&2
    exec "$@"
    ;;
  esac
done
mkdir -p "$base"
dir=$(mktemp -d "$base/XXXXXXXX")
chmod 1777 "$dir"
status=0
unshare --mount --propagation private -- /bin/sh -c 'mount --bind "$0" /tmp && exec "$@"' "$dir" "$@" ||
  status=$?
rm -rf "$dir"
exit "$status"
