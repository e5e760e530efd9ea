#!/usr/bin/python3
"""Console-login stacks end to end: pamtester on a pseudo-terminal against real /etc/pam.d files (copies in the
namespace's /etc overlay), the real module, the real helper and the local user-pool stand-in; pam_unix checks
the passwords of users that exist only in the namespace.

    login_stack.py --build-dir BUILD --work-dir DIR --scenario NAME [--profile FILE]

Two stacks:
- "login-pamtest": Debian's /etc/pam.d/login with the README's line before "@include common-auth":
      auth [success=done ignore=ignore default=die] pam_passwordless.so socket=...
  with the helper's unknown_user = ignore, so users without an identity fall through to their password.
      code          alice types the emailed code: success, and no password is asked
      fallback      bob has no identity: no code is sent, he is asked his password: success
      wrong-code    alice types wrong codes: refused, and the password is never asked (default=die)
      offer         one method (email_otp): alice is offered the code first ("Send a code to …? [Y/n]"),
                    presses Enter, types the code: success, one code sent, no password asked
- the stacks pam-auth-update writes with the package's profile enabled (--profile, installed into the
  namespace's /usr/share/pam-configs, the module into its PAM module folder), through Debian's unchanged
  /etc/pam.d/login and the default socket:
      profile-code      alice types the code: success without a password; then the package's removal
                        (pam-auth-update --package --remove) restores common-auth byte for byte
      profile-fallback  the user pool fails (HTTP 500): alice is told so, then asked her password: success
      profile-unenrolled  bob has no identity (the shipped unknown_user = fail): the profile's line lets him
                        through at once (PAM_IGNORE), so he sees no menu and no code prompt, only his
                        password: success

Runs as root in a throwaway mount and PID namespace (e2e_support); exits 77 when not root.
"""

import argparse
import glob
import os
import shutil
import subprocess
import sys

import e2e_support as e2e
from e2e_support import check, say, show

sys.path.insert(0, os.path.join(e2e.SOURCE, "tests", "pamtester"))
from pamtester_login import run_on_pty  # noqa: E402 - the pty driver the pamtester scenarios use

EMAIL = "alice@example.com"
PHONE = "+15555550123"
ALICE_PASSWORD = "alice-unix-password-e2e"
BOB_PASSWORD = "bob-unix-password-e2e"
WRONG_CODE = "00000000"
MAX_TRIES = 3
MENU = "Choice [1-2]:"
OFFER = "Send a code to a***@e***? [Y/n]"
CODE_PROMPT = "Code sent to a***@e***:"
UNAVAILABLE = "The sign-in service cannot be reached; try again later."
TOO_MANY = "Sign-in failed: too many wrong codes."
PASSWORD_PROMPT = "Password:"
PROFILE_NAME = "pam-passwordless"
SERVICE = "login-pamtest"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--module", help="pam_passwordless.so (default: BUILD/pam_passwordless/pam_passwordless.so)")
    ap.add_argument("--helper", help="the helper (default: BUILD/helper/pam-passwordless-helper)")
    ap.add_argument("--profile", help="the package's pam-auth-update profile (profile-* scenarios)")
    ap.add_argument("--scenario", required=True, choices=["code", "fallback", "wrong-code", "offer", "profile-code",
                                                          "profile-fallback", "profile-unenrolled"])
    return ap.parse_args()


def pam_module_dir():
    """Where this system's libpam looks for modules named without a path (where pam_unix.so is)."""
    for d in sorted(glob.glob("/usr/lib/*/security") + glob.glob("/lib/*/security") + ["/lib/security"]):
        if os.path.exists(os.path.join(d, "pam_unix.so")):
            return os.path.realpath(d)
    raise e2e.Failure("cannot find the PAM module folder (no pam_unix.so)")


def pamtester(sandbox, service, user, answer):
    """pamtester SERVICE USER authenticate on a pseudo-terminal. Returns (exit status, the screen, prompts
    answered). The pseudo-terminal driver gives `answer` the text since its last answer."""
    check(shutil.which("pamtester"), "pamtester is missing (package pamtester)")
    answered = []

    def respond(new_text):
        line = answer(new_text)
        if line is not None:
            answered.append(new_text)
        return line

    env = {"PATH": e2e.CLEAN_PATH, "LANG": "C", "HOME": sandbox.work, "TERM": "dumb"}
    status, screen = run_on_pty(["pamtester", "-v", service, user, "authenticate"], env, respond)
    show(f"pamtester {service} {user}: the screen", screen)
    return status, screen, answered


def answers(standin, password, wrong_code=False, cancel_code=False):
    def answer(text):
        stripped = text.rstrip()
        if stripped.endswith(MENU.rstrip()):
            return "1"
        if stripped.endswith(OFFER):
            return ""
        if "Code sent to" in text and stripped.endswith(":"):
            if cancel_code:
                return ""
            return WRONG_CODE if wrong_code else (standin.latest_code(EMAIL) or "no-code-was-sent")
        if stripped.endswith(PASSWORD_PROMPT):
            return password
        return None
    return answer


def helper_config(standin, unknown_user, methods="email_otp sms_otp"):
    def config(helper_dir):
        e2e.write(os.path.join(helper_dir, "identities"), f"alice {EMAIL}\nalice {PHONE}\n", 0o600)
        return standin.pool_section(helper_dir) + "\n".join([
            "[login]", f"methods = {methods}", f"max_tries = {MAX_TRIES}", "request_timeout = 5",
            f"unknown_user = {unknown_user}",
            "[binding]", f"mapping_file = {helper_dir}/identities", ""])
    return config


def login_pamtest_stack(module, socket):
    """Debian's login stack with the module's line before "@include common-auth", as the README says."""
    original = e2e.read("/etc/pam.d/login")
    lines = original.splitlines()
    at = next((i for i, line in enumerate(lines) if line.strip().startswith("@include common-auth")), None)
    check(at is not None, "/etc/pam.d/login has no '@include common-auth'")
    lines.insert(at, f"auth    [success=done ignore=ignore default=die]  {module} socket={socket}")
    e2e.write(f"/etc/pam.d/{SERVICE}", "\n".join(lines) + "\n")
    show(f"/etc/pam.d/{SERVICE} (auth lines)", "\n".join(l for l in lines if l.startswith(("auth", "@include"))))


def pam_auth_update(*args):
    env = {"PATH": e2e.CLEAN_PATH, "LANG": "C", "DEBIAN_FRONTEND": "noninteractive"}
    r = subprocess.run(["pam-auth-update", *args], env=env, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=120, check=False)
    check(r.returncode == 0, f"pam-auth-update {' '.join(args)} exited with {r.returncode}:\n{r.stdout}{r.stderr}")


def enable_profile(sandbox, module, profile):
    """Installs the package's files the profile needs where the package puts them, in the namespace only, and
    runs pam-auth-update as an admin would after installing it."""
    module_dir = pam_module_dir()
    sandbox.overlay(module_dir)
    shutil.copy2(module, os.path.join(module_dir, "pam_passwordless.so"))
    sandbox.overlay("/usr/share/pam-configs")
    shutil.copyfile(profile, f"/usr/share/pam-configs/{PROFILE_NAME}")
    os.chmod(f"/usr/share/pam-configs/{PROFILE_NAME}", 0o644)
    before = e2e.read("/etc/pam.d/common-auth")
    pam_auth_update("--enable", PROFILE_NAME)
    after = e2e.read("/etc/pam.d/common-auth")
    auth = [line for line in after.splitlines() if line.startswith("auth")]
    show("common-auth written by pam-auth-update (auth lines)", "\n".join(auth))
    ours = [i for i, line in enumerate(auth) if "pam_passwordless.so" in line]
    unix = [i for i, line in enumerate(auth) if "pam_unix.so" in line]
    check(len(ours) == 1, "pam-auth-update did not put the module into common-auth")
    check(unix and ours[0] < unix[0], "the module must come before pam_unix")
    return before


def main():
    args = e2e.enter_namespace(parse_args)
    build = os.path.abspath(args.build_dir)
    module = os.path.abspath(args.module or os.path.join(build, "pam_passwordless", "pam_passwordless.so"))
    helper_bin = os.path.abspath(args.helper or os.path.join(build, "helper", "pam-passwordless-helper"))
    profile_scenario = args.scenario.startswith("profile-")
    if profile_scenario and not (args.profile and os.path.exists(args.profile)):
        say(f"no pam-auth-update profile given or found ({args.profile}): skipped")
        return e2e.SKIP
    sandbox = e2e.Sandbox(args.work_dir)
    state = {}

    def body():
        sandbox.standard()
        sandbox.add_user("alice", e2e.Sandbox.password_hash(ALICE_PASSWORD))
        sandbox.add_user("bob", e2e.Sandbox.password_hash(BOB_PASSWORD))
        state["standin"] = standin = e2e.StandIn(sandbox)
        # The profile falls back to the password on any failure; the login stack by PAM_IGNORE only.
        methods = "email_otp" if args.scenario == "offer" else "email_otp sms_otp"
        state["helper"] = helper = e2e.Helper(
            sandbox, helper_bin, helper_config(standin, "fail" if profile_scenario else "ignore", methods))

        if args.scenario == "code":
            login_pamtest_stack(module, helper.socket)
            status, screen, answered = pamtester(sandbox, SERVICE, "alice", answers(standin, ALICE_PASSWORD))
            check(status == 0 and "successfully authenticated" in screen, f"pamtester exited with {status}")
            check(any(MENU in a for a in answered) and any(CODE_PROMPT in a for a in answered),
                  "the menu and the code prompt were not shown")
            check(PASSWORD_PROMPT not in screen, "the password was asked although the code was right")
            check(len(standin.outbox()) == 1, "exactly one code is sent")

        elif args.scenario == "offer":
            login_pamtest_stack(module, helper.socket)
            status, screen, answered = pamtester(sandbox, SERVICE, "alice", answers(standin, ALICE_PASSWORD))
            check(status == 0 and "successfully authenticated" in screen, f"pamtester exited with {status}")
            check(answered and answered[0].rstrip().endswith(OFFER), f"the first prompt is not the offer: {answered!r}")
            check(any(CODE_PROMPT in a for a in answered[1:]), "the code prompt did not follow the offer")
            check(MENU not in screen, "one method: no menu")
            check(PASSWORD_PROMPT not in screen, "the password was asked although the code was right")
            check(len(standin.outbox()) == 1, "exactly one code is sent")

        elif args.scenario == "fallback":
            login_pamtest_stack(module, helper.socket)
            status, screen, _ = pamtester(sandbox, SERVICE, "bob", answers(standin, BOB_PASSWORD))
            check(status == 0 and "successfully authenticated" in screen, f"pamtester exited with {status}")
            check(PASSWORD_PROMPT in screen, "bob was not asked his password")
            check(MENU not in screen and "Code sent" not in screen, "bob was shown the code prompts")
            check(not standin.outbox(), "a code was sent for a user without an identity")
            check('user="bob"' in helper.log() and "outcome=ignore" in helper.log(),
                  "the helper should log bob's login as ignored")

        elif args.scenario == "wrong-code":
            login_pamtest_stack(module, helper.socket)
            status, screen, answered = pamtester(sandbox, SERVICE, "alice",
                                                 answers(standin, ALICE_PASSWORD, wrong_code=True))
            check(status != 0, "pamtester succeeded with wrong codes")
            check(len([a for a in answered if "Code sent to" in a]) == MAX_TRIES,
                  f"expected {MAX_TRIES} code prompts")
            check(TOO_MANY in screen, f"the person is not told '{TOO_MANY}'")
            check(PASSWORD_PROMPT not in screen, "default=die: the password must not be asked")

        elif args.scenario == "profile-code":
            before = enable_profile(sandbox, module, args.profile)
            status, screen, answered = pamtester(sandbox, "login", "alice", answers(standin, ALICE_PASSWORD))
            check(status == 0 and "successfully authenticated" in screen, f"pamtester exited with {status}")
            check(any(CODE_PROMPT in a for a in answered), "the code prompt was not shown")
            check(PASSWORD_PROMPT not in screen, "the password was asked although the code was right")
            check("outcome=success" in helper.log(), "the helper should log the success")
            # What the package's prerm does on removal.
            pam_auth_update("--package", "--remove", PROFILE_NAME)
            check(e2e.read("/etc/pam.d/common-auth") == before,
                  "removing the profile did not restore common-auth as it was")

        elif args.scenario == "profile-fallback":
            enable_profile(sandbox, module, args.profile)
            standin.control({"fault": "http_500"})
            status, screen, answered = pamtester(sandbox, "login", "alice", answers(standin, ALICE_PASSWORD))
            check(status == 0 and "successfully authenticated" in screen, f"pamtester exited with {status}")
            check(UNAVAILABLE in screen, f"the person is not told '{UNAVAILABLE}'")
            check(PASSWORD_PROMPT in screen, "the password was not asked after the service failed")
            check(screen.index(UNAVAILABLE) < screen.index(PASSWORD_PROMPT),
                  "the service's failure should be shown before the password prompt")
            check("outcome=authinfo_unavail" in helper.log(), "the helper should log authinfo_unavail")

        elif args.scenario == "profile-unenrolled":
            enable_profile(sandbox, module, args.profile)
            status, screen, _ = pamtester(sandbox, "login", "bob", answers(standin, BOB_PASSWORD, cancel_code=True))
            check(status == 0 and "successfully authenticated" in screen, f"pamtester exited with {status}")
            check(PASSWORD_PROMPT in screen, "bob was not asked his password")
            check(not standin.outbox(), "a code was sent for a user without an identity")
            # The profile's line lets users without an identity through at once, whatever the helper's
            # unknown_user (the shipped fail here): no menu, no code prompt, only the password.
            check(MENU not in screen and "Code sent" not in screen and "Send a code" not in screen,
                  "bob was shown the module's prompts before his password")
            check(screen.count(PASSWORD_PROMPT) == 1, "bob should be asked only his password")
            check('user="bob"' in helper.log() and "outcome=ignore" in helper.log(),
                  "the helper should log bob's login as ignored")

    status = e2e.run_main(body)
    sandbox.stop_all()
    if status != 0:
        for name in ("helper", "standin"):
            if name in state:
                show(f"{name} log", state[name].log())
    return status


if __name__ == "__main__":
    raise SystemExit(main())
