#!/usr/bin/python3
"""Operating the helper (issue #11): start with a bad file, reload that tells the truth, and status, through the
real helper, the real module under the real libpam (pamtester on a pseudo-terminal) and the user-pool stand-in.

    helper_ops.py --build-dir BUILD --work-dir DIR --scenario NAME

    start-bad        the unit's ExecStartPre (check-config) refuses a bad file with its reason and a non-zero
                     exit, so the unit fails; systemd-analyze verifies the unit files; a helper started anyway
                     with that file refuses every login with PAM_SERVICE_ERR and status says why
    reload           reload with a bad file exits 1 naming the error and the old file stays in force (a login
                     still works, status shows the refusal); with a good file it exits 0 and status shows the
                     new file's SHA-256 and limits; with no helper running it says there is nothing to reload
                     (exit 0 for a good file, 1 for a bad one)
    status           no helper: exit 3; before a login: no logins, pool never reached; after alice's login:
                     success 1 and the pool's last answer; after a login while the pool fails: its failure
                     and why
    status-non-root  status and reload asked by a user who is not root are refused by the helper (exit 4 and
                     1), and show nothing of the state
    idle             the socket-activated helper, idle (systemd-socket-activate holds the listening socket, as
                     the .socket unit does, and starts the helper on the first connection): reload of a bad
                     file exits 1 without starting it; reload of a good file starts it, exits 0 and says that
                     this request started it and it loaded the file; a later status does not say so; after a
                     stop, status starts it again and says so

Runs as root in a throwaway mount and PID namespace (e2e_support); exits 77 when not root.
"""

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import tempfile

import e2e_support as e2e
from e2e_support import check, say, show
import login_stack as ls

BAD_LINE = "max_tries = 99"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--module", required=True)
    ap.add_argument("--helper", required=True)
    ap.add_argument("--scenario", required=True, choices=["start-bad", "reload", "status", "status-non-root",
                                                          "idle"])
    return ap.parse_args()


def run(argv, user=None):
    """Runs a command (as `user` when given) and returns (exit status, stdout, stderr), shown in the log."""
    if user:
        argv = ["runuser", "-u", user, "--"] + argv
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False,
                       env={"PATH": e2e.CLEAN_PATH, "LANG": "C"})
    show(f"{' '.join(argv)} -> exit {r.returncode}", r.stdout + r.stderr)
    return r.returncode, r.stdout, r.stderr


def status(helper_bin, socket, user=None):
    return run([helper_bin, "status", "--socket", socket], user)


def reload(helper_bin, socket, config):
    return run([helper_bin, "reload", "--socket", socket, "--config", config])


def line(text, prefix):
    found = [l for l in text.splitlines() if l.startswith(prefix)]
    check(len(found) == 1, f"status has no single line starting with '{prefix}':\n{text}")
    return found[0]


# Sent as `user` from a child: a Control message (wire.hpp: version 1, type 40, the op in tag 20), and the
# helper's answer decoded as a Result (outcome in tag 8 as a u32, text in tag 6).
RAW_CONTROL = r"""
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(30)
s.connect(sys.argv[1])
op = sys.argv[2].encode()
s.send(bytes([1, 40, 20]) + struct.pack(">H", len(op)) + op)
m = s.recv(65536)
assert m[0] == 1, m
fields, i = {}, 2
while i < len(m):
    tag, n = m[i], struct.unpack(">H", m[i + 1:i + 3])[0]
    fields[tag] = m[i + 3:i + 3 + n]
    i += 3 + n
print(m[1], struct.unpack(">I", fields[8])[0] if 8 in fields else -1, fields.get(6, b"").decode())
"""


def raw_control(user, socket, op):
    code, out, _ = run([e2e.PYTHON, "-c", RAW_CONTROL, socket, op.decode()], user)
    check(code == 0, "the raw control client failed")
    msg_type, outcome, text = out.strip().split(" ", 2)
    check(msg_type == "18", f"the helper answered with message type {msg_type}, not a Result")
    return int(outcome), text


def sha256_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def login(sandbox, standin, wrong=False):
    status_code, screen, _ = ls.pamtester(sandbox, ls.SERVICE, "alice",
                                          ls.answers(standin, ls.ALICE_PASSWORD, wrong_code=wrong))
    return status_code, screen


class SocketActivated:
    """The helper as the .socket unit runs it: systemd-socket-activate binds the listening socket and, on the first
    connection, execs the helper in its own process with the socket as descriptor 3 and LISTEN_PID/LISTEN_FDS
    set. Until then no helper runs."""

    def __init__(self, sandbox, helper_bin, config_path, socket):
        tool = shutil.which("systemd-socket-activate")
        check(tool is not None, "systemd-socket-activate is missing (package systemd)")
        self.helper_bin, self.socket = os.path.realpath(helper_bin), socket
        if os.path.lexists(socket):
            os.unlink(socket)
        self.log_path = os.path.join(sandbox.work, f"activated-{len(sandbox.procs)}.log")
        self.proc = sandbox.start("socket-activated helper",
                                  [tool, "--seqpacket", "--listen", socket, "--fdname", "pam-passwordless-helper.socket",
                                   helper_bin, "--foreground", "--config", config_path], self.log_path)
        e2e.wait_for(lambda: "Listening on" in e2e.read(self.log_path) or self.proc.poll() is not None,
                     "systemd-socket-activate's listening socket")
        check(self.proc.poll() is None, "systemd-socket-activate exited:\n" + e2e.read(self.log_path))

    def helper_started(self):
        """Whether the process is the helper now (systemd-socket-activate execs it in place)."""
        try:
            return os.path.realpath(f"/proc/{self.proc.pid}/exe") == self.helper_bin
        except OSError:
            return False

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)

    def log(self):
        return e2e.read(self.log_path)


def verify_units(helper_bin):
    """systemd-analyze verify on copies of the unit files whose commands name the built helper."""
    if not shutil.which("systemd-analyze"):
        say("systemd-analyze is not installed: the unit files are checked by their text only")
        return
    with tempfile.TemporaryDirectory(dir=os.path.dirname(helper_bin)) as d:
        for name in ("pam-passwordless-helper.service", "pam-passwordless-helper.socket"):
            text = e2e.read(os.path.join(e2e.SOURCE, "conf", name))
            e2e.write(os.path.join(d, name), text.replace("/usr/sbin/pam-passwordless-helper", helper_bin))
        r = subprocess.run(["systemd-analyze", "verify", "--man=no", os.path.join(d, "pam-passwordless-helper.service"),
                            os.path.join(d, "pam-passwordless-helper.socket")],
                           capture_output=True, text=True, timeout=60, check=False)
        ours = [l for l in (r.stdout + r.stderr).splitlines() if "pam-passwordless-helper" in l]
        show(f"systemd-analyze verify -> exit {r.returncode}", "\n".join(ours))
        check(r.returncode == 0 and not ours, "systemd-analyze finds fault with the unit files")


def main():
    args = e2e.enter_namespace(parse_args)
    helper_bin = os.path.abspath(args.helper)
    module = os.path.abspath(args.module)
    sandbox = e2e.Sandbox(args.work_dir)
    state = {}

    def body():
        sandbox.standard()
        sandbox.add_user("alice", e2e.Sandbox.password_hash(ls.ALICE_PASSWORD))
        state["standin"] = standin = e2e.StandIn(sandbox)
        good = ls.helper_config(standin, "ignore", "email_otp")
        socket = e2e.HELPER_SOCKET

        if args.scenario == "start-bad":
            unit = e2e.read(os.path.join(e2e.SOURCE, "conf", "pam-passwordless-helper.service"))
            check(re.search(r"^ExecStartPre=/usr/sbin/pam-passwordless-helper check-config --config "
                            r"/etc/pam_passwordless/helper.conf$", unit, re.M),
                  "the unit does not check the file before it starts the helper (ExecStartPre=... check-config)")
            check(re.search(r"^ExecReload=/usr/sbin/pam-passwordless-helper reload --config "
                            r"/etc/pam_passwordless/helper.conf$", unit, re.M),
                  "the unit's reload does not wait for the helper's verdict (ExecReload=... reload)")
            verify_units(helper_bin)

            def bad(helper_dir):
                return good(helper_dir).replace(f"max_tries = {ls.MAX_TRIES}", BAD_LINE)
            state["helper"] = helper = e2e.Helper(sandbox, helper_bin, bad)
            # What ExecStartPre runs: the unit fails, and systemctl status shows this output.
            code, out, err = run([helper_bin, "check-config", "--config", helper.config_path])
            check(code != 0 and "max_tries" in err and helper.config_path in err,
                  "check-config must refuse the bad file, naming the file and the key")
            # Started anyway (no unit): it keeps serving, refuses the login with a reason, and says why.
            code, out, _ = status(helper_bin, socket)
            check(code == 0, "status of a helper without a configuration must still answer")
            check("max_tries" in line(out, "configuration in force: none"),
                  "status must say that no configuration is in force, and why")
            ls.login_pamtest_stack(module, socket)
            code, screen = login(sandbox, standin)
            check(code != 0, "a login succeeded without a configuration")
            check("outcome=service_err" in helper.log(), "the login without a configuration must be service_err")
            code, out, _ = status(helper_bin, socket)
            check("service_err 1" in line(out, "logins since start:"), "status must count the refused login")

        elif args.scenario == "reload":
            state["helper"] = helper = e2e.Helper(sandbox, helper_bin, good)
            first = e2e.read(helper.config_path)
            code, out, _ = status(helper_bin, socket)
            check(sha256_of(helper.config_path) in line(out, "configuration in force:"),
                  "status must show the SHA-256 of the file in force")
            check(line(out, "last reload:") == "last reload: none since start", "no reload yet")

            e2e.write(helper.config_path, first.replace(f"max_tries = {ls.MAX_TRIES}", BAD_LINE), 0o600)
            code, out, err = reload(helper_bin, socket, helper.config_path)
            check(code == 1, f"reload of a bad file must exit 1, not {code}")
            check("max_tries" in err, "reload must say why the file was refused")
            # The command's own check refused it; the helper, asked directly (as by SIGHUP), refuses it too.
            helper.proc.send_signal(1)
            e2e.wait_for(lambda: "new configuration refused" in helper.log(), "the helper's refusal on SIGHUP")
            code, out, _ = status(helper_bin, socket)
            check("refused, the previous configuration stays" in line(out, "last reload:")
                  and "max_tries" in line(out, "last reload:"), "status must show the refused reload and why")
            check(f"max_tries: {ls.MAX_TRIES}," in out, "the limits in force are the old file's")
            ls.login_pamtest_stack(module, socket)
            code, screen = login(sandbox, standin)
            check(code == 0, "the configuration in force must still serve logins after a refused reload")

            e2e.write(helper.config_path, first.replace(f"max_tries = {ls.MAX_TRIES}", "max_tries = 5"), 0o600)
            code, out, err = reload(helper_bin, socket, helper.config_path)
            check(code == 0 and "configuration reloaded" in out, "reload of a good file must exit 0 and say so")
            code, out, _ = status(helper_bin, socket)
            check(sha256_of(helper.config_path) in line(out, "configuration in force:"),
                  "status must show the new file's SHA-256")
            check(line(out, "last reload:").endswith("(reload request), loaded"), "status must show the reload")
            check("max_tries: 5," in out, "the limits in force are the new file's")

            # The helper reloads its own file even when the command's check saw another one: a bad file in
            # force at the helper is refused by the helper itself, with exit 1.
            other = os.path.join(helper.dir, "other.conf")
            e2e.write(other, e2e.read(helper.config_path), 0o600)
            e2e.write(helper.config_path, first.replace(f"max_tries = {ls.MAX_TRIES}", BAD_LINE), 0o600)
            code, out, err = reload(helper_bin, socket, other)
            check(code == 1 and "max_tries" in err and "refused" in err,
                  "the helper's refusal must reach the command: exit 1 and the reason")

            # No helper running (its socket file left behind, as after a crash: the connection is refused):
            # nothing to reload; the command checks the file the next start reads.
            helper.proc.terminate()
            helper.proc.wait(timeout=30)
            check(os.path.exists(socket), "the stopped helper's socket file is expected to stay")
            code, out, _ = status(helper_bin, socket)
            check(code == 3 and "not running" in out, f"status of a stopped helper must exit 3, not {code}")
            code, out, err = reload(helper_bin, socket, helper.config_path)
            check(code == 1 and "max_tries" in err, "with no helper, a bad file must still be refused (exit 1)")
            e2e.write(helper.config_path, first, 0o600)
            code, out, err = reload(helper_bin, socket, helper.config_path)
            check(code == 0 and "nothing to reload" in out, "with no helper, a good file: exit 0, nothing to reload")

        elif args.scenario == "status":
            code, out, _ = status(helper_bin, socket)
            check(code == 3 and "not running" in out, f"status with no helper must exit 3 and say so, not {code}")
            state["helper"] = helper = e2e.Helper(sandbox, helper_bin, good)
            code, out, _ = status(helper_bin, socket)
            check(code == 0 and line(out, "helper:").startswith("helper: running"), "status must say running")
            check(line(out, "logins since start:").startswith("logins since start: 0"), "no login yet")
            check(line(out, "user pool last answered:").startswith("user pool last answered: never"),
                  "the pool was not asked yet")
            for prefix in ("max_tries:", "logins at once:", "limits:"):
                line(out, prefix)
            ls.login_pamtest_stack(module, socket)
            code, screen = login(sandbox, standin)
            check(code == 0, "alice's login must succeed")
            code, out, _ = status(helper_bin, socket)
            check(line(out, "logins since start:").startswith("logins since start: 1 (success 1)"),
                  "status must count alice's login")
            check(not line(out, "user pool last answered:").startswith("user pool last answered: never"),
                  "status must show when the pool last answered")
            check(line(out, "user pool last failed:").startswith("user pool last failed: never"), "no failure yet")
            standin.control({"fault": "http_500"})
            code, screen = login(sandbox, standin)
            check(code != 0, "a login while the pool fails must fail")
            code, out, _ = status(helper_bin, socket)
            check("authinfo_unavail 1" in line(out, "logins since start:"), "status must count the failed login")
            failed = line(out, "user pool last failed:")
            check(not failed.startswith("user pool last failed: never") and "HTTP 500" in failed,
                  "status must show the pool's failure and why")

        elif args.scenario == "status-non-root":
            state["helper"] = helper = e2e.Helper(sandbox, helper_bin, good)
            code, out, err = status(helper_bin, socket, user="alice")
            check(code == 4 and "only root" in err, f"status by alice must be refused by the helper, exit {code}")
            check("configuration" not in out and "sha256" not in out, "a refused status must show nothing")
            # The command checks the file first, which alice cannot read: ask the helper directly, as alice.
            outcome, text = raw_control("alice", socket, b"reload")
            check(outcome != 0 and "only root" in text, f"the helper must refuse alice's reload: {outcome} {text!r}")
            outcome, text = raw_control("alice", socket, b"status")
            check(outcome != 0 and "only root" in text, f"the helper must refuse alice's status: {outcome} {text!r}")
            check("configuration reloaded" not in helper.log(), "alice must not cause a reload")
            check("status or reload asked by a caller that is not root" in helper.log(),
                  "the helper must log the refused requests")
            code, out, _ = status(helper_bin, socket)
            check(line(out, "last reload:") == "last reload: none since start", "no reload happened")

        elif args.scenario == "idle":
            helper_dir = e2e.fresh_dir(os.path.join(sandbox.work, "helper"))
            config_path = os.path.join(helper_dir, "helper.conf")
            text = good(helper_dir) + f"\n[limits]\nstate_file = {helper_dir}/limits\n"
            e2e.write(config_path, text.replace(f"max_tries = {ls.MAX_TRIES}", BAD_LINE), 0o600)
            state["helper"] = idle = SocketActivated(sandbox, helper_bin, config_path, socket)
            check(not idle.helper_started(), "no helper may run before the first connection")

            # A bad file is refused by the command itself: nothing wakes the helper only to refuse it.
            code, out, err = reload(helper_bin, socket, config_path)
            check(code == 1 and "max_tries" in err, f"reload of a bad file must exit 1 with the reason, not {code}")
            check(not idle.helper_started(), "a refused file must not start the helper")

            e2e.write(config_path, text, 0o600)
            code, out, err = reload(helper_bin, socket, config_path)
            check(code == 0, f"reload of a good file with the helper idle must exit 0, not {code}")
            check(idle.helper_started(), "the reload's connection must have started the helper")
            check("started by this request" in out and config_path in out and sha256_of(config_path) in out,
                  "reload must say that it started the helper, and which file (and SHA-256) is in force")
            code, out, _ = status(helper_bin, socket)
            check(code == 0 and line(out, "helper:").startswith("helper: running"), "status must say running")
            check("started by this request" not in out, "a later status did not start the helper")
            check(sha256_of(config_path) in line(out, "configuration in force:"), "status must show the file")

            idle.stop()
            state["helper"] = idle = SocketActivated(sandbox, helper_bin, config_path, socket)
            code, out, _ = status(helper_bin, socket)
            check(code == 0 and idle.helper_started(), f"status must start the idle helper and answer, exit {code}")
            check("started by this request" in line(out, "helper:"), "status must say that it started the helper")
            check(line(out, "logins since start:").startswith("logins since start: 0"), "no login yet")

    status_code = e2e.run_main(body)
    sandbox.stop_all()
    if status_code != 0:
        for name in ("helper", "standin"):
            if name in state:
                show(f"{name} log", state[name].log())
    return status_code


if __name__ == "__main__":
    raise SystemExit(main())
