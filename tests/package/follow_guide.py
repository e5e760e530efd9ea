#!/usr/bin/python3
"""The host side of doc/setup.md followed as written, on the installed package, against the local stand-in.

Run by install_remove.sh inside its throwaway mount namespace, after `dpkg -i`:

    follow_guide.py --source-dir SRC --work-dir DIR --user NAME

The guide's placeholders are set to the stand-in's pool, app client and alice's address (tests/pam/test_pool.json),
and the local account NAME; its client secret is put where the guide expects it (./client-secret). Every block
the guide marks as a host step then runs in order, as root, in one shell on a pseudo-terminal (as an admin would
paste them): the identity map, the secret, helper.conf and its check-config, the sshd drop-in, pam-auth-update,
login.defs, `check-config --online` and `test-login NAME --service sshd`. The only addition is what points
helper.conf at 127.0.0.1 instead of AWS (endpoint, issuer, ca_file: a second [pool] section after the guide's),
and the helper is started as its .socket unit would start it (systemd-socket-activate on the unit's socket: no
helper runs until test-login connects; the unit's ExecStart, with `--pool-socket`), and the network worker as
its units would (installed_units.py), because there is no systemd in the namespace. `check-config --online`
starts a worker of its own (the installed one, where the helper was built to find it). Then:

- `check-config --online` passed and said that no code was sent, and test-login ended with the helper's audit line
  for a success; the person typed the one code the stand-in sent;
- `pam-passwordless-helper status` shows that login as the last one (a test login) and counts it;
- a wrong secret in the guide's secret file makes `check-config --online` fail and name the fix, with no code sent.

Exit 0 pass, 1 fail. The configuration files are the namespace's copies; the caller restores nothing.
"""

import argparse
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "pamtester"))
import e2e_support as e2e  # noqa: E402 - the stand-in, readiness waits and checks the e2e tests use
from e2e_support import check, say, show  # noqa: E402
from pamtester_login import run_on_pty  # noqa: E402 - the pty driver of the pamtester scenarios
import installed_units  # noqa: E402 - the installed units, started as systemd would

HELPER = "/usr/sbin/pam-passwordless-helper"
CONF = "/etc/pam_passwordless/helper.conf"
SECRET = "/etc/pam_passwordless/client-secret"
UNIT_SOCKET = "/lib/systemd/system/pam-passwordless-helper.socket"
EMAIL = "alice@example.com"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--user", required=True)
    return ap.parse_args()


def unit_socket_path():
    """The path the installed .socket unit listens on (where the module and the command line look)."""
    for line in e2e.read(UNIT_SOCKET).splitlines():
        if line.startswith("ListenSequentialPacket="):
            return line.split("=", 1)[1].strip()
    raise e2e.Failure(f"{UNIT_SOCKET} has no ListenSequentialPacket=")


def start_socket_unit(sandbox, work):
    """What systemd does with the installed units: the socket's directory, the service's StateDirectory, and the
    listening socket held until the first connection starts the helper."""
    tool = shutil.which("systemd-socket-activate")
    check(tool is not None, "systemd-socket-activate is missing (package systemd)")
    socket = unit_socket_path()
    os.makedirs(os.path.dirname(socket), mode=0o755, exist_ok=True)
    if os.path.lexists(socket):
        os.unlink(socket)
    os.makedirs("/var/lib/pam_passwordless", mode=0o700, exist_ok=True)
    worker = installed_units.Worker(sandbox, work)
    argv = installed_units.helper_exec_start()
    check(argv[3:6] == [HELPER, "--config", CONF], f"the helper's unit runs {argv}, not {HELPER} --config {CONF}")
    log = os.path.join(work, "helper.log")
    proc = sandbox.start("socket-activated helper",
                         [tool, "--seqpacket", "--listen", socket, "--fdname", "pam-passwordless-helper.socket",
                          *argv, "--foreground"], log)
    e2e.wait_for(lambda: "Listening on" in e2e.read(log) or proc.poll() is not None,
                 "systemd-socket-activate's listening socket")
    check(proc.poll() is None, "systemd-socket-activate exited:\n" + e2e.read(log))
    return log, worker


def answers(standin):
    def answer(text):
        stripped = text.rstrip()
        if stripped.endswith("[Y/n]"):
            return "y"
        if stripped.endswith("]:") and "Choice" in stripped:
            return "1"
        if "Code sent to" in text and stripped.endswith(":"):
            return standin.latest_code(EMAIL) or "no-code-was-sent"
        return None
    return answer


def online_check():
    r = subprocess.run([HELPER, "check-config", "--online"], capture_output=True, text=True, timeout=120,
                       check=False)
    show(f"pam-passwordless-helper check-config --online -> exit {r.returncode}", r.stdout + r.stderr)
    return r.returncode, r.stdout + r.stderr


def main():
    args = parse_args()
    check(os.geteuid() == 0, "needs root")
    sandbox = e2e.Sandbox(args.work_dir)  # only for its process list: the caller made the namespace

    def body():
        standin = e2e.StandIn(sandbox)
        work = e2e.fresh_dir(os.path.join(sandbox.work, "guide"))
        # The stand-in's app client and its secret (StandIn.pool_section writes the secret file).
        pool = {}
        for line in standin.pool_section(e2e.fresh_dir(os.path.join(sandbox.work, "pool"))).splitlines():
            key, sep, value = line.partition(" = ")
            if sep:
                pool[key] = value
        shutil.copy(pool["client_secret_file"], os.path.join(work, "client-secret"))
        region = pool["pool_id"].split("_", 1)[0]
        extra = os.path.join(work, "helper.conf.extra")
        e2e.write(extra, "\n# The local stand-in in place of AWS (not in the guide)\n[pool]\n" +
                  f"endpoint = {pool['endpoint']}\nissuer = {pool['issuer']}\nca_file = {pool['ca_file']}\n")
        script = os.path.join(work, "host-steps.sh")
        r = subprocess.run([sys.executable, "-B", os.path.join(args.source_dir, "tests", "guide", "host_steps.py"),
                            "--doc", os.path.join(args.source_dir, "doc", "setup.md"),
                            "--set", f"REGION={region}", "--set", f"POOL_ID={pool['pool_id']}",
                            "--set", f"CLIENT_ID={pool['client_id']}", "--set", f"LOCAL_USER={args.user}",
                            "--set", f"USER_EMAIL={EMAIL}", "--helper-conf-extra", extra],
                           capture_output=True, text=True, timeout=60, check=False)
        check(r.returncode == 0, "host_steps.py failed:\n" + r.stdout + r.stderr)
        e2e.write(script, r.stdout, 0o700)
        show("the guide's host steps", r.stdout)
        for needed in ("check-config --online", "test-login"):
            check(needed in r.stdout, f"the guide's host steps do not run '{needed}'")

        helper_log, worker = start_socket_unit(sandbox, work)
        env = {"PATH": e2e.CLEAN_PATH, "LANG": "C.UTF-8", "TERM": "dumb", "HOME": "/root",
               "DEBIAN_FRONTEND": "noninteractive"}
        status, screen = run_on_pty(["/bin/bash", "-c", f"cd {work} && exec /bin/bash {script}"], env,
                                    answers(standin))
        show(f"the guide's host steps on a terminal -> exit {status}", screen)
        check(status == 0, f"the guide's host steps failed (exit {status})")
        # check-config --online starts a worker of its own: the installed helper found the installed worker
        # where it was built to look (nothing named pam-passwordless-pool lies beside the helper).
        check(not os.path.exists(os.path.join(os.path.dirname(HELPER), "pam-passwordless-pool")),
              "a worker beside the installed helper would hide where the helper looks for it")
        check("online check OK" in screen, "check-config --online did not pass")
        check("No code was sent" in screen, "check-config --online did not say that no code was sent")
        audit = [l.strip() for l in screen.splitlines() if l.startswith("audit line: ")]
        check(len(audit) == 1, "test-login did not end with one audit line")
        check("outcome=success" in audit[0] and f'user="{args.user}"' in audit[0] and 'service="sshd"' in audit[0],
              f"test-login's audit line is not a success of {args.user} through sshd: {audit[0]}")
        sent = standin.outbox()
        check(len(sent) == 1 and sent[0]["destination"] == EMAIL,
              f"exactly one code, test-login's, must have been sent: {sent}")
        check(sent[0]["code"] not in screen, "the code was shown on the terminal")
        check(sent[0]["code"] not in e2e.read(helper_log), "the code is in the helper's log")
        check(sent[0]["code"] not in e2e.read(worker.log_path), "the code is in the worker's log")
        worker.check_running()
        check(not os.path.exists(os.path.join(work, "client-secret")), "the guide leaves the secret's copy behind")
        say("ok: the guide's host steps ran as written: check-config --online passed, test-login logged in")

        r = subprocess.run([HELPER, "status"], capture_output=True, text=True, timeout=60, check=False)
        show(f"pam-passwordless-helper status -> exit {r.returncode}", r.stdout + r.stderr)
        check(r.returncode == 0, f"status exited {r.returncode}")
        last = [l for l in r.stdout.splitlines() if "last login:" in l]
        check(len(last) == 1 and f"user={args.user} " in last[0] and "outcome=success" in last[0]
              and "(test-login)" in last[0], "status does not show the test login as the last one")
        login_id = [w for w in audit[0].split() if w.startswith("login=")]
        check(len(login_id) == 1 and login_id[0] + " " in last[0], "status's last login is not test-login's (login id)")
        say("ok: status shows the test login")

        with open(SECRET, encoding="utf-8") as f:
            good = f.read()
        e2e.write(SECRET, "not-the-secret\n", 0o600)
        code, out = online_check()
        check(code == 1, f"check-config --online with a wrong secret must exit 1, not {code}")
        check("client secret refused (SECRET_HASH)" in out and "fix:" in out,
              "check-config --online did not name the wrong secret and its fix")
        check(len(standin.outbox()) == 1, "check-config --online sent a code")
        e2e.write(SECRET, good, 0o600)
        say("ok: a wrong secret is found by check-config --online and named with its fix; no code sent")

    try:
        return e2e.run_main(body)
    finally:
        sandbox.stop_all()


if __name__ == "__main__":
    sys.exit(main())
