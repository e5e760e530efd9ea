#!/usr/bin/python3
"""Can the time a login takes tell who is enrolled? The decoy against real users, through a real sshd, with the
user pool behind an added delay (as Cognito is some 200 ms from most servers).

    bench/decoy_timing.py --build-dir BUILD [--names 50] [--logins-per-name 1] [--delay-ms 200] [--seed N]
                          [--work-dir DIR] [--module SO] [--helper BIN] [--json FILE]

Three groups of --names names each, every name made at random in one shape (eight lower-case letters) and dealt
to a group at random, so that nothing in a name but its group differs from group to group:
  real     pool users with an identity (an email and a phone, both mapped): every code goes to the pool and
           comes back refused
  noid     local accounts without an identity: the decoy
  nouser   names that are no local account: the decoy, with every answer replaced by sshd's control characters
Every name logs in --logins-per-name times, all logins of all groups in one random order (so drift in the
machine's load hits each group alike), each refused after three wrong codes through keyboard-interactive
(paramiko). sshd pads a failed authentication request to a minimum time that depends on the user name
(user_specific_delay() in auth2.c, see bench/README.md); with many names per group that per-name amount is
noise that averages out, where with one name per group it was an offset that told the groups apart.

Each login is timed from the start of keyboard-interactive authentication to the menu ("menu": a real user
remembered from an earlier login sees it before any request to the pool, see helper/factor_memory.hpp), from the
first keyboard-interactive request (the menu) to sshd's refusal ("whole"), and from the second (the first code
prompt) to the refusal ("codes"); each step between two requests is timed too
(--steps prints their medians per group: where a difference is, if one shows). Before the first timed login
--warmup real users log in, successfully, as real users would have before any attacker arrives: the helper
learns the pool's latency from real logins only, and remembers those users' factors, so that their timed
logins, and those of the decoys that copy them, show the menu first (helper/factor_memory.hpp: only a
successful login is remembered; the timed logins, which all fail, change nothing).

For each decoy group it prints the medians beside the real users', their ratio, and two two-sided two-sample
tests against the real users' durations: Mann-Whitney U (normal approximation with tie correction: a shift of
the middle) and Kolmogorov-Smirnov (asymptotic distribution with Stephens' small-sample correction: any
difference of shape). p < 0.01 means the two groups can be told apart. Standard library only. Run as root (the
e2e rig: a private mount and PID namespace, tests/e2e/e2e_support.py). Build first:
`cmake --build BUILD --target pam-passwordless-helper pam_passwordless`. Not a test: nothing here fails.
"""

import argparse
import json
import os
import random
import socket
import statistics
import string
import sys
import time

from bench_support import SOURCE, kolmogorov_smirnov, mann_whitney

sys.path.insert(0, os.path.join(SOURCE, "tests", "e2e"))

import e2e_support as e2e  # noqa: E402
import sshd_login  # noqa: E402

GROUPS = ("real", "noid", "nouser")
WRONG = "00000000"
EMAIL_DOMAIN = "example.com"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--work-dir", help="default: BUILD/bench/decoy_timing")
    ap.add_argument("--module", help="pam_passwordless.so (default: BUILD/pam_passwordless/pam_passwordless.so)")
    ap.add_argument("--helper", help="the helper (default: BUILD/helper/pam-passwordless-helper)")
    ap.add_argument("--names", type=int, default=50, help="names per group (default 50)")
    ap.add_argument("--logins-per-name", type=int, default=1, help="timed logins of each name (default 1)")
    ap.add_argument("--warmup", type=int, default=10, help="untimed successful logins of real users first (default 10)")
    ap.add_argument("--delay-ms", type=int, default=200, help="added delay of every pool answer (default 200)")
    ap.add_argument("--seed", type=int, help="for the names and the order (default: a fresh one, printed)")
    ap.add_argument("--steps", action="store_true", help="also print each step's median per group")
    ap.add_argument("--json", help="write the names, durations and figures here")
    args = ap.parse_args()
    if args.names < 2 or args.logins_per_name < 1:
        ap.error("--names must be at least 2 and --logins-per-name at least 1")
    return args


def make_names(rng, per_group):
    """`per_group` names for each group, all of one shape, dealt at random."""
    names = set()
    while len(names) < per_group * len(GROUPS):
        names.add("".join(rng.choice(string.ascii_lowercase) for _ in range(8)))
    names = sorted(names)
    rng.shuffle(names)
    return {g: sorted(names[i * per_group:(i + 1) * per_group]) for i, g in enumerate(GROUPS)}


def phone_of(number):
    return f"+1555{number:07d}"


def signed_in(sshd, standin, user):
    """A real user's own successful login: the menu's first entry (the email code), then the code sent."""
    import paramiko
    sock = socket.create_connection(("127.0.0.1", sshd.port), timeout=30)
    transport = paramiko.Transport(sock)
    try:
        transport.start_client(timeout=30)

        def handler(title, instructions, prompts):
            return ["1" if "Choice [" in p else
                    (standin.latest_code(f"{user}@{EMAIL_DOMAIN}") or "no-code") if "Code sent to" in p else ""
                    for p, _ in prompts]

        try:
            transport.auth_interactive(user, handler)
        except paramiko.AuthenticationException:
            e2e.check(False, f"{user}: a warm-up login was refused")
    finally:
        transport.close()


def timed_login(sshd, user):
    """The arrival time of each keyboard-interactive request and of the refusal, in seconds from the first
    request; every answer a wrong code (the menu: its first entry)."""
    import paramiko
    sock = socket.create_connection(("127.0.0.1", sshd.port), timeout=30)
    transport = paramiko.Transport(sock)
    arrivals = []
    try:
        transport.start_client(timeout=30)

        def handler(title, instructions, prompts):
            arrivals.append(time.monotonic())
            return ["1" if "Choice [" in p else WRONG if "Code sent to" in p else "" for p, _ in prompts]

        began = time.monotonic()
        try:
            transport.auth_interactive(user, handler)
        except paramiko.AuthenticationException:
            arrivals.append(time.monotonic())
            e2e.check(len(arrivals) >= 3, f"{user}: refused after {len(arrivals) - 1} requests")
            return [t - arrivals[0] for t in arrivals], arrivals[0] - began
        e2e.check(False, f"{user} was let in")
    finally:
        transport.close()


def spans(timed):
    """menu (start of authentication to the menu), whole (menu to refusal), codes (first code prompt to refusal)
    and each step between two requests."""
    arrivals, menu = timed
    return {"menu": menu, "whole": arrivals[-1], "codes": arrivals[-1] - arrivals[1],
            "steps": [b - a for a, b in zip(arrivals, arrivals[1:])]}


def main():
    args = e2e.enter_namespace(parse_args)
    build = os.path.abspath(args.build_dir)
    module = os.path.abspath(args.module or os.path.join(build, "pam_passwordless", "pam_passwordless.so"))
    helper_bin = os.path.abspath(args.helper or os.path.join(build, "helper", "pam-passwordless-helper"))
    sandbox = e2e.Sandbox(os.path.abspath(args.work_dir or os.path.join(build, "bench", "decoy_timing")))
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 32)
    rng = random.Random(seed)
    names = make_names(rng, args.names)
    result = {"seed": seed, "names": names}

    def body():
        sandbox.standard()
        sandbox.add_users(names["real"] + names["noid"])
        # Each real name: a pool user with an email and a phone, both mapped, as alice in the e2e tests.
        pool_users = [e2e.StandIn.pool_user(n, i, email=f"{n}@{EMAIL_DOMAIN}", phone=phone_of(i))
                      for i, n in enumerate(names["real"])]
        standin = e2e.StandIn(sandbox, extra_users=pool_users)

        def config(helper_dir):
            e2e.write(os.path.join(helper_dir, "identities"),
                      "".join(f"{n} {n}@{EMAIL_DOMAIN}\n{n} {phone_of(i)}\n"
                              for i, n in enumerate(names["real"])), 0o600)
            # Limits far above what the benchmark does: it measures time, not the limits.
            return standin.pool_section(helper_dir) + "\n".join([
                "[login]", "methods = email_otp sms_otp", f"max_tries = {sshd_login.MAX_TRIES}",
                "request_timeout = 5",
                "[binding]", f"mapping_file = {helper_dir}/identities",
                "[limits]", f"state_file = {helper_dir}/limits", "sends_per_identifier = 1000",
                "sends_per_rhost = 100000", "sends_per_hour = 100000", "failures_before_backoff = 100",
                "pool_asks_per_network = 100000", ""])

        helper = e2e.Helper(sandbox, helper_bin, config)
        sshd = sshd_login.Sshd(sandbox, module)
        standin.control({"delay_ms": args.delay_ms})
        for i in range(args.warmup):
            signed_in(sshd, standin, names["real"][i % len(names["real"])])
        order = [(g, n) for g in GROUPS for n in names[g] for _ in range(args.logins_per_name)]
        rng.shuffle(order)
        logins = {g: [] for g in GROUPS}
        for g, n in order:
            logins[g].append({"name": n, **spans(timed_login(sshd, n))})
        result["logins"] = logins
        e2e.say(f"{args.names} names per group, {args.logins_per_name} login(s) each, pool delay "
                f"{args.delay_ms} ms, seed {seed}, helper {helper_bin}")
        figures = {}
        for span in ("menu", "codes", "whole"):
            real = [x[span] for x in logins["real"]]
            e2e.say(f"{span:6}: {'group':7} {'n':>4} {'median s':>9} {'p10 s':>7} {'p90 s':>7} {'ratio':>6} "
                    f"{'MWU p':>8} {'KS D':>6} {'KS p':>8}")
            for g in GROUPS:
                t = sorted(x[span] for x in logins[g])
                med = statistics.median(t)
                ratio = med / statistics.median(real)
                fig = {"n": len(t), "median_s": med, "ratio_to_real": ratio}
                line = (f"{'':8}{g:7} {len(t):4} {med:9.3f} {t[len(t) // 10]:7.3f} {t[(len(t) * 9) // 10]:7.3f} "
                        f"{ratio:6.3f}")
                if g != "real":
                    u, p_mwu = mann_whitney(t, real)
                    d, p_ks = kolmogorov_smirnov(t, real)
                    fig.update(mann_whitney_u=u, mann_whitney_p=p_mwu, ks_d=d, ks_p=p_ks)
                    apart = min(p_mwu, p_ks) < 0.01
                    line += (f" {p_mwu:8.4f} {d:6.3f} {p_ks:8.4f}  " +
                             ("told apart at p=0.01" if apart else "not told apart"))
                figures.setdefault(span, {})[g] = fig
                e2e.say(line)
        if args.steps:
            e2e.say("steps: median ms (decoys: MWU p/KS p against real); step k from request k to the next "
                    "request or the refusal")
            count = min(len(x["steps"]) for g in GROUPS for x in logins[g])
            for g in GROUPS:
                cells = []
                for k in range(count):
                    t = [x["steps"][k] for x in logins[g]]
                    cell = f"{statistics.median(t) * 1000:7.1f}"
                    if g != "real":
                        real = [x["steps"][k] for x in logins["real"]]
                        cell += f" ({mann_whitney(t, real)[1]:.3f}/{kolmogorov_smirnov(t, real)[1]:.3f})"
                    cells.append(cell)
                e2e.say(f"        {g:7} " + "  ".join(cells))
        result["figures"] = figures
        e2e.check(helper.log().count("outcome=success") == args.warmup, "a timed login succeeded")

    status = e2e.run_main(body)
    sandbox.stop_all()
    if args.json and "logins" in result:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
