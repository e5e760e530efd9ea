#!/usr/bin/python3
"""A real passwordless login through the installed package, as an admin would set it up.

Run by install_remove.sh inside its throwaway mount namespace, after `dpkg -i` and
`pam-auth-update --enable pam-passwordless`:

    package_login.py --work-dir DIR --user NAME --password PASSWORD --service SERVICE

It configures the installed files where the package put them (/etc/pam_passwordless/helper.conf and
identities, pointed at the local user-pool stand-in on 127.0.0.1), checks them with the installed
`pam-passwordless-helper check-config`, starts the installed network worker as its units would
(pam-passwordless-pool.socket and .service: installed_units.py) and the installed helper with its unit's
arguments (`--pool-socket` the worker's socket), in a network namespace of its own (PrivateNetwork=yes), on its
default socket (there is no systemd in the namespace to start them from the socket units), and runs pamtester
on a pseudo-terminal against SERVICE (a stack of only "@include common-auth", which pam-auth-update wrote with
the profile enabled):

- the person picks "Email code" and types the emailed code: success, and no password is asked;
- the person types wrong codes: the profile falls through to the password, and a wrong password fails;
- with the worker stopped, the helper cannot reach the pool (it has no other way to it): the login falls
  through to the password, and the right password passes.

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
CONF_DIR = "/etc/pam_passwordless"
EMAIL = "alice@example.com"
MENU = "Choice [1-2]:"
OFFER = "[Y/n]"
CODE_SENT = "Code sent to"
PASSWORD_PROMPT = "Password:"
TOO_MANY = "Sign-in failed: too many wrong codes."
WRONG_CODE = "00000000"
MAX_TRIES = 2


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--service", required=True)
    return ap.parse_args()


def configure(standin, work, user):
    """The admin's edits: the pool, the methods, and who may log in as `user`."""
    e2e.write(os.path.join(CONF_DIR, "identities"), f"{user} {EMAIL}\n", 0o600)
    e2e.write(os.path.join(CONF_DIR, "helper.conf"), standin.pool_section(work) + "\n".join([
        "[login]", "methods = email_otp sms_otp", f"max_tries = {MAX_TRIES}", "request_timeout = 10",
        "[binding]", f"mapping_file = {CONF_DIR}/identities",
        "[limits]", f"state_file = {work}/limits", ""]), 0o644)
    # As the unit's ExecStartPre runs it: without the network.
    r = subprocess.run(installed_units.helper_sandbox() + [HELPER, "check-config"], capture_output=True, text=True,
                       timeout=60, check=False)
    show("pam-passwordless-helper check-config", r.stdout + r.stderr)
    check(r.returncode == 0, f"check-config refused the configuration (exit {r.returncode})")


def pamtester(service, user, answer):
    check(shutil.which("pamtester"), "pamtester is missing (package pamtester)")
    env = {"PATH": e2e.CLEAN_PATH, "LANG": "C", "TERM": "dumb"}
    status, screen = run_on_pty(["pamtester", "-v", service, user, "authenticate"], env, answer)
    show(f"pamtester {service} {user}: the screen", screen)
    return status, screen


def answers(standin, password, code=None):
    def answer(text):
        stripped = text.rstrip()
        if stripped.endswith(MENU):
            return "1"
        # The map names only the email: codes go where the map says, so the one code is offered instead of a menu.
        if stripped.endswith(OFFER):
            return "y"
        if CODE_SENT in text and stripped.endswith(":"):
            return code or standin.latest_code(EMAIL) or "no-code-was-sent"
        if stripped.endswith(PASSWORD_PROMPT):
            return password
        return None
    return answer


def main():
    args = parse_args()
    check(os.geteuid() == 0, "needs root")
    sandbox = e2e.Sandbox(args.work_dir)  # only for its process list: the caller made the namespace

    def body():
        standin = e2e.StandIn(sandbox)
        helper_dir = e2e.fresh_dir(os.path.join(sandbox.work, "helper"))
        configure(standin, helper_dir, args.user)
        # The default socket, where the installed module looks; systemd would create its folder.
        os.makedirs(os.path.dirname(e2e.HELPER_SOCKET), mode=0o755, exist_ok=True)
        if os.path.exists(e2e.HELPER_SOCKET):
            os.unlink(e2e.HELPER_SOCKET)
        worker = installed_units.Worker(sandbox, helper_dir)
        log = os.path.join(helper_dir, "helper.log")
        argv = installed_units.helper_exec_start() + ["--foreground", "--socket", e2e.HELPER_SOCKET]
        check(argv[3] == HELPER, f"the helper's unit runs {argv[3]}, not {HELPER}")
        helper = sandbox.start("helper", argv, log)
        e2e.wait_for(lambda: os.path.exists(e2e.HELPER_SOCKET) or helper.poll() is not None, "the helper's socket")
        check(os.path.exists(e2e.HELPER_SOCKET), "the installed helper did not start:\n" + e2e.read(log))
        check(os.readlink(f"/proc/{helper.pid}/ns/net") != os.readlink("/proc/self/ns/net"),
              "the helper must run in a network namespace of its own, as its unit's PrivateNetwork=yes says")
        say("ok: the helper runs with its unit's arguments in a network namespace of its own")

        status, screen = pamtester(args.service, args.user, answers(standin, args.password))
        check(status == 0 and "successfully authenticated" in screen, f"the code login failed (exit {status})")
        check(CODE_SENT in screen, "the code prompt was not shown")
        check(PASSWORD_PROMPT not in screen, "the password was asked although the code was right")
        check(len(standin.outbox()) == 1, "exactly one code must be sent")
        say("ok: logged in with the emailed code through common-auth, no password asked")

        status, screen = pamtester(args.service, args.user, answers(standin, "not-the-password", WRONG_CODE))
        check(status != 0, "wrong codes and a wrong password were accepted")
        check(screen.count(CODE_SENT) == MAX_TRIES, f"expected {MAX_TRIES} code prompts")
        check(TOO_MANY in screen, f"the person is not told '{TOO_MANY}'")
        check(PASSWORD_PROMPT in screen, "the profile must fall through to the password after wrong codes")
        say("ok: wrong codes fall through to the password, and a wrong password fails")
        worker.check_running()
        say("ok: the worker still runs as its unprivileged uid after the logins it served")

        worker.stop()
        before = len(standin.outbox())
        status, screen = pamtester(args.service, args.user, answers(standin, args.password))
        check(status == 0 and "successfully authenticated" in screen and PASSWORD_PROMPT in screen,
              f"with the worker stopped the password must still work (exit {status})")
        check(CODE_SENT not in screen and len(standin.outbox()) == before,
              "a code was sent with the worker stopped: the helper reached the pool another way")
        say("ok: with the worker stopped no code is sent, and the login falls through to the password")

        audit = e2e.read(log)
        show("the helper's log", audit)
        check("outcome=success" in audit, "the helper should log the success")
        check(standin.latest_code(EMAIL) not in audit, "a code appeared in the helper's log")

    try:
        return e2e.run_main(body)
    finally:
        sandbox.stop_all()


if __name__ == "__main__":
    sys.exit(main())
