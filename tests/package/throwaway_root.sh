# Sourced by install_remove.sh and nocheck_build.sh, inside "unshare --mount --propagation private": makes
# this machine's root throwaway (a tmpfs on /run, then an overlay with a tmpfs-backed upper layer on every
# directory dpkg, apt and the maintainer scripts write, and a tmpfs on /tmp), so that nothing written
# afterwards reaches the real file systems. The caller defines fail() and ok().
#
#   throwaway_root [COMMAND]   COMMAND runs after /run is mounted and before /tmp is hidden (to copy what
#                              lives under /tmp into $scratch); sets scratch=/run/pp-package

throwaway_root() {
	# Refuse to run anywhere but in a private mount namespace: every write below would otherwise be real.
	[ "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/1/ns/mnt)" ] || fail "not in a separate mount namespace"
	[ "$(findmnt -n -o PROPAGATION /)" = private ] || fail "mount propagation is not private"

	# /run first: the scratch space for the overlays lives there, and an empty /run hides systemd, so that
	# maintainer scripts start and stop nothing on this machine (they test for /run/systemd/system).
	mount -t tmpfs -o mode=0755 pp-package-run /run
	scratch=/run/pp-package
	mkdir -p "$scratch"
	if [ $# -gt 0 ]; then "$@"; fi
	mount -t tmpfs -o mode=1777 pp-package-tmp /tmp
	local d
	for d in /etc /usr /var /lib /lib64 /bin /sbin /opt /root; do
		[ -d "$d" ] && [ ! -L "$d" ] || continue
		mkdir -p "$scratch/upper$d" "$scratch/work$d"
		mount -t overlay -o "lowerdir=$d,upperdir=$scratch/upper$d,workdir=$scratch/work$d" pp-package-overlay "$d"
	done
	for d in /etc /usr /var; do
		[ "$(findmnt -n -o FSTYPE --mountpoint "$d")" = overlay ] || fail "$d is not a throwaway overlay"
	done
	# Without systemd, invoke-rc.d would run a package's init script, and start-stop-daemon would act on this
	# machine's processes: no service may be started or stopped from here.
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d
	ok "throwaway overlays on /etc /usr /var, tmpfs on /run /tmp, no service actions"
}
