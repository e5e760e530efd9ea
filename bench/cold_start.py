#!/usr/bin/python3
"""Cold start of the socket-activated helper, side by side: a baseline build (normally main's) and this tree.

    bench/cold_start.py --build-dir BUILD --baseline-build-dir BASE [--runs 15] [--think-ms 0 500]
                        [--work-dir DIR] [--json FILE] [--helper-prefix CMD] [--baseline-prefix CMD]

The helper is started the way systemd starts it (pam-passwordless-helper.socket, Accept=no): this script owns
the listening socket, a login connects to it and sends its Begin while no helper runs, and when the socket turns
readable the script forks and execs the helper with the socket as descriptor 3 and LISTEN_PID / LISTEN_FDS set.
The login is one email-code login through the real module under the real libpam (tests/load's driver, a process
of its own in a private mount namespace) against the local user-pool stand-in (tests/cognito_standin). Right
after it, a second login on the same helper is the warm one; then the helper is stopped (SIGTERM).

Each login reports, measured in its own process from the start of pam_authenticate:
  - first answer: until the helper's first message reaches the conversation (here the offer
    "Send a code to ...? [Y/n]", the first prompt the person sees);
  - whole login: until pam_authenticate returns (offer, code sent, code checked, ID token verified).
Cold - warm of each is the cost of the cold start. A pass is made for each --think-ms: how long the person
takes to answer the first prompt (0: at once, the worst case for whatever the helper prepares meanwhile; 500:
a quick reader), the same for the cold and the warm login. Runs alternate between the two helpers, the first of each
pair alternating too. Medians, the ratio of medians (this tree / baseline) and a two-sided Mann-Whitney U test
(normal approximation, ties averaged) on each measure. Each helper uses its own build's module; the driver is
this tree's. Both keep their limit state between runs (page cache warm, as after a restart). Needs root. Build
first (both trees): `cmake --build B --target login_load_driver pam-passwordless-helper pam_passwordless`.
"""

import argparse
import json
import os
import select
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

from bench_support import NSS_WRAPPER, SECRET, STANDIN, mann_whitney, wait_for, write

SERVICE = "pp-cold"
USERS = 8


class Helper:
    """One build's helper, socket-activated afresh for every cold start."""

    def __init__(self, label, build, work, standin, users, driver, prefix=()):
        self.label, self.work, self.driver, self.pid, self.prefix = label, work, driver, None, list(prefix)
        self.binary = os.path.join(build, "helper", "pam-passwordless-helper")
        module = os.path.join(build, "pam_passwordless", "pam_passwordless.so")
        for path in (self.binary, module):
            if not os.path.exists(path):
                sys.exit(f"cold_start: {path} is missing; build it first")
        os.makedirs(os.path.join(work, "pam.d"), exist_ok=True)
        os.makedirs(os.path.join(work, "state"), mode=0o700, exist_ok=True)
        for d in (work, os.path.join(work, "pam.d")):
            os.chmod(d, 0o755)
        write(os.path.join(work, "client-secret"), SECRET + "\n", 0o600)
        write(os.path.join(work, "passwd"), "root:x:0:0:root:/root:/bin/sh\n" + "".join(
            f"user{i}:x:{2000 + i}:{2000 + i}::/nonexistent:/bin/sh\n" for i in range(USERS)))
        write(os.path.join(work, "group"), "root:x:0:\n" + "".join(f"user{i}:x:{2000 + i}:\n" for i in range(USERS)))
        self.socket_path = os.path.join(work, "helper.sock")
        self.config = os.path.join(work, "helper.conf")
        write(self.config, "\n".join([
            "[pool]", "pool_id = us-east-1_TestPool", "client_id = testclient123",
            f"client_secret_file = {work}/client-secret", f"endpoint = {standin['url']}",
            f"issuer = {standin['issuer']}", f"ca_file = {standin['ca_file']}",
            "[login]", "methods = email_otp", "request_timeout = 30",
            "[binding]", f"mapping_file = {users}",
            "[limits]", "sends_per_identifier = 1000", "sends_per_rhost = 100000", "sends_per_hour = 1000000",
            f"state_file = {work}/state/limits", ""]))
        write(os.path.join(work, "pam.d", SERVICE),
              f"auth required {module} socket={self.socket_path} timeout=300\naccount required pam_permit.so\n")
        write(os.path.join(work, "pam.d", "other"), "auth required pam_deny.so\naccount required pam_deny.so\n")
        self.listener = None

    def listen(self):
        """What systemd does when the .socket unit starts: the socket exists, no helper runs."""
        if os.path.lexists(self.socket_path):
            os.unlink(self.socket_path)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.listener.bind(self.socket_path)
        os.chmod(self.socket_path, 0o666)
        self.listener.listen(128)

    def activate(self):
        """What systemd does when the socket turns readable: fork, descriptor 3, LISTEN_*, exec."""
        log = os.open(os.path.join(self.work, "helper.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        pid = os.fork()
        if pid == 0:
            try:
                os.dup2(self.listener.fileno(), 3)
                os.set_inheritable(3, True)
                os.dup2(log, 1)
                os.dup2(log, 2)
                env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LISTEN_PID": str(os.getpid()),
                       "LISTEN_FDS": "1", "LISTEN_FDNAMES": "pam-passwordless-helper.socket",
                       "LD_PRELOAD": NSS_WRAPPER, "NSS_WRAPPER_PASSWD": os.path.join(self.work, "passwd"),
                       "NSS_WRAPPER_GROUP": os.path.join(self.work, "group")}
                argv = self.prefix + [self.binary, "--foreground", "--config", self.config]
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        os.close(log)
        self.pid = pid

    def login(self, tag, think_ms):
        """Starts one login (a process of its own); returns the Popen."""
        return subprocess.Popen(
            [self.driver, "run", "--pam-dir", os.path.join(self.work, "pam.d"), "--service", SERVICE,
             "--users", str(USERS), "--logins", "1", "--concurrency", "1",
             "--outbox", self.outbox, "--work", os.path.join(self.work, tag), "--think-ms", str(think_ms)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def finish(self, proc):
        out, err = proc.communicate(timeout=120)
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        if not lines or lines[-1].get("succeeded") != 1:
            sys.exit(f"cold_start: {self.label}: the login failed: {err[-2000:]}")
        return lines[0]["first_answer_seconds"] * 1000.0, lines[0]["seconds"] * 1000.0

    def stop(self):
        if self.pid is not None:
            os.kill(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            while os.waitpid(self.pid, os.WNOHANG) == (0, 0):
                if time.monotonic() > deadline:
                    os.kill(self.pid, signal.SIGKILL)
                    os.waitpid(self.pid, 0)
                    break
                time.sleep(0.005)
            self.pid = None
        if self.listener is not None:
            self.listener.close()
            self.listener = None

    def cold_and_warm(self, i, think_ms):
        self.listen()
        login = self.login(f"cold{i}", think_ms)
        # The login's connection makes the listening socket readable: that is when systemd starts the unit.
        poller = select.poll()
        poller.register(self.listener.fileno(), select.POLLIN)
        if not poller.poll(30000):
            login.kill()
            sys.exit(f"cold_start: {self.label}: no login reached the socket")
        self.activate()
        cold = self.finish(login)
        warm = self.finish(self.login(f"warm{i}", think_ms))
        self.stop()
        return cold, warm


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--baseline-build-dir", required=True)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--think-ms", type=int, nargs="+", default=[0, 500],
                    help="the person's pause before answering the first prompt; one pass per value (default 0 500)")
    ap.add_argument("--work-dir")
    ap.add_argument("--json")
    ap.add_argument("--helper-prefix", default="",
                    help="a profiler in front of this tree's helper that keeps its pid, e.g. 'strace -D -f -r -T -o F'")
    ap.add_argument("--baseline-prefix", default="", help="the same for the baseline's helper")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("cold_start: needs root")
    build, base = os.path.abspath(args.build_dir), os.path.abspath(args.baseline_build_dir)
    driver = os.path.join(build, "tests", "load", "login_load_driver")
    if not os.path.exists(driver):
        sys.exit(f"cold_start: {driver} is missing; build it first")
    if not os.path.exists(NSS_WRAPPER):
        sys.exit(f"cold_start: {NSS_WRAPPER} is missing: apt-get install libnss-wrapper")

    work = os.path.abspath(args.work_dir or os.path.join(build, "bench", "cold_start"))
    shutil.rmtree(work, ignore_errors=True)
    sdir = os.path.join(work, "standin")
    os.makedirs(sdir)
    for d in (work, sdir):
        os.chmod(d, 0o755)
    users = os.path.join(work, "identities")
    subprocess.run([driver, "pool", "--users", str(USERS), "--pool", os.path.join(work, "pool.json"),
                    "--identities", users], check=True)
    os.chmod(users, 0o644)

    standin_proc, helpers = None, []
    try:
        log = open(os.path.join(sdir, "standin.log"), "ab")
        standin_proc = subprocess.Popen(
            ["/usr/bin/python3", STANDIN, "serve", "--state-dir", sdir, "--pool", os.path.join(work, "pool.json"),
             "--port", "0"], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        wait_for(lambda: os.path.exists(os.path.join(sdir, "ready.json")), "the stand-in")
        with open(os.path.join(sdir, "ready.json"), encoding="utf-8") as f:
            standin = json.load(f)
        helpers = [Helper(label, b, os.path.join(work, label.replace(" ", "-")), standin, users, driver,
                          shlex.split(prefix))
                   for label, b, prefix in (("baseline", base, args.baseline_prefix),
                                            ("this tree", build, args.helper_prefix))]
        for h in helpers:
            h.outbox = os.path.join(sdir, "outbox.jsonl")

        keys = ("cold_first_ms", "warm_first_ms", "cold_login_ms", "warm_login_ms", "first_extra_ms",
                "login_extra_ms")
        # One untimed start each: the binaries and libraries into the page cache, the state files created.
        for h in helpers:
            h.cold_and_warm("warmup", 0)
        report = {}
        for think_ms in args.think_ms:
            results = {h.label: {k: [] for k in keys} for h in helpers}
            print(f"\n{args.runs} socket-activated cold starts per helper, alternating; the person answers the first "
                  f"prompt after {think_ms} ms")
            for i in range(args.runs):
                for h in (helpers if i % 2 == 0 else helpers[::-1]):
                    (cf, cl), (wf, wl) = h.cold_and_warm(f"{think_ms}-{i}", think_ms)
                    r = results[h.label]
                    for k, v in zip(keys, (cf, wf, cl, wl, cf - wf, cl - wl)):
                        r[k].append(v)
                    print(f"  run {i:2} {h.label:>9}: first answer cold {cf:7.1f} warm {wf:6.1f} (+{cf - wf:6.1f}) ms; "
                          f"whole login cold {cl:7.1f} warm {wl:6.1f} (+{cl - wl:6.1f}) ms", flush=True)
            print(f"medians (ms), first prompt answered after {think_ms} ms")
            summary = {}
            for label, r in results.items():
                summary[label] = {k: statistics.median(v) for k, v in r.items()}
                s = summary[label]
                print(f"  {label:>9}: first answer cold {s['cold_first_ms']:.1f}, warm {s['warm_first_ms']:.1f}, "
                      f"cold - warm {s['first_extra_ms']:.1f}; whole login cold {s['cold_login_ms']:.1f}, "
                      f"warm {s['warm_login_ms']:.1f}, cold - warm {s['login_extra_ms']:.1f}")
            tests = {}
            for k in ("first_extra_ms", "login_extra_ms"):
                u, p = mann_whitney(results["this tree"][k], results["baseline"][k])
                base = summary["baseline"][k]
                ratio = summary["this tree"][k] / base if base else float("nan")
                tests[k] = {"u": u, "p": p, "ratio": ratio}
                print(f"  {k}: this tree / baseline {ratio:.2f}, Mann-Whitney U = {u:.0f}, two-sided p = {p:.2g} "
                      f"(n = {args.runs} each)")
            report[think_ms] = {"runs": results, "summary": summary, "tests": tests}
        if args.json:
            write(args.json, json.dumps(report, indent=2) + "\n")
        return 0
    finally:
        for h in helpers:
            h.stop()
        if standin_proc and standin_proc.poll() is None:
            standin_proc.send_signal(signal.SIGTERM)
            standin_proc.wait(timeout=15)


if __name__ == "__main__":
    sys.exit(main())
