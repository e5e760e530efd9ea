#!/usr/bin/python3
"""Does a local security-key login tell who is enrolled by its time? An enrolled account whose key is not
plugged in against an account without any credential (the decoy's made-up key ask), side by side.

One long-lived process (bench/key_login_loop) runs ROUNDS x pam_start/pam_authenticate/pam_end, taking turns
between the two accounts through one PAM service with our module and the real helper behind it
(methods = security_key), with the virtual FIDO2 key layer preloaded and no key plugged in
(VFIDO_KEYS=0): both logins end with "No security key found" and PAM_AUTHINFO_UNAVAIL. The enrolled account
has signed in once before with its key, so the journal holds its counter and its key ask reserves the next
one (helper/counter_journal.hpp); the other account's made-up key ask pays the same store work
(CredentialStore::reserve_made_up).

    sudo ./bench/key_decoy_timing.py --build-dir build [--under-test OTHER_BUILD] [--rounds 300]

Prints per account the median, mean, p10 and p90, the ratio of the medians, and two-sample tests of the two
samples (Mann-Whitney U and Kolmogorov-Smirnov, two-sided): the check is that they do not tell the two
apart at p = 0.01.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys

from bench_support import kolmogorov_smirnov, mann_whitney, settle_store, wait_for

RP = "pam://pam-passwordless-bench"
ENROLLED = "nobody"  # exists on every Debian machine
WITHOUT = "daemon"  # likewise; never enrolled here
SERVICE = "pp-bench-keys"
PAM_AUTHINFO_UNAVAIL = 9
WARMUP = 10
PAM_WRAPPER = "/usr/lib/x86_64-linux-gnu/libpam_wrapper.so"


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--under-test", help="build whose module, helper and command line are measured")
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--enrolled", default=ENROLLED, help=f"the enrolled account (default {ENROLLED})")
    ap.add_argument("--without", default=WITHOUT, help=f"the account without a credential (default {WITHOUT})")
    args = ap.parse_args()
    enrolled, without = args.enrolled, args.without
    if os.geteuid() != 0:
        sys.exit("run as root: the helper trusts only root-owned files and sockets")
    build = os.path.abspath(args.build_dir)
    tested = os.path.abspath(args.under_test or args.build_dir)
    module = f"{tested}/pam_passwordless/pam_passwordless.so"
    helper_bin = f"{tested}/helper/pam-passwordless-helper"
    cli_bin = f"{tested}/cli/pam-passwordless"
    loop_bin = f"{build}/tests/passkeys/key_login_loop"
    vfido = f"{build}/tests/virtual_fido/libpp_virtual_fido.so"
    for f in (module, helper_bin, cli_bin, loop_bin, vfido, PAM_WRAPPER):
        if not os.path.exists(f):
            sys.exit(f"missing: {f} (build the targets named in bench/README.md)")

    work = f"{build}/bench-key-decoy"
    shutil.rmtree(work, ignore_errors=True)
    for d in ("services", "vfido-state"):
        os.makedirs(f"{work}/{d}")
    os.makedirs(f"{work}/tmp", mode=0o1777)
    os.chmod(work, 0o755)
    sock = f"{work}/helper.sock"
    with open(f"{work}/helper.conf", "w") as f:
        f.write("[pool]\npool_id = us-east-1_BenchPool\nclient_id = x\nendpoint = https://127.0.0.1:1/\n"
                "issuer = https://127.0.0.1:1/us-east-1_BenchPool\n\n[login]\nmethods = security_key\n\n"
                f"[binding]\nclaim = cognito:username\n\n[security_key]\nrp_id = {RP}\n"
                f"store_dir = {work}/credentials\ntouch_timeout = 10\nuser_verification = discouraged\n")
    with open(f"{work}/services/{SERVICE}", "w") as f:
        f.write(f"auth required {module} socket={sock}\naccount required pam_permit.so\n")
    key_env = dict(PATH="/usr/sbin:/usr/bin:/sbin:/bin", LANG="C", VFIDO_STATE_DIR=f"{work}/vfido-state",
                   LD_PRELOAD=vfido, TMPDIR=f"{work}/tmp")
    pam_env = dict(key_env, LD_PRELOAD=f"{vfido}:{PAM_WRAPPER}", PAM_WRAPPER="1",
                   PAM_WRAPPER_SERVICE_DIR=f"{work}/services")
    private_tmp = [f"{os.path.dirname(os.path.abspath(__file__))}/../tests/private_tmp.sh", f"{work}/tmp"]

    helper = subprocess.Popen([helper_bin, "--foreground", "--socket", sock, "--config", f"{work}/helper.conf"],
                              stdout=open(f"{work}/helper.log", "w"), stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: os.path.exists(sock) or helper.poll() is not None, "the helper's socket", 10)
        if helper.poll() is not None:
            sys.exit("the helper did not start:\n" + open(f"{work}/helper.log").read())
        subprocess.run([cli_bin, "--socket", sock, "enroll", "--user", enrolled, "--name", "bench key"],
                       env=key_env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # One login with the key plugged in: from here on the journal holds the enrolled account's counter.
        first = subprocess.run(private_tmp + [loop_bin, enrolled, "1", SERVICE], env=pam_env,
                               capture_output=True, text=True)
        if first.returncode != 0:
            sys.exit(f"the enrolled account's first login failed:\n{first.stdout}{first.stderr}")
        # As on a machine where nobody enrolled in the last second, which is nearly always: the helper keeps
        # the store's listing and the parse of a credential file only once a second has passed since their last
        # change (helper/credential_store.hpp).
        settle_store(f"{work}/credentials", enrolled)
        run = subprocess.run(private_tmp + [loop_bin, enrolled, str(args.rounds + WARMUP), f"{SERVICE}@{enrolled}",
                                            f"{SERVICE}@{without}"],
                             env=dict(pam_env, VFIDO_KEYS="0"), capture_output=True, text=True)
    finally:
        helper.terminate()
        helper.wait()

    samples = {enrolled: [], without: []}
    for row in run.stdout.split("\n"):
        if not row:
            continue
        service, ns, code = row.split()
        who = service.split("@")[1]
        if int(code) != PAM_AUTHINFO_UNAVAIL:
            sys.exit(f"{who}'s login ended with PAM code {code}, not PAM_AUTHINFO_UNAVAIL:\n"
                     + open(f"{work}/helper.log").read()[-2000:])
        samples[who].append(int(ns) / 1e6)
    real, decoy = samples[enrolled][WARMUP:], samples[without][WARMUP:]
    print(f"module under test: {module}")
    print(f"{'account':<26} {'n':>4} {'median ms':>10} {'mean ms':>8} {'p10 ms':>7} {'p90 ms':>7}")
    for name, xs in ((f"{enrolled} (enrolled, no key)", real), (f"{without} (no credential)", decoy)):
        print(f"{name:<26} {len(xs):>4} {statistics.median(xs):>10.3f} {statistics.fmean(xs):>8.3f} "
              f"{pct(xs, 0.1):>7.3f} {pct(xs, 0.9):>7.3f}")
    _, p_mw = mann_whitney(real, decoy)
    _, p_ks = kolmogorov_smirnov(real, decoy)
    print(f"ratio enrolled/without: median {statistics.median(real) / statistics.median(decoy):.3f}x; "
          f"Mann-Whitney U p = {p_mw:.3g}; Kolmogorov-Smirnov p = {p_ks:.3g}; "
          f"{'told apart' if min(p_mw, p_ks) < 0.01 else 'not told apart'} at p = 0.01")


if __name__ == "__main__":
    main()
