#!/usr/bin/python3
"""Round trips of a code login with a menu: the flow that asks the pool first (InitiateAuth, the menu's answer,
the code: 3 requests) against the one that remembers the factors of the last login and shows the menu first
(InitiateAuth with PREFERRED_CHALLENGE, the code: 2 requests), side by side in one run, through a real sshd with
the user pool behind an added delay (as Cognito is some 200 ms from most servers). Issue #11 (e).

    bench/round_trips.py --build-dir BUILD [--names 10] [--rounds 3] [--delay-ms 200] [--seed N]
                         [--work-dir DIR] [--json FILE]

One helper serves both flows: before each login it is reloaded with `remember_factors = 0` (the old flow: the
memory is neither read nor written) or `30d` (the new flow), the two taking turns in a random order per round.
Each of --names pool users (an email and a phone, both mapped) logs in once under the new flow first (its first
login: nothing remembered yet), then --rounds times under each flow: choose the email code at the menu, type the
code the stand-in sent. Every login must succeed. For each login the stand-in's request log gives the sign-in
requests it made; the login is timed from the start of keyboard-interactive authentication to sshd's success.

It prints the requests per login (old flow; new flow, first and remembered), the login time of each flow
(median, p10, p90), their ratio and a two-sided Mann-Whitney U test, and the time to the menu (from the start
of authentication to the first prompt). Run as root (the e2e rig: a private mount and PID namespace,
tests/e2e/e2e_support.py). Build first: `cmake --build BUILD --target pam-passwordless-helper pam_passwordless`.
Not a test: nothing here fails but a login that does not succeed.
"""

import argparse
import json
import os
import random
import signal
import socket
import statistics
import string
import sys
import time

from bench_support import SOURCE, mann_whitney

sys.path.insert(0, os.path.join(SOURCE, "tests", "e2e"))

import e2e_support as e2e  # noqa: E402
import sshd_login  # noqa: E402

EMAIL_DOMAIN = "example.com"
FLOWS = {"old": "remember_factors = 0", "new": "remember_factors = 30d"}


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--work-dir", help="default: BUILD/bench/round_trips")
    ap.add_argument("--names", type=int, default=10, help="pool users (default 10)")
    ap.add_argument("--rounds", type=int, default=3, help="timed logins of each name under each flow (default 3)")
    ap.add_argument("--delay-ms", type=int, default=200, help="added delay of every pool answer (default 200)")
    ap.add_argument("--seed", type=int, help="for the names and the order (default: a fresh one, printed)")
    ap.add_argument("--json", help="write every login and the figures here")
    args = ap.parse_args()
    if args.names < 1 or args.rounds < 2:
        ap.error("--names must be at least 1 and --rounds at least 2")
    return args


def phone_of(number):
    return f"+1555{number:07d}"


def sign_in_requests(standin):
    with open(os.path.join(standin.dir, "requests.jsonl"), encoding="utf-8") as f:
        return sum(1 for line in f if '"op": "InitiateAuth"' in line or '"op": "RespondToAuthChallenge"' in line)


def login(sshd, standin, user):
    """One email-code login through keyboard-interactive: seconds to the first prompt, seconds in all, and the
    sign-in requests it made."""
    import paramiko
    before = sign_in_requests(standin)
    sock = socket.create_connection(("127.0.0.1", sshd.port), timeout=30)
    transport = paramiko.Transport(sock)
    first = []
    try:
        transport.start_client(timeout=30)

        def handler(title, instructions, prompts):
            first.append(time.monotonic())
            answers = []
            for p, _ in prompts:
                if "Choice [" in p:
                    answers.append("1")
                elif p.endswith("? [Y/n] "):
                    answers.append("")
                else:
                    e2e.check("Code sent to" in p, f"{user}: unexpected prompt {p!r}")
                    answers.append(standin.latest_code(f"{user}@{EMAIL_DOMAIN}") or "none")
            return answers

        began = time.monotonic()
        transport.auth_interactive(user, handler)
        ended = time.monotonic()
        e2e.check(transport.is_authenticated(), f"{user} was not let in")
    finally:
        transport.close()
    return {"to_menu": first[0] - began, "whole": ended - began, "requests": sign_in_requests(standin) - before}


def figures(values):
    v = sorted(values)
    return {"median": statistics.median(v), "p10": v[len(v) // 10], "p90": v[(len(v) * 9) // 10], "n": len(v)}


def main():
    args = e2e.enter_namespace(parse_args)
    build = os.path.abspath(args.build_dir)
    module = os.path.join(build, "pam_passwordless", "pam_passwordless.so")
    helper_bin = os.path.join(build, "helper", "pam-passwordless-helper")
    sandbox = e2e.Sandbox(os.path.abspath(args.work_dir or os.path.join(build, "bench", "round_trips")))
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 32)
    rng = random.Random(seed)
    names = sorted({"".join(rng.choice(string.ascii_lowercase) for _ in range(8)) for _ in range(args.names)})
    result = {"seed": seed, "names": names, "logins": []}

    def body():
        sandbox.standard()
        sandbox.add_users(names)
        pool_users = [e2e.StandIn.pool_user(n, i, email=f"{n}@{EMAIL_DOMAIN}", phone=phone_of(i))
                      for i, n in enumerate(names)]
        standin = e2e.StandIn(sandbox, extra_users=pool_users)

        def config(helper_dir, flow):
            return standin.pool_section(helper_dir) + "\n".join([
                "[login]", "methods = email_otp sms_otp", "request_timeout = 5", FLOWS[flow],
                "[binding]", f"mapping_file = {helper_dir}/identities",
                "[limits]", f"state_file = {helper_dir}/limits", "sends_per_identifier = 1000",
                "sends_per_rhost = 100000", "sends_per_hour = 100000", "pool_asks_per_network = 100000", ""])

        def first_config(helper_dir):
            e2e.write(os.path.join(helper_dir, "identities"),
                      "".join(f"{n} {n}@{EMAIL_DOMAIN}\n{n} {phone_of(i)}\n" for i, n in enumerate(names)), 0o600)
            return config(helper_dir, "new")

        helper = e2e.Helper(sandbox, helper_bin, first_config)
        flow_now = ["new"]

        def use(flow):
            if flow_now[0] == flow:
                return
            reloads = helper.log().count("configuration reloaded")
            e2e.write(helper.config_path, config(helper.dir, flow))
            helper.proc.send_signal(signal.SIGHUP)
            e2e.wait_for(lambda: helper.log().count("configuration reloaded") > reloads, "the reload")
            flow_now[0] = flow

        sshd = sshd_login.Sshd(sandbox, module)
        standin.control({"delay_ms": args.delay_ms})
        for n in names:
            result["logins"].append({"name": n, "flow": "new", "first": True, **login(sshd, standin, n)})
        for r in range(args.rounds):
            order = [(n, f) for n in names for f in FLOWS]
            rng.shuffle(order)
            for n, f in order:
                use(f)
                result["logins"].append({"name": n, "flow": f, "first": False, "round": r,
                                         **login(sshd, standin, n)})

        logins = result["logins"]
        groups = {"old": [x for x in logins if x["flow"] == "old"],
                  "new, first login": [x for x in logins if x["first"]],
                  "new, remembered": [x for x in logins if x["flow"] == "new" and not x["first"]]}
        e2e.say(f"{len(names)} names, {args.rounds} rounds per flow, pool delay {args.delay_ms} ms, seed {seed}")
        e2e.say(f"{'flow':18} {'n':>4} {'requests':>9} {'to menu ms (median)':>20} {'login ms: median':>17} "
                f"{'p10':>7} {'p90':>7}")
        out = {}
        for g, xs in groups.items():
            req = sorted({x["requests"] for x in xs})
            w = figures([1000 * x["whole"] for x in xs])
            m = figures([1000 * x["to_menu"] for x in xs])
            out[g] = {"requests": req, "whole_ms": w, "to_menu_ms": m}
            e2e.say(f"{g:18} {len(xs):4} {'/'.join(map(str, req)):>9} {m['median']:20.1f} {w['median']:17.1f} "
                    f"{w['p10']:7.1f} {w['p90']:7.1f}")
        old = [x["whole"] for x in groups["old"]]
        new = [x["whole"] for x in groups["new, remembered"]]
        u, p = mann_whitney(new, old)
        ratio = statistics.median(new) / statistics.median(old)
        out["remembered_over_old"] = {"ratio_of_medians": ratio, "mann_whitney_u": u, "mann_whitney_p": p}
        e2e.say(f"login time, remembered / old: {ratio:.3f} (Mann-Whitney U = {u:.1f}, p = {p:.2g})")
        result["figures"] = out

    status = e2e.run_main(body)
    sandbox.stop_all()
    if args.json and "figures" in result:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
