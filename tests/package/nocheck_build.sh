#!/bin/bash
# Run by check_package.sh inside "unshare --mount --propagation private": proves that the package builds
# with the nocheck profile on a machine without its test-only build dependencies (those marked <!nocheck>
# in debian/control). In this machine's root made throwaway (throwaway_root.sh) it removes every installed
# test-only build dependency, checks that dpkg-checkbuilddeps now refuses the full build and accepts
# "-P nocheck", unpacks the source package and builds it with nocheck, and compares the package's file list
# with the one built with tests. Nothing written here reaches the real file systems.
#
#   nocheck_build.sh DSC DEB
set -euo pipefail

dsc=$1 deb=$2
[ -f "$dsc" ] && [ -f "$deb" ] || { echo "usage: $0 DSC DEB" >&2; exit 2; }

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

here=$(cd "$(dirname "$0")" && pwd)
. "$here/throwaway_root.sh"
copy_sources() {
	mkdir -p "$scratch/srcpkg"
	cp "$dsc" "$(dirname "$dsc")"/*.orig.tar.* "$(dirname "$dsc")"/*.debian.tar.* "$scratch/srcpkg/"
	dpkg-deb -c "$deb" | awk '{ print $1, $6 }' | LC_ALL=C sort >"$scratch/contents-with-tests"
}
throwaway_root copy_sources
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8

cd "$scratch/srcpkg"
dpkg-source -x "$(basename "$dsc")" src >/dev/null
cd src
# The test-only build dependencies, as debian/control names them, and which of them are installed.
test_deps=$(sed -n '/^Build-Depends:/,/^[A-Z]/p' debian/control | grep '<!nocheck>' |
	sed -E 's/^[[:space:]]*([a-z0-9.+-]+).*/\1/' | LC_ALL=C sort -u)
[ -n "$test_deps" ] || fail "debian/control names no test-only build dependency"
installed=""
for p in $test_deps; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q ' installed$' && installed="$installed $p"
done
echo "removing the test-only build dependencies:$installed"
# --force-depends: other packages here (lintian, autopkgtest) depend on some of them; nothing of them is used.
# SUDO_FORCE_REMOVE: sudo's prerm refuses to go on a machine where root has no password.
# shellcheck disable=SC2086
SUDO_FORCE_REMOVE=yes dpkg --remove --force-depends $installed >"$scratch/remove.log" 2>&1 || { cat "$scratch/remove.log"; fail "dpkg --remove"; }
for p in $test_deps; do
	! dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q ' installed$' || fail "$p is still installed"
done
ok "none of the test-only build dependencies is installed:" $test_deps

if dpkg-checkbuilddeps >"$scratch/full.log" 2>&1; then
	fail "dpkg-checkbuilddeps accepts the full build without the test dependencies"
fi
ok "dpkg-checkbuilddeps refuses the full build: $(cat "$scratch/full.log")"
dpkg-checkbuilddeps -P nocheck || fail "dpkg-checkbuilddeps -P nocheck: build dependencies missing (above)"
ok "dpkg-checkbuilddeps -P nocheck: satisfied"

echo "DEB_BUILD_PROFILES=nocheck DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b --build-profiles=nocheck"
start=$(date +%s)
if ! DEB_BUILD_PROFILES=nocheck DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b --build-profiles=nocheck -Jauto \
	>"$scratch/build.log" 2>&1; then
	tail -n 30 "$scratch/build.log"
	fail "the nocheck build failed without the test dependencies"
fi
ok "built with nocheck in $(($(date +%s) - start)) s"
nocheck_deb=$(ls "$scratch"/srcpkg/libpam-passwordless_*.deb)
dpkg-deb -c "$nocheck_deb" | awk '{ print $1, $6 }' | LC_ALL=C sort >"$scratch/contents-nocheck"
diff -u "$scratch/contents-with-tests" "$scratch/contents-nocheck" ||
	fail "the nocheck package holds other files than the package built with tests"
ok "the nocheck package holds the same files, with the same modes"
