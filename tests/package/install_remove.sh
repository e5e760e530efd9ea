#!/bin/bash
# Run by check_package.sh inside "unshare --mount --propagation private": installs the package into this
# machine's root made throwaway (an overlay with a tmpfs upper layer on every directory dpkg and the
# maintainer scripts write, a tmpfs on /run and /tmp), then enables the pam-auth-update profile, upgrades,
# removes and purges, checking each step. Nothing written here reaches the real file systems.
#
#   install_remove.sh DEB DSC
# DSC is the source package; its autopkgtest (debian/tests) runs against the installed package.
set -euo pipefail

deb=$1 dsc=$2
[ -f "$deb" ] && [ -f "$dsc" ] || { echo "usage: $0 DEB DSC" >&2; exit 2; }
# Held open across the mounts below, which may hide the directory it is in (a build tree under /tmp).
exec 3<"$deb"

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
step() { echo; echo "--- $*"; }

here=$(cd "$(dirname "$0")" && pwd)
. "$here/throwaway_root.sh"
# The test programs the login below runs and the source package autopkgtest unpacks, copied before /tmp is
# hidden (they may be under it).
copy_sources() {
	local tests
	tests=$(cd "$here/.." && pwd)
	mkdir -p "$scratch/src/tests/pam" "$scratch/src/doc" "$scratch/srcpkg"
	cp -r "$tests/package" "$tests/e2e" "$tests/pamtester" "$tests/cognito_standin" "$tests/guide" "$scratch/src/tests/"
	cp "$tests/pam/test_pool.json" "$scratch/src/tests/pam/"
	cp "$tests/../doc/setup.md" "$scratch/src/doc/"
	cp "$dsc" "$(dirname "$dsc")"/*.orig.tar.* "$(dirname "$dsc")"/*.debian.tar.* "$scratch/srcpkg/"
}
throwaway_root copy_sources
deb_copy=$scratch/$(basename "$deb")
cat <&3 >"$deb_copy"
exec 3<&-
deb=$deb_copy

export DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true LC_ALL=C.UTF-8
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
module=/lib/$multiarch/security/pam_passwordless.so
common_auth=/etc/pam.d/common-auth
before=$scratch/common-auth.before
cp -p "$common_auth" "$before"

# The pam_passwordless line of common-auth must sit in the Primary block before pam_unix, with
# [success=N default=ignore] where N jumps exactly past the pam_deny fallback to pam_permit.
check_enabled() {
	awk '
		$1 != "auth" { next }
		{ n++ }
		/pam_passwordless\.so/ { pp = n; control = $2 " " $3 }
		/pam_unix\.so/ && !unix { unix = n }
		/pam_deny\.so/ && !deny { deny = n }
		END {
			if (!pp) { print "pam_passwordless.so is not in common-auth"; exit 1 }
			if (!unix || pp > unix) { print "pam_passwordless.so does not come before pam_unix.so"; exit 1 }
			want = "[success=" (deny - pp) " default=ignore]"
			if (control != want) { print "control is " control ", expected " want; exit 1 }
		}' "$common_auth"
}

step "dpkg -i $(basename "$deb")"
dpkg -i "$deb"
[ "$(dpkg-query -W -f '${Status}' libpam-passwordless)" = "install ok installed" ] || fail "not installed"

worker=/usr/libexec/pam-passwordless/pam-passwordless-pool
units="pam-passwordless-helper.socket pam-passwordless-helper.service"
units="$units pam-passwordless-pool.socket pam-passwordless-pool.service"
for f in "$module" /usr/sbin/pam-passwordless-helper /usr/bin/pam-passwordless "$worker" \
	$(printf '/lib/systemd/system/%s ' $units) \
	/usr/share/pam-configs/pam-passwordless \
	/usr/share/man/man1/pam-passwordless.1.gz /usr/share/man/man5/pam-passwordless-helper.conf.5.gz \
	/usr/share/man/man8/pam_passwordless.8.gz /usr/share/man/man8/pam-passwordless-helper.8.gz; do
	[ -e "$f" ] || fail "missing $f"
done
ok "module in /lib/$multiarch/security, helper, network worker, command line, units, profile and man pages installed"
for f in /usr/share/man/man7/pam-passwordless-setup.7.gz /usr/share/doc/libpam-passwordless/setup.md.gz; do
	[ -e "$f" ] || fail "missing $f"
done
ok "the setup guide and its man page installed"

check_mode() {
	local got
	got=$(stat -c '%a %U %G %F' "$1")
	[ "$got" = "$2" ] || fail "$1 is '$got', expected '$2'"
	ok "$1: $got"
}
check_mode /etc/pam_passwordless "755 root root directory"
check_mode /etc/pam_passwordless/helper.conf "644 root root regular file"
check_mode /etc/pam_passwordless/identities "600 root root regular file"
check_mode /usr/sbin/pam-passwordless-helper "755 root root regular file"
check_mode "$worker" "755 root root regular file"
check_mode "$(dirname "$worker")" "755 root root directory"
check_mode "$module" "644 root root regular file"
conffiles=$(dpkg-query -W -f '${Conffiles}' libpam-passwordless)
for f in /etc/pam_passwordless/helper.conf /etc/pam_passwordless/identities; do
	grep -q " $f " <<<"$conffiles" || fail "$f is not a conffile"
done
ok "helper.conf and identities are conffiles"
for s in pam-passwordless-helper.socket pam-passwordless-pool.socket; do
	[ -L "/etc/systemd/system/sockets.target.wants/$s" ] || fail "$s is not enabled"
	ok "$s enabled"
done
! ldd "$module" /usr/sbin/pam-passwordless-helper /usr/bin/pam-passwordless "$worker" | grep 'not found' ||
	fail "unresolved libraries"
# The root helper has no network code: libcurl is the worker's alone (loaded there with dlopen).
! ldd /usr/sbin/pam-passwordless-helper | grep -i curl || fail "the root helper links libcurl"
! grep -qa curl_easy_init /usr/sbin/pam-passwordless-helper || fail "the root helper names a libcurl function"
ok "the root helper neither links nor loads libcurl"
# Where the helper looks for the worker when it starts one itself (check-config --online, or a helper run
# without --pool-socket) is built in (PP_POOL_WORKER_PATH) and must be where the package put the worker: the
# compiler keeps no string of it to look for, so follow_guide.py proves it, with check-config --online.
# The installed units as systemd reads them: every command they name exists, every setting is known.
if command -v systemd-analyze >/dev/null; then
	verify_out=$(systemd-analyze verify --man=no $(printf '/lib/systemd/system/%s ' $units) 2>&1) ||
		fail "systemd-analyze verify refused the installed units: $verify_out"
	! grep pam-passwordless <<<"$verify_out" || fail "systemd-analyze verify finds fault with the installed units"
	ok "systemd-analyze verify: the four installed units are clean"
else
	fail "systemd-analyze is missing (package systemd)"
fi
cmp "$before" "$common_auth" || fail "installing changed common-auth (the profile must be Default: no)"
ok "common-auth unchanged by the installation"

step "the installed programs"
/usr/sbin/pam-passwordless-helper check-config || fail "check-config refuses the shipped example configuration"
/usr/bin/pam-passwordless --help >/dev/null || fail "pam-passwordless --help"
status=0
/usr/bin/pam-passwordless list || status=$?
[ "$status" -eq 3 ] || fail "pam-passwordless list without a helper exited $status, expected 3"
ok "pam-passwordless list without a helper: exit 3"
for tool in pamtester useradd chpasswd python3; do
	command -v "$tool" >/dev/null || fail "$tool is missing (packages pamtester, passwd, python3)"
done
{
	# The real libpam loads the module from the multiarch directory by its bare name; no helper runs here.
	echo "auth required pam_passwordless.so" >/etc/pam.d/pp-package-module
	out=$(pamtester pp-package-module root authenticate 2>&1 </dev/null) && fail "authenticated without a helper"
	grep -q "Authentication service cannot retrieve authentication info" <<<"$out" ||
		fail "expected PAM_AUTHINFO_UNAVAIL without a helper, got: $out"
	ok "libpam loads the module; without a helper it returns PAM_AUTHINFO_UNAVAIL"
}

step "pam-auth-update --enable pam-passwordless"
pam-auth-update --enable pam-passwordless
grep -E '^auth' "$common_auth"
check_enabled || fail "the profile is not where it belongs in common-auth"
ok "pam_passwordless.so before pam_unix.so, falling through to the password on any failure"
{
	# The profile must never lock anyone out: with the helper down the password still works, and only it.
	useradd -M -s /usr/sbin/nologin pp-package-user
	echo 'pp-package-user:Correct-Horse-9' | chpasswd
	echo "@include common-auth" >/etc/pam.d/pp-package-stack
	echo 'Correct-Horse-9' | pamtester pp-package-stack pp-package-user authenticate ||
		fail "the right password was refused with the profile enabled and no helper"
	echo 'Wrong-Horse-9' | pamtester pp-package-stack pp-package-user authenticate &&
		fail "a wrong password was accepted with the profile enabled"
	ok "with the profile enabled and no helper: the right password passes, a wrong one fails"

	step "a passwordless login through the installed module and helper, with the profile enabled"
	python3 -B "$scratch/src/tests/package/package_login.py" --work-dir "$scratch/login" \
		--user pp-package-user --password Correct-Horse-9 --service pp-package-stack ||
		fail "the login through the installed package failed"
	ok "the installed helper and module log in with an emailed code; wrong codes fall through to the password"

	step "the host side of doc/setup.md, as written, against the local stand-in"
	python3 -B "$scratch/src/tests/package/follow_guide.py" --source-dir "$scratch/src" --work-dir "$scratch/guide" \
		--user pp-package-user || fail "following the setup guide on the installed package failed"
	ok "the guide's host steps: check-config --online passes, test-login logs in, status shows it, a wrong secret is named"
}

step "dpkg -i again (the upgrade path keeps the admin's choice)"
dpkg -i "$deb"
check_enabled || fail "an upgrade took the profile out of common-auth"
ok "still enabled after the upgrade"

step "autopkgtest of the source package (debian/tests), null runner, against the installed package"
# The throwaway root is the testbed. --no-built-binaries: the package under test is the one installed above;
# the test's other dependencies are installed here already, so apt fetches nothing.
autopkgtest --no-built-binaries --output-dir "$scratch/autopkgtest" "$scratch/srcpkg/$(basename "$dsc")" -- null ||
	fail "autopkgtest failed (exit $?)"
check_enabled || fail "the autopkgtest left the profile disabled"
ok "autopkgtest passed; the profile is still enabled as the admin left it"

step "dpkg -r libpam-passwordless"
dpkg -r libpam-passwordless
cmp "$before" "$common_auth" || { diff -u "$before" "$common_auth"; fail "common-auth differs after removal"; }
ok "common-auth byte-identical to before the installation"
[ ! -e "$module" ] || fail "the module is still there"
[ -f /etc/pam_passwordless/helper.conf ] || fail "removal (not purge) deleted the configuration"
ok "module gone, configuration kept"

step "dpkg -P libpam-passwordless"
dpkg -P libpam-passwordless
cmp "$before" "$common_auth" || fail "common-auth differs after purge"
[ ! -e /etc/pam_passwordless ] || fail "/etc/pam_passwordless is still there after purge"
for s in pam-passwordless-helper.socket pam-passwordless-pool.socket; do
	[ ! -e "/etc/systemd/system/sockets.target.wants/$s" ] || fail "$s's enablement link is still there after purge"
done
[ ! -e "$worker" ] && [ ! -e "$(dirname "$worker")" ] || fail "the worker or its folder is still there after purge"
[ -z "$(dpkg-query -W -f '${Status}' libpam-passwordless 2>/dev/null | grep -v 'not-installed')" ] ||
	fail "dpkg still knows the package"
ok "purged: configuration, enablement and dpkg's record gone; common-auth identical"

step "install and purge without enabling"
dpkg -i "$deb" >/dev/null
dpkg -P libpam-passwordless >/dev/null
cmp "$before" "$common_auth" || fail "common-auth differs after install and purge"
ok "common-auth identical"
