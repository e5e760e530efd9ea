#!/usr/bin/python3
"""A real PAM login through pamtester: the local user-pool stand-in, the real helper, the real module under
pam_wrapper, and pamtester on a pseudo-terminal as the person would use it.

    pamtester_login.py --build-dir BUILD --work-dir DIR [--interactive] [--scenario NAME] [--wrap-command CMD]
                       [--show-where]

Scenarios (answered automatically unless --interactive):
  happy        choose the email code from the menu and type the code the stand-in "sent": exit 0
  wrong-code   type a wrong code every time: pamtester must fail with the maximum-tries error
  service-down the user pool answers HTTP 500: pamtester must fail and the person is told why
With --interactive the person answers the prompts; the codes the stand-in sends are printed as they arrive.
With --wrap-command (scripted runs) pamtester runs under CMD, e.g. valgrind (tests/valgrind).
With --show-where (scripts/demo.sh) it ends by saying where the configuration and the audit line are.
Exit status 0 means the scenario ended as it must.
"""

import argparse
import hashlib
import json
import os
import pty
import select
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
STANDIN = os.path.join(SOURCE, "tests", "cognito_standin", "cognito_standin.py")
POOL = os.path.join(SOURCE, "tests", "pam", "test_pool.json")
PAM_WRAPPER = "/usr/lib/x86_64-linux-gnu/libpam_wrapper.so"
NSS_WRAPPER = "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so"
USER = "alice"
EMAIL = "alice@example.com"
SERVICE = "pp-pamtester"
WAIT_LIMIT_S = 20


def fail(message):
    print(f"pamtester_login: {message}", file=sys.stderr)
    sys.exit(1)


def wait_for(predicate, what):
    """Polls with a growing pause until `predicate` holds: a readiness wait with a bound, not a fixed sleep."""
    deadline = time.monotonic() + WAIT_LIMIT_S
    pause = 0.002
    while not predicate():
        if time.monotonic() > deadline:
            fail(f"timed out waiting for {what}")
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def write(path, text, mode=0o644):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def local_accounts(directory):
    """The helper serves only local accounts: it runs under nss_wrapper with an account database that has USER."""
    write(os.path.join(directory, "passwd"), f"root:x:0:0:root:/root:/bin/sh\n{USER}:x:1001:1001::/nonexistent:/bin/sh\n")
    write(os.path.join(directory, "group"), f"root:x:0:\n{USER}:x:1001:\n")
    return ["/usr/bin/env", "LD_PRELOAD=" + NSS_WRAPPER, "NSS_WRAPPER_PASSWD=" + os.path.join(directory, "passwd"),
            "NSS_WRAPPER_GROUP=" + os.path.join(directory, "group")]


def fresh_dir(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    os.chmod(path, 0o755)
    return path


class Services:
    """The stand-in and the helper, started in `work`, stopped and reaped on exit."""

    def __init__(self, build, work):
        self.work = fresh_dir(os.path.abspath(work))
        self.standin_dir = fresh_dir(os.path.join(self.work, "standin"))
        self.helper_dir = fresh_dir(os.path.join(self.work, "helper"))
        self.service_dir = fresh_dir(os.path.join(self.work, "services"))
        # A Unix socket name may have only 107 bytes and the work directory can be deep (a package build puts
        # the build tree below its own): the socket goes into a short directory named after a hash of it.
        short = "p-" + hashlib.sha256(self.work.encode()).hexdigest()[:8]
        self.socket = os.path.join(fresh_dir(os.path.join(build, "run", short)), "helper.sock")
        self.helper_bin = os.path.join(build, "helper", "pam-passwordless-helper")
        self.module = os.path.join(build, "pam_passwordless", "pam_passwordless.so")
        self.procs = []

    def start(self):
        log = open(os.path.join(self.standin_dir, "standin.log"), "ab")
        self.procs.append(subprocess.Popen(
            ["/usr/bin/python3", STANDIN, "serve", "--state-dir", self.standin_dir, "--pool", POOL, "--port", "0"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log))
        ready = os.path.join(self.standin_dir, "ready.json")
        wait_for(lambda: os.path.exists(ready), "the local user-pool stand-in")
        with open(ready, encoding="utf-8") as f:
            info = json.load(f)

        write(os.path.join(self.helper_dir, "client-secret"), "s3cr3t-for-the-local-stand-in-only\n", 0o600)
        write(os.path.join(self.helper_dir, "identities"), f"{USER} {EMAIL}\n{USER} +15555550123\n")
        write(os.path.join(self.helper_dir, "helper.conf"), "\n".join([
            "[pool]",
            "pool_id = us-east-1_TestPool",
            "client_id = testclient123",
            f"client_secret_file = {self.helper_dir}/client-secret",
            f"endpoint = {info['url']}",
            f"issuer = {info['issuer']}",
            f"ca_file = {info['ca_file']}",
            "[login]",
            "methods = email_otp sms_otp",
            "max_tries = 3",
            "request_timeout = 5",
            "[binding]",
            f"mapping_file = {self.helper_dir}/identities",
            "[limits]",
            f"state_file = {self.helper_dir}/limits",
            ""]))
        log = open(os.path.join(self.helper_dir, "helper.log"), "ab")
        self.procs.append(subprocess.Popen(
            local_accounts(self.helper_dir) + [self.helper_bin, "--foreground", "--socket", self.socket,
             "--config", os.path.join(self.helper_dir, "helper.conf")],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log))
        wait_for(lambda: os.path.exists(self.socket) or self.procs[-1].poll() is not None, "the helper")
        if not os.path.exists(self.socket):
            fail("the helper did not start:\n" + self.helper_log())
        write(os.path.join(self.service_dir, SERVICE),
              f"auth required {self.module} socket={self.socket}\naccount required pam_permit.so\n")
        # libpam reads "other" as the fallback of every service and complains when it is missing; it refuses.
        write(os.path.join(self.service_dir, "other"),
              "auth required pam_deny.so\naccount required pam_deny.so\npassword required pam_deny.so\n"
              "session required pam_deny.so\n")

    def control(self, settings):
        write(os.path.join(self.standin_dir, "control.json"), json.dumps(settings))

    def latest_code(self, destination):
        code = None
        try:
            with open(os.path.join(self.standin_dir, "outbox.jsonl"), encoding="utf-8") as f:
                for line in f:
                    entry = json.loads(line)
                    if entry["destination"] == destination:
                        code = entry["code"]
        except FileNotFoundError:
            pass
        return code

    def where(self):
        """Where the demo's files are, and the audit line of the login."""
        audit = [line for line in self.helper_log().splitlines() if "outcome=" in line]
        return "\n".join([
            "",
            "The demo's files (kept until the next run):",
            f"  configuration:        {os.path.join(self.helper_dir, 'helper.conf')}",
            f"  identity map:         {os.path.join(self.helper_dir, 'identities')}",
            f"  helper log and audit: {os.path.join(self.helper_dir, 'helper.log')} (an installed helper writes"
            " the audit line to syslog, authpriv)",
            f"  PAM service:          {os.path.join(self.service_dir, SERVICE)}",
            f"  local auth service:   {os.path.join(self.standin_dir, 'standin.log')}",
            "The audit line:" if audit else "No audit line was written.",
            *(f"  {line}" for line in audit[-1:])])

    def helper_log(self):
        with open(os.path.join(self.helper_dir, "helper.log"), encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def pamtester_command(self):
        # Under ASan (scripts/test-sanitizers.sh sets PP_ASAN_RUNTIME) pamtester, not built with it, loads the
        # instrumented module: the runtime must come first.
        preload = ":".join(p for p in (os.environ.get("PP_ASAN_RUNTIME"), PAM_WRAPPER) if p)
        env = dict(os.environ, LD_PRELOAD=preload, PAM_WRAPPER="1", PAM_WRAPPER_SERVICE_DIR=self.service_dir)
        return ["pamtester", "-v", SERVICE, USER, "authenticate"], env


def wrapped(argv, env, wrap_command):
    """argv and env to run pamtester under `wrap_command`. pam_wrapper is preloaded into pamtester only: in a
    wrapper that is a dynamic program (valgrind's launcher is a shell script) it would set itself up too, and
    leave a /tmp/pam.? directory behind when the wrapper execs."""
    if not wrap_command:
        return argv, env
    outer = {k: v for k, v in env.items() if k != "LD_PRELOAD"}
    return shlex.split(wrap_command) + ["/usr/bin/env", "LD_PRELOAD=" + env["LD_PRELOAD"]] + argv, outer


def run_on_pty(argv, env, answer):
    """Runs argv on a pseudo-terminal; `answer(screen_so_far)` returns a line to type when a prompt shows,
    or None. Returns (exit status, everything the program printed)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, env)
    screen, answered_upto = "", 0
    deadline = time.monotonic() + 60
    while True:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            break
        ready, _, _ = select.select([fd], [], [], 1.0)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk.decode("utf-8", "replace")
        line = answer(screen[answered_upto:])
        if line is not None:
            answered_upto = len(screen)
            os.write(fd, (line + "\n").encode())
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), screen


def scripted_answers(services, scenario):
    def answer(new_text):
        if "Choice [1-2]:" in new_text:
            return "1"
        if "Code sent to" in new_text and new_text.rstrip().endswith(":"):
            if scenario == "wrong-code":
                return "00000000"
            code = services.latest_code(EMAIL) or "no-code-was-sent"
            print(f"[local auth service] email to {EMAIL}: your code is {code}", flush=True)
            return code
        return None
    return answer


def interactive(services):
    """The person types; the codes the stand-in 'sends' are shown on stderr as they arrive."""
    stop = threading.Event()
    outbox = os.path.join(services.standin_dir, "outbox.jsonl")

    def show_codes():
        seen = 0
        while not stop.wait(0.2):
            try:
                with open(outbox, encoding="utf-8") as f:
                    lines = f.readlines()
            except FileNotFoundError:
                continue
            for line in lines[seen:]:
                entry = json.loads(line)
                print(f"\n[local auth service] {entry['medium'].lower()} to {entry['destination']}: "
                      f"your code is {entry['code']}", file=sys.stderr, flush=True)
            seen = len(lines)

    watcher = threading.Thread(target=show_codes, daemon=True)
    watcher.start()
    argv, env = services.pamtester_command()
    status = subprocess.call(argv, env=env)
    stop.set()
    watcher.join()
    return status


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--interactive", action="store_true")
    ap.add_argument("--scenario", choices=["happy", "wrong-code", "service-down"], default="happy")
    ap.add_argument("--wrap-command", default="", help="run pamtester under this command (scripted runs)")
    ap.add_argument("--show-where", action="store_true", help="end by saying where the configuration and audit are")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("pamtester_login: needs root (the helper trusts only root-owned files and sockets)", file=sys.stderr)
        sys.exit(77)

    services = Services(os.path.abspath(args.build_dir), args.work_dir)
    try:
        services.start()
        if args.scenario == "service-down":
            services.control({"fault": "http_500"})
        if args.interactive:
            status = interactive(services)
            print("\nlogin " + ("succeeded" if status == 0 else "failed") + f" (pamtester exit status {status})")
            if args.show_where:
                print(services.where())
            return status
        argv, env = wrapped(*services.pamtester_command(), args.wrap_command)
        status, screen = run_on_pty(argv, env, scripted_answers(services, args.scenario))
        print(screen)
        log = services.helper_log()
        if args.scenario == "happy":
            ok = status == 0 and "successfully authenticated" in screen and "outcome=success" in log
        elif args.scenario == "wrong-code":
            # After a wrong code the prompt must say that the code already sent stays valid: no new one is sent.
            ok = status != 0 and screen.count("Code sent to") == 3 and screen.count("is still valid:") == 2 \
                and "too many wrong codes" in screen and "outcome=maxtries" in log
        else:
            ok = status != 0 and "cannot be reached" in screen and "outcome=authinfo_unavail" in log
        print(f"scenario {args.scenario}: " + ("as expected" if ok else "NOT as expected") +
              f" (pamtester exit status {status})")
        if args.show_where:
            print(services.where())
        if not ok:
            print(log, file=sys.stderr)
        return 0 if ok else 1
    finally:
        services.stop()


if __name__ == "__main__":
    sys.exit(main())
