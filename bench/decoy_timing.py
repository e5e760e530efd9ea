#!/usr/bin/python3
"""Can the time a login takes tell who is enrolled? The decoy against a real user, through a real sshd, with the
user pool behind an added delay (as Cognito is some 200 ms from most servers).

    bench/decoy_timing.py --build-dir BUILD [--logins 50] [--delay-ms 200] [--work-dir DIR]
                          [--module SO] [--helper BIN] [--json FILE]

Logins, interleaved so that drift in the machine's load hits each group alike, all refused after three wrong
codes through keyboard-interactive (paramiko):
  real     alice, who has an identity: every code goes to the pool and comes back refused
  bob      a local account without an identity: the decoy
  nouser   a name that is no local account: the decoy, with every answer replaced by sshd's control characters
Each login is timed from the first keyboard-interactive request (the menu) to sshd's refusal ("whole"), and from
the second (the first code prompt) to the refusal ("codes"). sshd pads the step after the first prompt to a
minimum time of its own that depends on the user name (user_specific_delay() in auth2.c: a per-name base
doubled until it exceeds the time so far), for every name alike, enrolled or not; comparing three names, that
padding shows as a per-name offset of the whole time. "codes" leaves it out. Before the first timed login
alice logs in (and fails) --warmup times, as real users would have before any attacker arrives: the helper
learns the pool's latency from real logins only.

For each decoy group it prints the medians beside the real user's, their ratio, and a two-sided Mann-Whitney U
test (normal approximation with tie correction): p < 0.01 means the two groups can be told apart. Run as root
(the e2e rig: a private mount and PID namespace, tests/e2e/e2e_support.py). Build first:
`cmake --build BUILD --target pam-passwordless-helper pam_passwordless`. Not a test: nothing here fails.
"""

import argparse
import json
import math
import os
import socket
import statistics
import sys
import time

SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SOURCE, "tests", "e2e"))

import e2e_support as e2e  # noqa: E402
import sshd_login  # noqa: E402

GROUPS = {"real": sshd_login.USER, "bob": "bob", "nouser": "nosuchuser"}
WRONG = "00000000"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--work-dir", help="default: BUILD/bench/decoy_timing")
    ap.add_argument("--module", help="pam_passwordless.so (default: BUILD/pam_passwordless/pam_passwordless.so)")
    ap.add_argument("--helper", help="the helper (default: BUILD/helper/pam-passwordless-helper)")
    ap.add_argument("--logins", type=int, default=50, help="timed logins per group (default 50)")
    ap.add_argument("--warmup", type=int, default=10, help="untimed real logins first (default 10)")
    ap.add_argument("--delay-ms", type=int, default=200, help="added delay of every pool answer (default 200)")
    ap.add_argument("--json", help="write the durations and figures here")
    ap.add_argument("--trace", type=int, default=0, metavar="N",
                    help="first print when each prompt of N untimed logins per group arrived (to find a missing "
                         "pause)")
    return ap.parse_args()


def timed_login(sshd, user, trace=None):
    """Seconds from the first keyboard-interactive request to the refusal; every answer a wrong code (the menu:
    its first entry). `trace`, a list, gets each request's arrival time."""
    import paramiko
    sock = socket.create_connection(("127.0.0.1", sshd.port), timeout=30)
    transport = paramiko.Transport(sock)
    started = []
    codes_from = []
    try:
        transport.start_client(timeout=30)

        def handler(title, instructions, prompts):
            if not started:
                started.append(time.monotonic())
            elif not codes_from:
                codes_from.append(time.monotonic())
            if trace is not None:
                trace.append((round(time.monotonic() - started[0], 3), [p[:30] for p, _ in prompts]))
            return ["1" if sshd_login.MENU in p else WRONG if "Code sent to" in p else "" for p, _ in prompts]

        try:
            transport.auth_interactive(user, handler)
        except paramiko.AuthenticationException:
            end = time.monotonic()
            if trace is not None:
                trace.append((round(end - started[0], 3), "refused"))
            return end - started[0], end - codes_from[0]
        e2e.check(False, f"{user} was let in")
    finally:
        transport.close()


def mann_whitney(a, b):
    """Two-sided Mann-Whitney U test, normal approximation with tie and continuity correction. Returns (U, p)."""
    pooled = sorted([(v, 0) for v in a] + [(v, 1) for v in b])
    ranks = [0.0] * len(pooled)
    ties = 0.0
    i = 0
    while i < len(pooled):
        j = i
        while j + 1 < len(pooled) and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        t = j - i + 1
        ties += t ** 3 - t
        i = j + 1
    n1, n2 = len(a), len(b)
    r1 = sum(r for r, (_, g) in zip(ranks, pooled) if g == 0)
    u1 = r1 - n1 * (n1 + 1) / 2
    u = min(u1, n1 * n2 - u1)
    n = n1 + n2
    sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1))))
    if sigma == 0:
        return u, 1.0
    z = (abs(u1 - n1 * n2 / 2) - 0.5) / sigma
    return u, math.erfc(max(z, 0) / math.sqrt(2))


def main():
    args = e2e.enter_namespace(parse_args)
    build = os.path.abspath(args.build_dir)
    module = os.path.abspath(args.module or os.path.join(build, "pam_passwordless", "pam_passwordless.so"))
    helper_bin = os.path.abspath(args.helper or os.path.join(build, "helper", "pam-passwordless-helper"))
    sandbox = e2e.Sandbox(os.path.abspath(args.work_dir or os.path.join(build, "bench", "decoy_timing")))
    result = {}

    def body():
        sandbox.standard()
        sandbox.add_user(sshd_login.USER)
        sandbox.add_user("bob")
        standin = e2e.StandIn(sandbox)

        def config(helper_dir):
            e2e.write(os.path.join(helper_dir, "identities"),
                      f"{sshd_login.USER} {sshd_login.EMAIL}\n{sshd_login.USER} {sshd_login.PHONE}\n", 0o600)
            # Limits far above what the benchmark does: it measures time, not the limits.
            return standin.pool_section(helper_dir) + "\n".join([
                "[login]", "methods = email_otp sms_otp", f"max_tries = {sshd_login.MAX_TRIES}",
                "request_timeout = 5",
                "[binding]", f"mapping_file = {helper_dir}/identities",
                "[limits]", f"state_file = {helper_dir}/limits", "sends_per_identifier = 1000",
                "sends_per_rhost = 10000", "failures_before_backoff = 100", ""])

        helper = e2e.Helper(sandbox, helper_bin, config)
        sshd = sshd_login.Sshd(sandbox, module)
        standin.control({"delay_ms": args.delay_ms})
        for _ in range(args.warmup):
            timed_login(sshd, GROUPS["real"])
        for _ in range(args.trace):
            for g, user in GROUPS.items():
                trace = []
                timed_login(sshd, user, trace)
                e2e.say(f"{g:6}: " + "; ".join(f"{t} {len(what) if isinstance(what, list) else what}"
                                               for t, what in trace))
        times = {span: {g: [] for g in GROUPS} for span in ("whole", "codes")}
        for _ in range(args.logins):
            for g, user in GROUPS.items():
                whole, codes = timed_login(sshd, user)
                times["whole"][g].append(whole)
                times["codes"][g].append(codes)
        result["times"] = times
        e2e.say(f"{args.logins} logins per group, pool delay {args.delay_ms} ms, helper {helper_bin}")
        figures = {}
        for span, by_group in times.items():
            real = by_group["real"]
            e2e.say(f"{span:6}: {'group':8} {'median s':>9} {'p10 s':>7} {'p90 s':>7} {'ratio':>6} {'U':>7} "
                    f"{'p':>8}")
            for g in GROUPS:
                t = sorted(by_group[g])
                med = statistics.median(t)
                u, p = mann_whitney(by_group[g], real) if g != "real" else (float("nan"), float("nan"))
                ratio = med / statistics.median(real)
                figures.setdefault(span, {})[g] = {"median_s": med, "ratio_to_real": ratio, "mann_whitney_u": u,
                                                   "p": p}
                e2e.say(f"{'':8}{g:8} {med:9.3f} {t[len(t) // 10]:7.3f} {t[(len(t) * 9) // 10]:7.3f} "
                        f"{ratio:6.3f} {u:7.1f} {p:8.4f}" +
                        ("" if g == "real" else
                         ("  told apart at p=0.01" if p < 0.01 else "  not told apart")))
        result["figures"] = figures
        e2e.check("outcome=success" not in helper.log(), "a login succeeded")

    status = e2e.run_main(body)
    sandbox.stop_all()
    if args.json and "times" in result:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
