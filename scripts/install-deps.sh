#!/bin/sh
# Installs what pam_passwordless needs on Debian 12, if anything is missing.
#
#   scripts/install-deps.sh          building and testing everything (scripts/test.sh): the build, the suite
#                                    and its end-to-end consumers (sshd, sudo, pamtester, valgrind), the
#                                    Debian package tools (dpkg-dev, debhelper, lintian, autopkgtest) and the
#                                    fuzzing compiler (clang-14 with libFuzzer), chromium (headless, for
#                                    tests/browser: the stand-in's managed login and the callback page in a
#                                    real browser, WebAuthn through its virtual authenticator), zbar-tools
#                                    (zbarimg reads back the QR code the module draws of a sign-in link,
#                                    tests/unit/client); libpam-u2f
#                                    is the baseline of bench/key_login_vs_pam_u2f only (not a build or test
#                                    dependency, so not in debian/control)
#   scripts/install-deps.sh demo     only what scripts/demo.sh needs: the compiler and the libraries of the
#                                    helper and the module, pamtester, pam_wrapper and nss_wrapper, and
#                                    python3 with cryptography for the local stand-in of the user pool
set -eu
demo="
  g++ make cmake pkg-config
  libpam0g-dev libfido2-dev libcurl4-openssl-dev libssl-dev libjson-c-dev libsqlite3-dev libqrencode-dev
  libpam-wrapper libnss-wrapper pamtester
  python3 python3-cryptography
"
case "${1:-all}" in
demo) packages=$demo ;;
all)
  packages="$demo
  build-essential clang-format libcbor-dev
  googletest libgtest-dev libpamtest0-dev
  python3-fido2 openssl fido2-tools
  openssh-server openssh-client sudo python3-paramiko valgrind libgmock-dev systemd
  dpkg-dev debhelper fakeroot lintian autopkgtest
  clang-14 libclang-rt-14-dev llvm-14
  chromium
  zbar-tools
  libpam-u2f
"
  ;;
*)
  echo "usage: $0 [demo]" >&2
  exit 2
  ;;
esac
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
