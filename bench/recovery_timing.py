#!/usr/bin/python3
"""Can the time a recovery-code try takes tell who holds a set? alice (a set of codes) against bob (none), both
with an identity, at a local login (pamtester on a pseudo-terminal, no remote host) while the user pool cannot
be reached (its endpoint is a closed port).

    bench/recovery_timing.py --build-dir BUILD [--logins 40] [--seed N] [--work-dir DIR] [--json FILE]

Each login accepts the offer of a code, meets "The sign-in service cannot be reached. Recovery code", and types
a wrong code (16 valid symbols). alice's try hashes it with her set's salt and compares; bob's hashes it with a
per-process salt and finds no set. Both groups' logins run in one random order. Each is timed from the answer to
the recovery prompt to pamtester's exit ("try"), which holds the scrypt hash, the store read and the failure.

Prints the medians, their ratio, and two-sided Mann-Whitney U and Kolmogorov-Smirnov tests (bench_support.py):
p < 0.01 means the two groups can be told apart. The backoff is set out of the way (failures_before_backoff =
100), as an attacker's one try per user per backoff step is what it would measure. Run as root (the e2e rig: a
private mount and PID namespace). Build first: `cmake --build BUILD --target pam-passwordless-helper
pam_passwordless`. Not a test: nothing here fails.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time

from bench_support import SOURCE, kolmogorov_smirnov, mann_whitney

sys.path.insert(0, os.path.join(SOURCE, "tests", "e2e"))
sys.path.insert(0, os.path.join(SOURCE, "tests", "pamtester"))

import e2e_support as e2e  # noqa: E402
from pamtester_login import run_on_pty  # noqa: E402

SERVICE = "recovery-bench"
WRONG = "AAAA-BBBB-CCCC-DDDD"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--work-dir", help="default: BUILD/bench/recovery_timing")
    ap.add_argument("--logins", type=int, default=40, help="per user")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--json", help="write the figures here too")
    args = ap.parse_args()
    if not args.work_dir:
        args.work_dir = os.path.join(os.path.abspath(args.build_dir), "bench", "recovery_timing")
    return args


def timed_try(user):
    """One login; returns seconds from the answer to the recovery prompt to pamtester's exit."""
    answered_at = []

    def respond(text):
        stripped = text.rstrip()
        if stripped.endswith("[Y/n]"):
            return ""
        if "Recovery code" in text and stripped.endswith(":"):
            answered_at.append(time.monotonic())
            return WRONG
        return None

    env = {"PATH": e2e.CLEAN_PATH, "LANG": "C", "HOME": "/", "TERM": "dumb"}
    status, screen = run_on_pty(["pamtester", SERVICE, user, "authenticate"], env, respond)
    ended = time.monotonic()
    e2e.check(status != 0 and answered_at, f"{user}: no recovery prompt or a success:\n{screen}")
    return ended - answered_at[0]


def main():
    args = e2e.enter_namespace(parse_args)
    build = os.path.abspath(args.build_dir)
    module = os.path.join(build, "pam_passwordless", "pam_passwordless.so")
    helper_bin = os.path.join(build, "helper", "pam-passwordless-helper")
    sandbox = e2e.Sandbox(args.work_dir)
    rng = random.Random(args.seed)
    result = {}

    def body():
        sandbox.standard()
        sandbox.add_users(["alice", "bob"])

        def config(helper_dir):
            e2e.write(os.path.join(helper_dir, "identities"), "alice alice@example.com\nbob bob@example.com\n",
                      0o600)
            return "\n".join([
                "[pool]", "pool_id = us-east-1_TestPool", "client_id = x", "endpoint = https://127.0.0.1:1/",
                "issuer = https://127.0.0.1:1/us-east-1_TestPool",
                "[login]", "methods = email_otp", "request_timeout = 5",
                "[binding]", f"mapping_file = {helper_dir}/identities",
                "[limits]", f"state_file = {helper_dir}/limits", "sends_per_identifier = 1000",
                "sends_per_rhost = 100000", "sends_per_hour = 1000000", "failures_before_backoff = 100",
                "[recovery]", f"store_dir = {helper_dir}/recovery", ""])

        helper = e2e.Helper(sandbox, helper_bin, config)
        e2e.write(f"/etc/pam.d/{SERVICE}", f"auth required {module}\naccount required pam_permit.so\n")
        made = subprocess.run([helper_bin, "recovery-codes", "--user", "alice", "--config", helper.config_path],
                              capture_output=True, text=True, timeout=60, check=False)
        e2e.check(made.returncode == 0, f"recovery-codes failed: {made.stderr}")
        order = ["alice"] * args.logins + ["bob"] * args.logins
        rng.shuffle(order)
        times = {"alice": [], "bob": []}
        for user in order:
            times[user].append(timed_try(user))
        a, b = times["alice"], times["bob"]
        _, p_mw = mann_whitney(a, b)
        _, p_ks = kolmogorov_smirnov(a, b)
        med_a, med_b = statistics.median(a), statistics.median(b)
        result.update({"logins_per_user": args.logins, "median_ms": {"with_set": med_a * 1000,
                                                                      "without_set": med_b * 1000},
                       "ratio_without_to_with": med_b / med_a, "mann_whitney_p": p_mw,
                       "kolmogorov_smirnov_p": p_ks})
        print(f"recovery try, {args.logins} logins each, one random order:")
        print(f"  alice (a set): median {med_a * 1000:.1f} ms")
        print(f"  bob (no set):  median {med_b * 1000:.1f} ms  (ratio {med_b / med_a:.3f})")
        print(f"  Mann-Whitney p = {p_mw:.3f}, Kolmogorov-Smirnov p = {p_ks:.3f}")

    status = e2e.run_main(body)
    sandbox.stop_all()
    if args.json and result:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
