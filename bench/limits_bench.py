#!/usr/bin/python3
"""The limits' cost, side by side: two helpers (a baseline build, normally main's, and this tree's) in one run,
against one local user-pool stand-in, with the real module under the real libpam (tests/load's driver).

    bench/limits_bench.py --build-dir BUILD --baseline-build-dir BASE [--baseline-own-stack] [--logins 200]
                          [--in-flight N] [--rounds 10] [--cold-runs 15] [--work-dir DIR] [--json FILE]

1. Helper CPU per code login: --rounds rounds; in each, each helper in turn (which goes first alternates round
   by round, so neither always runs beside the same background), a warm-up round of --logins logins at
   --in-flight (default --logins) in flight, then a measured round of the same; the helper's utime+stime
   (/proc/PID/stat), with its network worker's (pool_worker/, a child process), over the measured round divided
   by the logins; and the same for the root process alone. TLS handshakes: a worker that keeps fewer idle HTTPS
   connections than there are logins in flight (8 before session 15, 256 since: pool_worker/http_client.cpp)
   opens connections in every round. The script counts the connections each measured round opens (the
   helper's sockets to the stand-in, sampled every 5 ms with ss) and measures a second figure at 8 in flight
   after a warm-up at 8, where no connection is opened: CPU per login without handshakes. After each measured round
   at the high level, the memory each helper holds for it: VmRSS of the root process and of the worker, and
   their threads (the connections and idle threads a burst leaves), compared the same way. Both helpers get the same treatment. Each of the
   four figures (helper + worker, root alone; 8 and --logins in flight) is compared as the ratio of the
   medians and a two-sided Mann-Whitney U test over the rounds.
2. Cold start: --cold-runs times per helper, alternating, the helper is started afresh on its existing state
   (page cache warm, as after a restart), and the time from its start to the end of a first login is
   compared with a second login on the same process: cold - warm. A Mann-Whitney U test compares the two
   helpers' cold overheads.

The baseline is started on a state file of its own format; each helper has its own directory, socket and
state. Both helpers are logged in to with this tree's module and load driver, unless --baseline-own-stack: then
the baseline's logins run its own build's module and driver, for a baseline whose module and helper speak an
older protocol than this tree's (the tree issue #10 was filed against: bench/README.md, session 27). Such a
baseline's configuration gets only the keys its own sample configuration (conf/helper.conf of its source, read
from its CMakeCache.txt) names; one that names none of its threads pp- is idle when it has no more threads
than when it started. Needs root. Build first (both trees): `cmake --build B --target login_load_driver
pam-passwordless-helper pam_passwordless`.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

from bench_support import NSS_WRAPPER, SECRET, STANDIN, mann_whitney, thread_names, wait_for, write

SERVICE = "pp-bench"
TICK = os.sysconf("SC_CLK_TCK")


def process_tree(pid):
    """The helper and the processes it started: the network worker (pool_worker/), where the helper has one."""
    pids = [pid]
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as f:
                pids += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return pids


def cpu_ticks(pid, root_only=False):
    """utime + stime of the helper and its worker (root_only: the root process alone)."""
    total = 0
    for p in [pid] if root_only else process_tree(pid):
        try:
            with open(f"/proc/{p}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat(5))
        except OSError:
            pass  # ended between the listing and the read
    return total


class ConnectionCounter:
    """Counts the distinct TCP connections a process holds to a port while it runs (sampled with ss)."""

    def __init__(self, pid, port):
        self.pid, self.port, self.seen, self._stop = pid, port, set(), threading.Event()

    def sample(self):
        out = subprocess.run(["ss", "-tnpH", "state", "established", f"( dport = :{self.port} )"],
                             capture_output=True, text=True).stdout
        pids = process_tree(self.pid)
        return {line.split()[2] for line in out.splitlines() if any(f"pid={p}," in line for p in pids)}

    def __enter__(self):
        self.before = self.sample()
        self.thread = threading.Thread(target=self._run)
        self.thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.seen |= self.sample()
            time.sleep(0.005)

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join()
        self.seen |= self.sample()
        self.new = len(self.seen - self.before)


class Helper:
    def __init__(self, label, binary, work, standin, module, users, extra_limits=(), driver=None):
        self.label, self.binary, self.work, self.proc, self.driver = label, binary, work, None, driver
        self.idle_threads = 0  # its thread count when it started, for a helper that does not name its threads
        os.makedirs(os.path.join(work, "pam.d"), exist_ok=True)
        for d in (work, os.path.join(work, "pam.d")):
            os.chmod(d, 0o755)
        write(os.path.join(work, "client-secret"), SECRET + "\n", 0o600)
        self.socket = os.path.join(work, "helper.sock")
        write(os.path.join(work, "helper.conf"), "\n".join([
            "[pool]", "pool_id = us-east-1_TestPool", "client_id = testclient123",
            f"client_secret_file = {work}/client-secret", f"endpoint = {standin['url']}",
            f"issuer = {standin['issuer']}", f"ca_file = {standin['ca_file']}",
            "[login]", "methods = email_otp", "request_timeout = 30", "login_timeout = 300",
            "max_concurrent_logins = 1024", "max_concurrent_per_caller = 1024",
            "[binding]", f"mapping_file = {users}",
            "[limits]", "sends_per_identifier = 1000", "sends_per_rhost = 100000",
            "failures_before_backoff = 100", f"state_file = {work}/limits", *extra_limits, ""]))
        with open(users, encoding="utf-8") as f:
            names = sorted({line.split()[0] for line in f if line.strip() and not line.startswith("#")})
        write(os.path.join(work, "passwd"), "root:x:0:0:root:/root:/bin/sh\n" + "".join(
            f"{n}:x:{2000 + i}:{2000 + i}::/nonexistent:/bin/sh\n" for i, n in enumerate(names)))
        write(os.path.join(work, "group"), "root:x:0:\n")
        write(os.path.join(work, "pam.d", SERVICE),
              f"auth required {module} socket={self.socket} timeout=300\naccount required pam_permit.so\n")
        write(os.path.join(work, "pam.d", "other"), "auth required pam_deny.so\naccount required pam_deny.so\n")

    def start(self):
        if os.path.exists(self.socket):
            os.unlink(self.socket)
        log = open(os.path.join(self.work, "helper.log"), "ab")
        started = time.monotonic()
        # The helper serves only local accounts: it runs under nss_wrapper with the bench's users as accounts
        # (env execs it, so proc.pid is the helper's own).
        self.proc = subprocess.Popen(
            ["/usr/bin/env", "LD_PRELOAD=" + NSS_WRAPPER, f"NSS_WRAPPER_PASSWD={self.work}/passwd",
             f"NSS_WRAPPER_GROUP={self.work}/group", self.binary, "--foreground", "--socket", self.socket, "--config", os.path.join(self.work, "helper.conf")],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        wait_for(lambda: os.path.exists(self.socket), f"the {self.label} helper")
        self.ready_ms = (time.monotonic() - started) * 1000.0
        self.idle_threads = len(thread_names(self.proc.pid))
        return started

    def idle(self):
        """No login running: none of its threads named pp-login, or, for an older helper that names none of its
        threads pp-, no more threads than when it started."""
        names = thread_names(self.proc.pid)
        if any(name.startswith("pp-") for name in names):
            return names.count("pp-login") == 0
        return len(names) <= self.idle_threads

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def known_keys(build):
    """The configuration keys a build's helper knows: those its source's sample configuration names."""
    with open(os.path.join(build, "CMakeCache.txt"), encoding="utf-8") as f:
        source = next(line.split("=", 1)[1].strip() for line in f if line.startswith("CMAKE_HOME_DIRECTORY:"))
    with open(os.path.join(source, "conf", "helper.conf"), encoding="utf-8") as f:
        return {line.lstrip("#").split("=", 1)[0].strip() for line in f if "=" in line}


def run_logins(driver, helper, users, logins, concurrency, outbox, tag):
    driver = helper.driver or driver
    run = subprocess.run(
        [driver, "run", "--pam-dir", os.path.join(helper.work, "pam.d"), "--service", SERVICE, "--users", str(users),
         "--logins", str(logins), "--concurrency", str(concurrency), "--outbox", outbox,
         "--work", os.path.join(helper.work, tag)],
        capture_output=True, text=True)
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    wait_for(helper.idle, "the helper to be idle", 120)
    if not lines or lines[-1].get("succeeded") != logins:
        sys.exit(f"limits_bench: {helper.label}: not every login succeeded: {run.stderr[-2000:]}")
    return lines


def rss_kib(pid):
    """VmRSS of one process, in KiB (0 when it has ended)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return 0


def memory(pid):
    """(root process KiB, network worker KiB, threads of both) after a round."""
    tree = process_tree(pid)
    threads = sum(len(os.listdir(f"/proc/{p}/task")) for p in tree if os.path.isdir(f"/proc/{p}/task"))
    return rss_kib(pid), sum(rss_kib(p) for p in tree[1:]), threads


def cpu_round(driver, helper, users, logins, concurrency, outbox, port, tag):
    run_logins(driver, helper, users, logins, concurrency, outbox, tag + "-warm")
    before, root_before = cpu_ticks(helper.proc.pid), cpu_ticks(helper.proc.pid, root_only=True)
    with ConnectionCounter(helper.proc.pid, port) as conns:
        run_logins(driver, helper, users, logins, concurrency, outbox, tag)
    ms = (cpu_ticks(helper.proc.pid) - before) * 1000.0 / TICK
    root_ms = (cpu_ticks(helper.proc.pid, root_only=True) - root_before) * 1000.0 / TICK
    return ms / logins, root_ms / logins, conns.new, memory(helper.proc.pid)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--baseline-build-dir", required=True)
    # The baseline logs in with its own module and load driver (an older protocol between them).
    ap.add_argument("--baseline-own-stack", action="store_true")
    ap.add_argument("--logins", type=int, default=200)
    # How many of them in flight in the high level (default: all of them at once); never more than --users.
    ap.add_argument("--in-flight", type=int)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--cold-runs", type=int, default=15)  # 0: no cold starts
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--work-dir")
    ap.add_argument("--json")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("limits_bench: needs root")
    build, base = os.path.abspath(args.build_dir), os.path.abspath(args.baseline_build_dir)
    driver = os.path.join(build, "tests", "load", "login_load_driver")
    module = os.path.join(build, "pam_passwordless", "pam_passwordless.so")
    binaries = {"baseline": os.path.join(base, "helper", "pam-passwordless-helper"),
                "this tree": os.path.join(build, "helper", "pam-passwordless-helper")}
    # Each helper's (module, load driver); None: this tree's driver.
    stack = {label: (module, None) for label in binaries}
    if args.baseline_own_stack:
        stack["baseline"] = (os.path.join(base, "pam_passwordless", "pam_passwordless.so"),
                             os.path.join(base, "tests", "load", "login_load_driver"))
    for path in [driver, *binaries.values(), *(p for pair in stack.values() for p in pair if p)]:
        if not os.path.exists(path):
            sys.exit(f"limits_bench: {path} is missing; build it first")

    work = os.path.abspath(args.work_dir or os.path.join(build, "bench", "limits_bench"))
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "standin"))
    for d in (work, os.path.join(work, "standin")):
        os.chmod(d, 0o755)
    users = os.path.join(work, "identities")
    subprocess.run([driver, "pool", "--users", str(args.users), "--pool", os.path.join(work, "pool.json"),
                    "--identities", users], check=True)
    os.chmod(users, 0o644)

    standin_proc, helpers = None, []
    try:
        sdir = os.path.join(work, "standin")
        log = open(os.path.join(sdir, "standin.log"), "ab")
        standin_proc = subprocess.Popen(
            ["/usr/bin/python3", STANDIN, "serve", "--state-dir", sdir, "--pool", os.path.join(work, "pool.json"),
             "--port", "0"], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        wait_for(lambda: os.path.exists(os.path.join(sdir, "ready.json")), "the stand-in")
        with open(os.path.join(sdir, "ready.json"), encoding="utf-8") as f:
            standin = json.load(f)
        port = int(standin["url"].rstrip("/").rsplit(":", 1)[1])
        outbox = os.path.join(sdir, "outbox.jsonl")
        # The machine's ceiling (sends_per_hour) is lifted: the bench sends thousands of codes an hour.
        ceiling = {label: ["sends_per_hour = 1000000"] for label in binaries}
        if args.baseline_own_stack and "sends_per_hour" not in known_keys(base):
            ceiling["baseline"] = []  # a baseline from before the machine's ceiling has none to lift
        helpers = [Helper(label, binary, os.path.join(work, label.replace(" ", "-")), standin, stack[label][0], users,
                          ceiling[label], stack[label][1])
                   for label, binary in binaries.items()]

        results = {h.label: {"cpu_ms_per_login_200": [], "new_connections_200": [], "cpu_ms_per_login_8": [],
                             "root_cpu_ms_per_login_200": [], "root_cpu_ms_per_login_8": [],
                             "new_connections_8": [], "cold_minus_warm_ms": [], "start_to_socket_ms": [],
                             "root_rss_kib_200": [], "worker_rss_kib_200": [], "threads_200": []}
                   for h in helpers}
        for h in helpers:
            h.start()
        print(f"CPU per login ({args.logins} logins a round, {args.in_flight or args.logins} and 8 in flight, after a warm-up round at the same level; "
              f"{args.rounds} rounds, the helper that goes first alternating)")
        for r in range(args.rounds):
            for h in (helpers if r % 2 == 0 else helpers[::-1]):
                for level in (args.in_flight or args.logins, 8):
                    ms, root_ms, new, (root_kib, worker_kib, threads) = cpu_round(
                        driver, h, args.users, args.logins, level, outbox, port, f"r{r}-{level}")
                    key = 200 if level != 8 else 8
                    results[h.label][f"cpu_ms_per_login_{key}"].append(ms)
                    results[h.label][f"root_cpu_ms_per_login_{key}"].append(root_ms)
                    results[h.label][f"new_connections_{key}"].append(new)
                    if key == 200:
                        # What holding a burst's connections and threads costs, right after it.
                        results[h.label]["root_rss_kib_200"].append(root_kib)
                        results[h.label]["worker_rss_kib_200"].append(worker_kib)
                        results[h.label]["threads_200"].append(threads)
                    print(f"  round {r} {h.label:>9}: {level:>3} in flight: {ms:6.3f} ms CPU per login "
                          f"({root_ms:6.3f} in the root process), {new} new TLS connections, "
                          f"load {os.getloadavg()[0]:.1f}", flush=True)
        for h in helpers:
            h.stop()

        print(f"cold start: {args.cold_runs} starts per helper, alternating")
        for i in range(args.cold_runs):
            for h in helpers:
                started = h.start()
                first = run_logins(driver, h, args.users, 1, 1, outbox, f"cold{i}")
                cold_end = time.monotonic()
                second = run_logins(driver, h, args.users, 1, 1, outbox, f"warm{i}")
                # From the helper's start to the end of the first login, against one warm login's time.
                cold_ms = (cold_end - started) * 1000.0
                warm_ms = second[0]["seconds"] * 1000.0
                first_ms = first[0]["seconds"] * 1000.0
                results[h.label]["cold_minus_warm_ms"].append(cold_ms - warm_ms)
                results[h.label]["start_to_socket_ms"].append(h.ready_ms)
                h.stop()
                print(f"  run {i} {h.label:>9}: start to first answer {cold_ms:7.1f} ms (socket after {h.ready_ms:5.1f}, "
                      f"first login {first_ms:6.1f}), "
                      f"warm login {warm_ms:6.1f} ms", flush=True)

        print("\nsummary (medians)")
        summary = {}
        for label, r in results.items():
            summary[label] = {k: statistics.median(v) if v else float("nan") for k, v in r.items()}
            s = summary[label]
            print(f"  {label:>9}: CPU/login at {args.in_flight or args.logins} in flight {s['cpu_ms_per_login_200']:.3f} ms "
                  f"({s['new_connections_200']:.0f} new TLS connections a round); at 8 in flight "
                  f"{s['cpu_ms_per_login_8']:.3f} ms ({s['new_connections_8']:.0f}); in the root process alone "
                  f"{s['root_cpu_ms_per_login_200']:.3f} and {s['root_cpu_ms_per_login_8']:.3f} ms")
            if r["cold_minus_warm_ms"]:
                print(f"  {'':>9}  cold - warm {s['cold_minus_warm_ms']:.1f} ms "
                      f"(start to socket {s['start_to_socket_ms']:.1f} ms)")
        b, t = summary["baseline"], summary["this tree"]
        # Each CPU figure, this tree against the baseline: the ratio of the medians and a two-sided Mann-Whitney
        # U test over the rounds (both helpers ran each round, alternating which went first).
        tests = {}
        for key, what in (("cpu_ms_per_login_8", "helper + worker, 8 in flight (no handshakes)"),
                          ("root_cpu_ms_per_login_8", "root process alone, 8 in flight (no handshakes)"),
                          ("cpu_ms_per_login_200", f"helper + worker, {args.in_flight or args.logins} in flight"),
                          ("root_cpu_ms_per_login_200", f"root process alone, {args.in_flight or args.logins} in flight"),
                          ("root_rss_kib_200", "root process VmRSS KiB after a round at that level"),
                          ("worker_rss_kib_200", "network worker VmRSS KiB after a round at that level"),
                          ("threads_200", "threads of both after a round at that level")):
            if b[key] == 0:  # a baseline from before the network worker (issue #12) has no worker to weigh
                print(f"  {what}: the baseline has no network worker")
                continue
            u, p = mann_whitney(results["this tree"][key], results["baseline"][key])
            lower = sum(x < y for x, y in zip(results["this tree"][key], results["baseline"][key]))
            tests[key] = {"ratio": t[key] / b[key], "u": u, "p": p, "lower_in_pairs": lower}
            print(f"  {what}: {b[key]:.{3 if 'cpu' in key else 0}f} -> {t[key]:.{3 if 'cpu' in key else 0}f}{' ms' if 'cpu' in key else ''}, this tree / baseline {t[key] / b[key]:.2f} "
                  f"(Mann-Whitney U = {u:.1f}, two-sided p = {p:.4f}, n = {args.rounds} each; "
                  f"lower in {lower} of {args.rounds} rounds)")
        results["cpu_tests"] = tests
        if results["this tree"]["cold_minus_warm_ms"]:
            u, p = mann_whitney(results["this tree"]["cold_minus_warm_ms"],
                                results["baseline"]["cold_minus_warm_ms"])
            print(f"  cold - warm, Mann-Whitney U = {u:.0f}, two-sided p = {p:.4f} (n = {args.cold_runs} each); "
                  f"ratio of medians {t['cold_minus_warm_ms'] / b['cold_minus_warm_ms']:.2f}")
            results["cold_mann_whitney"] = {"u": u, "p": p}
        results["summary"] = summary
        if args.json:
            write(args.json, json.dumps(results, indent=2) + "\n")
        return 0
    finally:
        for h in helpers:
            h.stop()
        if standin_proc and standin_proc.poll() is None:
            standin_proc.send_signal(signal.SIGTERM)
            standin_proc.wait(timeout=15)


if __name__ == "__main__":
    sys.exit(main())
