#!/bin/bash
# The Debian package, end to end: make the upstream tarball from a copy of the source (deterministic: made
# twice, byte for byte the same), build the source and binary packages with dpkg-buildpackage (the source
# tree stays clean), check both with lintian (any error or warning fails), then install, enable, log in, run
# the autopkgtest, upgrade, remove and purge in a throwaway mount namespace (install_remove.sh), build again
# with the nocheck profile where the test-only build dependencies are gone (nocheck_build.sh), and check that
# nothing on this machine changed.
#
#   check_package.sh --source-dir DIR --work-dir DIR [--with-tests]
#
# Without --with-tests the package is built with DEB_BUILD_OPTIONS=nocheck (scripts/test.sh runs the same
# suite just before); with it, the package build runs the whole test suite as debian/rules says, and any
# failure there fails this check.
#
# Exit 0 pass, 1 fail, 77 skipped (not root, or the package is installed on this machine).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src="" work="" with_tests=false
usage="usage: $0 --source-dir DIR --work-dir DIR [--with-tests]"
while [ $# -gt 0 ]; do
	case "$1" in
	--source-dir) src=$2; shift 2 ;;
	--work-dir) work=$2; shift 2 ;;
	--with-tests) with_tests=true; shift ;;
	*) echo "$usage" >&2; exit 2 ;;
	esac
done
[ -n "$src" ] && [ -n "$work" ] || { echo "$usage" >&2; exit 2; }

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo; echo "=== $*"; }

[ "$(id -u)" -eq 0 ] || skip "needs root: the install test mounts overlays in a mount namespace"
for tool in dpkg-buildpackage dpkg-parsechangelog lintian unshare findmnt pam-auth-update autopkgtest; do
	command -v "$tool" >/dev/null || fail "$tool is missing (packages: dpkg-dev lintian util-linux libpam-runtime autopkgtest)"
done
for name in libpam-passwordless pam-passwordless; do
	if dpkg-query -W -f '${Status}' "$name" 2>/dev/null | grep -q ' installed$'; then
		skip "$name is installed on this machine; the install test needs a machine without it"
	fi
done

src=$(cd "$src" && pwd)
mkdir -p "$work"
work=$(cd "$work" && pwd)
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
upstream=${version%-*}
source_name=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Source)
# The upstream tarball's timestamps: the newest changelog entry's date, so that the same tree gives the same bytes.
source_date=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Timestamp)
arch=$(dpkg --print-architecture)
# The package is built below the work directory, in folders with one-letter names, and its files are then
# moved into the work directory. Not under /tmp, /var, /etc or /run: the package's own test run gives the tests
# that load pam_wrapper a /tmp of their own (tests/private_tmp.sh), and the end-to-end tests cover /etc and /var
# with overlays and /run with a folder of their own, which would hide a build tree there. The names are short
# because those tests' helpers bind Unix sockets below the package's build directory, at most
# "run/<prefix>-<8 hex digits>/helper.sock.new" (tests/pam/CMakeLists.txt), and a socket name may have only
# 107 bytes.
build_root="$work/b"
pkgsrc="$build_root/p"
longest_socket="$pkgsrc/obj-$(dpkg-architecture -qDEB_HOST_GNU_TYPE)/run/pk-00000000/helper.sock.new"
if [ "${#longest_socket}" -gt 107 ]; then
	fail "the package's test sockets would be named like $longest_socket (${#longest_socket} bytes, more than a Unix socket name may have: 107); use a shorter --work-dir (scripts/test.sh: a clone at a shorter path)"
fi
rm -rf "$build_root"
keep_build_root=false
trap '$keep_build_root || rm -rf "$build_root"' EXIT

step "copy of the source in $pkgsrc"
rm -rf "$work/out"
mkdir -p "$pkgsrc" "$work/out"
# What belongs to the source: tracked and untracked files that git does not ignore (the build trees are
# ignored), never what an earlier package build left in debian/, and never this work directory.
work_rel=""
case "$work/" in "$src"/*) work_rel=${work#"$src"/}/ ;; esac
leftovers='^(obj-[^/]*/|debian/(tmp|libpam-passwordless|\.debhelper)/|debian/(files|debhelper-build-stamp|[^/]*\.substvars|[^/]*\.debhelper\.log)$)'
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$src" ls-files -z --cached --others --exclude-standard |
		grep -zvE "$leftovers" |
		{ if [ -n "$work_rel" ]; then grep -zvF -- "$work_rel"; else cat; fi; } |
		while IFS= read -r -d '' f; do [ -e "$src/$f" ] && printf '%s\0' "$f"; done |
		tar -C "$src" --null -T - -cf - | tar -C "$pkgsrc" -xf -
else
	tar -C "$src" --exclude='./build*' --exclude='./obj-*' --exclude=./.git \
		--exclude=./debian/tmp --exclude=./debian/libpam-passwordless --exclude=./debian/.debhelper \
		${work_rel:+--exclude="./${work_rel%/}"} -cf - . | tar -C "$pkgsrc" -xf -
fi
[ -f "$pkgsrc/debian/rules" ] || fail "the copy has no debian/rules"

# The upstream tarball: the copy without debian/, in a fixed order, with fixed owners, modes and times.
orig="$build_root/${source_name}_${upstream}.orig.tar.gz"
make_orig() {
	tar -C "$pkgsrc" --exclude=./debian --sort=name --format=gnu --owner=0 --group=0 --numeric-owner \
		--mode=go-w,a+rX --mtime="@$source_date" --transform="s,^\.,${source_name}-${upstream}," -cf - . |
		gzip -9n >"$1"
}
step "upstream tarball $(basename "$orig")"
make_orig "$orig"
make_orig "$work/orig-again.tar.gz"
cmp "$orig" "$work/orig-again.tar.gz" || fail "two upstream tarballs of the same tree differ"
rm "$work/orig-again.tar.gz"
echo "$(sha256sum "$orig" | cut -c1-64): made twice, identical"

build_options=${DEB_BUILD_OPTIONS:-}
$with_tests || build_options="$build_options nocheck"
# The package's own test run as ctest summed it up: how many passed, and which failed or did not run.
test_summary() {
	awk '/^[0-9]+% tests passed/ { p = 1 } p && /^(make|dh_|   dh_)/ { p = 0 } p' "$work/build.log"
}
step "DEB_BUILD_OPTIONS='$build_options' dpkg-buildpackage -us -uc (source and binary; log: $work/build.log; the packages go to $work/out)"
if ! (cd "$pkgsrc" && DEB_BUILD_OPTIONS=$build_options dpkg-buildpackage -us -uc -Jauto) >"$work/build.log" 2>&1; then
	test_summary
	tail -n 12 "$work/build.log"
	keep_build_root=true
	fail "dpkg-buildpackage failed; see $work/build.log and $build_root"
fi
find "$build_root" -maxdepth 1 -type f -exec mv -t "$work/out" {} +
test_summary
# Run as root, every test must have run: a skipped one proved nothing.
if $with_tests && ! /bin/sh "$here/../../scripts/check-no-skips.sh" "$work/build.log"; then
	fail "tests of the package build did not run (above)"
fi
changes="$work/out/${source_name}_${version}_${arch}.changes"
deb="$work/out/libpam-passwordless_${version}_${arch}.deb"
dsc="$work/out/${source_name}_${version}.dsc"
[ -f "$changes" ] && [ -f "$deb" ] && [ -f "$dsc" ] || fail "no $changes, $deb or $dsc"
grep -q "^Format: 3.0 (quilt)$" "$dsc" || fail "$dsc is not 3.0 (quilt)"

# The .changes names the source package (.dsc) and the binary one: lintian checks both.
step "lintian -i -I -E --pedantic $(basename "$changes") (source and binary)"
lintian_status=0
lintian -i -I -E --pedantic --fail-on error,warning "$changes" >"$work/lintian.log" 2>&1 || lintian_status=$?
cat "$work/lintian.log"
if [ "$lintian_status" -ne 0 ] || grep -qE '^[EW]: ' "$work/lintian.log"; then
	fail "lintian reported errors or warnings (exit $lintian_status)"
fi
echo "lintian: no errors or warnings"

step "contents of $(basename "$deb")"
dpkg-deb --contents "$deb"

# What installing, enabling and removing could touch on this machine, if the namespace leaked.
host_state() {
	local d
	for d in /etc/pam.d /etc/pam_passwordless /etc/systemd /var/lib/pam \
		/var/lib/systemd/deb-systemd-helper-enabled /usr/share/pam-configs; do
		[ -e "$d" ] || { echo "absent $d"; continue; }
		find "$d" -printf '%p %y %m %u %g %l\n' | LC_ALL=C sort
		find "$d" -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum
	done
	dpkg-query -W -f '${Package} ${Status}\n' libpam-passwordless pam-passwordless 2>&1 || true
}

step "install, enable, upgrade, remove and purge in a mount namespace"
host_state >"$work/host-before.txt"
ns_status=0
unshare --mount --propagation private -- /bin/bash "$here/install_remove.sh" "$deb" "$dsc" || ns_status=$?
host_state >"$work/host-after.txt"
if ! diff -u "$work/host-before.txt" "$work/host-after.txt"; then
	fail "the install test changed this machine"
fi
echo "this machine: /etc/pam.d, /etc/systemd, /var/lib/pam and dpkg's record unchanged"
[ "$ns_status" -eq 0 ] || fail "the install test failed (exit $ns_status)"

step "nocheck: build dependencies and a build without the test-only ones, in a mount namespace"
host_state >"$work/host-before.txt"
ns_status=0
unshare --mount --propagation private -- /bin/bash "$here/nocheck_build.sh" "$dsc" "$deb" || ns_status=$?
host_state >"$work/host-after.txt"
if ! diff -u "$work/host-before.txt" "$work/host-after.txt"; then
	fail "the nocheck build changed this machine"
fi
[ "$ns_status" -eq 0 ] || fail "the nocheck build failed (exit $ns_status)"

echo
echo "PASS: source and binary packages built, lintian clean, installed, logged in, autopkgtest passed, removed and purged without a trace; the nocheck build needs no test dependency"
