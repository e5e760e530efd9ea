#!/usr/bin/python3
"""`pam-passwordless test-login USER [--service S] [--rhost ADDR]` end to end (issue #11): the real command line
on a pseudo-terminal, the real helper and the user-pool stand-in, with no PAM stack anywhere.

    test_login.py --build-dir BUILD --work-dir DIR --scenario NAME

    code            alice chooses the email code from the menu and types the code the stand-in "sent" (with echo
                    off: it never shows on the screen): exit 0; every step is printed (policy, method and
                    masked destination, the identity bound, the outcome with its PAM code), and the command
                    ends with the very audit line the helper logged; then `status` shows that login (its login
                    id, user, service, outcome) and counts it
    wrong-code      wrong codes up to max_tries: exit 1, "PAM_MAXTRIES", the audit line says maxtries, status
                    counts it
    service-policy  --service names a [service S] that allows only security keys: the policy printed is that
                    section's, no code is sent to anyone and the login fails with the reason the person would not
                    see (alice has no key); --rhost ADDR takes [login]'s remote_methods (one code method: the
                    offer of the code, refused with "n") and the audit line carries that remote host;
                    --unknown-user ignore (the profile's line) lets bob, who has no identity, through at once
                    (PAM_IGNORE, no prompt)
    non-root        alice runs test-login (for herself, with allow_unprivileged_self = yes): the command refuses
                    (exit 1); asked directly over the socket as alice, the helper refuses a test login too, with
                    a Result before any prompt, and nothing is sent; usage errors exit 2 and a name that is no
                    local account 4, before the helper is asked

Runs as root in a throwaway mount and PID namespace (e2e_support); exits 77 when not root.
"""

import argparse
import os
import re
import subprocess
import sys

import e2e_support as e2e
from e2e_support import check, show
import login_stack as ls

sys.path.insert(0, os.path.join(e2e.SOURCE, "tests", "pamtester"))
from pamtester_login import run_on_pty  # noqa: E402 - the pty driver the pamtester scenarios use


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--module", required=True)
    ap.add_argument("--helper", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--scenario", required=True, choices=["code", "wrong-code", "service-policy", "non-root"])
    return ap.parse_args()


def test_login(cli, argv, answer, user=None):
    """pam-passwordless test-login ARGV on a pseudo-terminal (as `user` when given); returns (status, screen)."""
    command = [cli, "test-login"] + argv
    if user:
        command = ["runuser", "-u", user, "--"] + command
    env = {"PATH": e2e.CLEAN_PATH, "LANG": "C", "TERM": "dumb"}
    status, screen = run_on_pty(command, env, answer)
    show(f"{' '.join(command)} -> exit {status}: the screen", screen)
    return status, screen


def answers(standin, wrong_code=False, offer="y"):
    def answer(text):
        stripped = text.rstrip()
        if stripped.endswith(ls.MENU.rstrip()):
            return "1"
        if stripped.endswith("[Y/n]"):
            return offer
        if "Code sent to" in text and stripped.endswith(":"):
            return ls.WRONG_CODE if wrong_code else (standin.latest_code(ls.EMAIL) or "no-code-was-sent")
        return None
    return answer


def printed_audit_line(screen):
    found = [l.strip() for l in screen.splitlines() if l.startswith("audit line: ")]
    check(len(found) == 1, "test-login must end with exactly one 'audit line: ' line")
    return found[0][len("audit line: "):]


def logged_audit_line(helper, login_id):
    """The helper's own line for this login (it runs with --foreground: syslog is copied to its log)."""
    found = [l for l in helper.log().splitlines() if f"login={login_id} " in l and " outcome=" in l]
    check(len(found) == 1, f"the helper logged no single audit line for login {login_id}")
    return found[0][found[0].index("login="):]


def check_audit(helper, screen, outcome, service, rhost="-"):
    """The printed audit line is the logged one, for this service and remote host, marked as a test login."""
    printed = printed_audit_line(screen)
    login_id = re.match(r"login=([0-9a-f]{16}) ", printed)
    check(login_id is not None, f"the printed audit line does not start with a login id: {printed!r}")
    check(printed == logged_audit_line(helper, login_id.group(1)),
          "the audit line printed must be the one the helper logged")
    for part in (f'service="{service}"', f'rhost="{rhost}"', 'tty="test-login"', "caller_uid=0",
                 f"outcome={outcome} "):
        check(part in printed, f"the audit line lacks {part}: {printed!r}")
    return login_id.group(1)


def status_lines(helper_bin):
    code, out, _ = run([helper_bin, "status"])
    check(code == 0, f"status must answer, exit {code}")
    return out


def run(argv, user=None):
    if user:
        argv = ["runuser", "-u", user, "--"] + argv
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False,
                       env={"PATH": e2e.CLEAN_PATH, "LANG": "C"})
    show(f"{' '.join(argv)} -> exit {r.returncode}", r.stdout + r.stderr)
    return r.returncode, r.stdout, r.stderr


def line(text, prefix):
    found = [l for l in text.splitlines() if l.startswith(prefix)]
    check(len(found) == 1, f"no single line starting with '{prefix}':\n{text}")
    return found[0]


# A Begin (wire.hpp: version 1, type 1) for `user` that asks for a test login (tag 29, a u32 1), sent as the
# account running it; prints the type of the helper's first answer and, for a Result, its outcome and text.
RAW_TEST_LOGIN = r"""
import socket, struct, sys
def field(tag, value):
    return bytes([tag]) + struct.pack(">H", len(value)) + value
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(30)
s.connect(sys.argv[1])
s.send(bytes([1, 1]) + field(1, sys.argv[2].encode()) + field(2, b"login") + field(29, struct.pack(">I", 1)))
m = s.recv(65536)
while m and m[1] == 22:  # Started: the login id every login gets first
    m = s.recv(65536)
if not m:
    print("closed -1 the helper closed the connection without an answer")
    sys.exit(0)
fields, i = {}, 2
while i < len(m):
    tag, n = m[i], struct.unpack(">H", m[i + 1:i + 3])[0]
    fields[tag] = m[i + 3:i + 3 + n]
    i += 3 + n
print(m[1], struct.unpack(">I", fields[8])[0] if 8 in fields else -1, fields.get(6, b"").decode())
"""


def main():
    args = e2e.enter_namespace(parse_args)
    helper_bin = os.path.abspath(args.helper)
    cli = os.path.abspath(args.cli)
    sandbox = e2e.Sandbox(args.work_dir)
    state = {}

    def body():
        sandbox.standard()
        sandbox.add_user("alice", e2e.Sandbox.password_hash(ls.ALICE_PASSWORD))
        state["standin"] = standin = e2e.StandIn(sandbox)
        base = ls.helper_config(standin, "fail")

        if args.scenario == "code":
            state["helper"] = helper = e2e.Helper(sandbox, helper_bin, base)
            status, screen = test_login(cli, ["alice", "--service", "sshd"], answers(standin))
            check(status == 0, f"test-login of alice with the right code must exit 0, not {status}")
            code = standin.latest_code(ls.EMAIL)
            check(code is not None, "no code was sent")
            check(code not in screen, "the code typed must not show on the screen (echo off)")
            check(code not in helper.log(), "the code must not be in the helper's log")
            for step in ("connected to the helper", "policy: ", "[login]", "email_otp sms_otp",
                         ls.MENU, "Code sent to a***@e***", "the user pool sent a code to a***@e***",
                         "identity bound", "outcome: success (PAM_SUCCESS)"):
                check(step in screen, f"the screen lacks the step {step!r}")
            login_id = check_audit(helper, screen, "success", "sshd")
            out = status_lines(helper_bin)
            check(line(out, "logins since start:").startswith("logins since start: 1 (success 1)"),
                  "status must count the test login")
            last = line(out, "last login:")
            for part in (f"login={login_id}", "user=alice", "service=sshd", "outcome=success", "test-login"):
                check(part in last, f"status's last login lacks {part}: {last!r}")

        elif args.scenario == "wrong-code":
            state["helper"] = helper = e2e.Helper(sandbox, helper_bin, base)
            status, screen = test_login(cli, ["alice"], answers(standin, wrong_code=True))
            check(status == 1, f"test-login with wrong codes must exit 1, not {status}")
            check(ls.TOO_MANY in screen and "PAM_MAXTRIES" in screen,
                  "the screen must say too many wrong codes and PAM_MAXTRIES")
            login_id = check_audit(helper, screen, "maxtries", "login")
            out = status_lines(helper_bin)
            check("maxtries 1" in line(out, "logins since start:"), "status must count the failed test login")
            check(f"login={login_id}" in line(out, "last login:"), "status must show the failed test login")

        elif args.scenario == "service-policy":
            def config(helper_dir):
                return (base(helper_dir).replace("[login]\n", "[login]\nremote_methods = email_otp\n")
                        + "[service sshd-keys]\nmethods = security_key\n")
            state["helper"] = helper = e2e.Helper(sandbox, helper_bin, config)
            status, screen = test_login(cli, ["alice", "--service", "sshd-keys"], answers(standin))
            check(status == 1, f"a test login alice cannot pass must exit 1, not {status}")
            check("[service sshd-keys]" in screen and "security_key" in screen,
                  "the policy printed must be [service sshd-keys]'s")
            check(ls.MENU not in screen and "Code sent" not in screen, "no code method may be offered")
            check(standin.outbox() == [], "no code may be sent under a policy that allows only keys")
            printed = printed_audit_line(screen)
            check_audit(helper, screen, "authinfo_unavail", "sshd-keys")
            check("no identity and no security key" in printed,
                  "the audit line must give the reason the person is not told")

            status, screen = test_login(cli, ["alice", "--rhost", "203.0.113.7"], answers(standin, offer="n"))
            check(status == 1, f"a refused offer must exit 1, not {status}")
            check("remote login from 203.0.113.7" in screen and "remote_methods" in screen,
                  "the policy printed must be the remote one")
            check("Send a code to a***@e***? [Y/n]" in screen and ls.MENU not in screen,
                  "one remote method: the offer, no menu")
            check(standin.outbox() == [], "a refused offer sends nothing")
            check_audit(helper, screen, "abort", "login", rhost="203.0.113.7")

            # bob has no identity: as the profile's line (unknown_user=ignore) he is let through to the next
            # module at once, with no prompt; the policy line says so.
            sandbox.add_user("bob")
            status, screen = test_login(cli, ["bob", "--unknown-user", "ignore"], answers(standin))
            check(status == 1, f"a login the module steps aside from must exit 1, not {status}")
            check("users without an identity: ignore" in screen and "outcome: ignore (PAM_IGNORE)" in screen
                  and "next module" in screen, "the stack's unknown_user=ignore must be applied and shown")
            check(ls.MENU not in screen and "[Y/n]" not in screen, "no prompt for a user the stack ignores")
            check_audit(helper, screen, "ignore", "login")
            check(standin.outbox() == [], "nothing may be sent")

        elif args.scenario == "non-root":
            def config(helper_dir):
                return base(helper_dir).replace("[login]\n", "[login]\nallow_unprivileged_self = yes\n")
            state["helper"] = helper = e2e.Helper(sandbox, helper_bin, config)
            # The helper's own check, as alice would meet it with a client of her own.
            code, out, _ = run([e2e.PYTHON, "-c", RAW_TEST_LOGIN, e2e.HELPER_SOCKET, "alice"], user="alice")
            check(code == 0, "the raw client failed")
            msg_type, outcome, text = out.strip().split(" ", 2)
            check(msg_type == "18", f"the helper must answer a non-root test login with a Result, not type {msg_type}")
            check(outcome != "0" and "root only" in text, f"the helper must refuse it: {outcome} {text!r}")
            check(standin.outbox() == [], "nothing may be sent")
            check("test-login asked by a caller that is not root" in helper.log(),
                  "the helper must log the refusal")
            # The command refuses before it asks the helper anything.
            status, screen = test_login(cli, ["alice"], answers(standin), user="alice")
            check(status == 1 and "root only" in screen, f"test-login by alice must be refused (exit 1), not {status}")
            # Usage errors exit 2, a name that is no local account 4, each before the helper is asked anything.
            for argv, want in ((["test-login"], 2), (["test-login", "alice", "bob"], 2), (["list", "--service", "sshd"], 2),
                               (["test-login", "alice", "--user", "bob"], 2), (["test-login", "nosuchuser"], 4),
                               (["test-login", "alice", "--unknown-user", "maybe"], 2)):
                code, _, err = run([cli] + argv)
                check(code == want and err.startswith("pam-passwordless: "),
                      f"pam-passwordless {' '.join(argv)} must exit {want} with a message, not {code}")
            check(standin.outbox() == [], "nothing may be sent")

    status_code = e2e.run_main(body)
    sandbox.stop_all()
    if status_code != 0:
        for name in ("helper", "standin"):
            if name in state:
                show(f"{name} log", state[name].log())
    return status_code


if __name__ == "__main__":
    raise SystemExit(main())
