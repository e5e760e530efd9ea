#!/bin/sh
# Installs what building and testing pam_passwordless needs on Debian 12, if anything is missing: the
# build, the suite and its end-to-end consumers (sshd, sudo, pamtester, valgrind), the Debian package tools
# (dpkg-dev, debhelper, lintian) and the fuzzing compiler (clang-14 with libFuzzer); libpam-u2f is the
# baseline of bench/key_login_vs_pam_u2f only (not a build or test dependency, so not in debian/control).
set -eu
packages="
  build-essential cmake pkg-config clang-format
  libpam0g-dev libfido2-dev libcurl4-openssl-dev libssl-dev libjson-c-dev libcbor-dev libsqlite3-dev
  googletest libgtest-dev libpam-wrapper libpamtest0-dev libnss-wrapper pamtester
  python3 python3-cryptography python3-fido2 openssl fido2-tools
  openssh-server openssh-client sudo python3-paramiko valgrind libgmock-dev systemd
  dpkg-dev debhelper fakeroot lintian
  clang-14 libclang-rt-14-dev llvm-14
  libpam-u2f
"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing
fi
