#!/usr/bin/python3
"""Login latency and throughput through the helper: the real module under the real libpam, the real helper,
and the local user-pool stand-in on 127.0.0.1, with one process per login as sshd has.

    bench/login_latency.py --build-dir BUILD [--concurrency 1,8,32,200] [--logins 200] [--users 200]
                           [--work-dir DIR] [--json FILE]

For each concurrency level it runs --logins email-code logins (user k mod --users, each answering with the code
the stand-in sent to that user) and reports the latency of pam_authenticate (p50, p90, p99, max), the
throughput, and the helper's resident memory after the level. Needs root (the helper trusts only root-owned
files; the logins run in a private mount namespace where the benchmark's directory is /etc/pam.d). Build first:
`cmake --build BUILD --target login_load_driver pam-passwordless-helper pam_passwordless`.

What it measures is the whole round trip, and the stand-in (single-process Python, TLS and RS256 signing)
is usually the slowest part: the figures bound the helper's overhead from above, they are not Cognito's
latency. Nothing here is a pass/fail test; tests/load holds the load test.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys

from bench_support import NSS_WRAPPER, SECRET, STANDIN, login_threads, wait_for, write

SERVICE = "pp-bench"


def status_field(pid, key):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1


def percentile(values, p):
    values = sorted(values)
    return values[round(p * (len(values) - 1))] if values else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--concurrency", default="1,8,32,200", help="comma-separated levels (default 1,8,32,200)")
    ap.add_argument("--logins", type=int, default=200, help="logins per level (default 200)")
    ap.add_argument("--users", type=int, default=200, help="distinct users, at most 676 (default 200)")
    ap.add_argument("--work-dir", help="default BUILD/bench/login_latency")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("login_latency: needs root (root-owned helper files, a private mount namespace for /etc/pam.d)")
    levels = [int(x) for x in args.concurrency.split(",")]

    build = os.path.abspath(args.build_dir)
    driver = os.path.join(build, "tests", "load", "login_load_driver")
    helper_bin = os.path.join(build, "helper", "pam-passwordless-helper")
    module = os.path.join(build, "pam_passwordless", "pam_passwordless.so")
    for path in (driver, helper_bin, module):
        if not os.path.exists(path):
            sys.exit(f"login_latency: {path} is missing; build it first")

    work = os.path.abspath(args.work_dir or os.path.join(build, "bench", "login_latency"))
    shutil.rmtree(work, ignore_errors=True)
    for sub in ("", "standin", "pam.d"):
        os.makedirs(os.path.join(work, sub), exist_ok=True)
        os.chmod(os.path.join(work, sub), 0o755)
    subprocess.run([driver, "pool", "--users", str(args.users), "--pool", os.path.join(work, "pool.json"),
                    "--identities", os.path.join(work, "identities")], check=True)
    os.chmod(os.path.join(work, "identities"), 0o644)

    procs = []
    try:
        standin_dir = os.path.join(work, "standin")
        log = open(os.path.join(standin_dir, "standin.log"), "ab")
        procs.append(subprocess.Popen(
            ["/usr/bin/python3", STANDIN, "serve", "--state-dir", standin_dir,
             "--pool", os.path.join(work, "pool.json"), "--port", "0"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log))
        ready = os.path.join(standin_dir, "ready.json")
        wait_for(lambda: os.path.exists(ready), "the user-pool stand-in")
        with open(ready, encoding="utf-8") as f:
            info = json.load(f)

        write(os.path.join(work, "client-secret"), SECRET + "\n", 0o600)
        write(os.path.join(work, "helper.conf"), "\n".join([
            "[pool]",
            "pool_id = us-east-1_TestPool",
            "client_id = testclient123",
            f"client_secret_file = {work}/client-secret",
            f"endpoint = {info['url']}",
            f"issuer = {info['issuer']}",
            f"ca_file = {info['ca_file']}",
            "[login]",
            "methods = email_otp",
            "request_timeout = 30",
            "login_timeout = 300",
            "max_concurrent_logins = 1024",
            "max_concurrent_per_caller = 1024",
            "[binding]",
            f"mapping_file = {work}/identities",
            "[limits]",
            "sends_per_identifier = 1000",
            "sends_per_rhost = 100000",
            "sends_per_hour = 1000000",
            "failures_before_backoff = 100",
            f"state_file = {work}/limits",
            ""]))
        socket = os.path.join(work, "helper.sock")
        log = open(os.path.join(work, "helper.log"), "ab")
        # The helper serves only local accounts: it runs under nss_wrapper with the bench's users as accounts
        # (env execs it, so helper_pid is the helper's own).
        with open(os.path.join(work, "identities"), encoding="utf-8") as f:
            names = sorted({line.split()[0] for line in f if line.strip() and not line.startswith("#")})
        write(os.path.join(work, "passwd"), "root:x:0:0:root:/root:/bin/sh\n" + "".join(
            f"{n}:x:{2000 + i}:{2000 + i}::/nonexistent:/bin/sh\n" for i, n in enumerate(names)))
        write(os.path.join(work, "group"), "root:x:0:\n")
        procs.append(subprocess.Popen(
            ["/usr/bin/env", "LD_PRELOAD=" + NSS_WRAPPER,
             f"NSS_WRAPPER_PASSWD={work}/passwd", f"NSS_WRAPPER_GROUP={work}/group",
             helper_bin, "--foreground", "--socket", socket, "--config", os.path.join(work, "helper.conf")],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log))
        helper_pid = procs[-1].pid
        wait_for(lambda: os.path.exists(socket), "the helper")
        write(os.path.join(work, "pam.d", SERVICE),
              f"auth required {module} socket={socket} timeout=300\naccount required pam_permit.so\n")
        write(os.path.join(work, "pam.d", "other"), "auth required pam_deny.so\naccount required pam_deny.so\n")

        results = {"helper_rss_idle_kib": status_field(helper_pid, "VmRSS"), "levels": []}
        print(f"helper idle: VmRSS {results['helper_rss_idle_kib']} KiB")
        print(f"{'in flight':>9} {'logins':>6} {'ok':>4} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} "
              f"{'logins/s':>9} {'RSS KiB':>8}")
        for level in levels:
            run = subprocess.run(
                [driver, "run", "--pam-dir", os.path.join(work, "pam.d"), "--service", SERVICE,
                 "--users", str(args.users), "--logins", str(args.logins), "--concurrency", str(level),
                 "--outbox", os.path.join(standin_dir, "outbox.jsonl"),
                 "--work", os.path.join(work, f"level-{level}")],
                capture_output=True, text=True)
            lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
            summary = lines[-1]
            latencies = [1000 * x["seconds"] for x in lines[:-1]]
            wait_for(lambda: login_threads(helper_pid) == 0, "the helper to be idle")
            row = {
                "concurrency": level,
                "logins": summary["logins"],
                "succeeded": summary["succeeded"],
                "p50_ms": percentile(latencies, 0.5),
                "p90_ms": percentile(latencies, 0.9),
                "p99_ms": percentile(latencies, 0.99),
                "max_ms": max(latencies),
                "mean_ms": statistics.fmean(latencies),
                "logins_per_s": summary["logins"] / summary["wall_seconds"],
                "helper_rss_kib": status_field(helper_pid, "VmRSS"),
            }
            results["levels"].append(row)
            print(f"{level:>9} {row['logins']:>6} {row['succeeded']:>4} {row['p50_ms']:>8.1f} {row['p90_ms']:>8.1f} "
                  f"{row['p99_ms']:>8.1f} {row['max_ms']:>8.1f} {row['logins_per_s']:>9.1f} "
                  f"{row['helper_rss_kib']:>8}", flush=True)
            if run.returncode != 0:
                print(run.stderr, file=sys.stderr)
        if args.json:
            write(args.json, json.dumps(results, indent=2) + "\n")
        return 0 if all(r["succeeded"] == r["logins"] for r in results["levels"]) else 1
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


if __name__ == "__main__":
    sys.exit(main())
