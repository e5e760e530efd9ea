#!/usr/bin/python3
"""sudo with a security key end to end: the real setuid sudo with a private PAM service whose auth stack is the
module alone, the real helper configured for `methods = security_key`, the real command line enrolling the key,
and the virtual FIDO2 key (tests/virtual_fido) behind the real libfido2.

sudo is setuid and ignores LD_PRELOAD, so the virtual key is put into every process of the namespace through
/etc/ld.so.preload in the namespace's /etc overlay, for the sudo runs only. Its knobs (VFIDO_*) are read when
the library loads, before sudo cleans its environment.

    sudo_passkey.py --build-dir BUILD --work-dir DIR --virtual-fido LIB --scenario touch|deny|no-key

  touch   the key is touched: `sudo -S -k id -un` as alice prints root and exits 0
  deny    the touch is refused: sudo fails and runs nothing
  no-key  no key is plugged in: sudo fails and runs nothing
  code    no key: one code method (email_otp) at sudo; the first prompt offers the code, Enter sends it, the
          code is typed: the command runs as root

Runs as root in a throwaway mount and PID namespace (e2e_support); exits 77 when not root.
"""

import argparse
import os
import subprocess

import e2e_support as e2e
from e2e_support import check, say, show

USER = "alice"
SERVICE = "sudo-pamtest"
TOUCH = "Touch your security key."
EMAIL = "alice@example.com"
OFFER = "Send a code to a***@e***? [Y/n]"
SUDO_TIMEOUT_S = 90


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--virtual-fido", help="libpp_virtual_fido.so (default: BUILD/tests/virtual_fido/...)")
    ap.add_argument("--module", help="pam_passwordless.so (default: BUILD/pam_passwordless/pam_passwordless.so)")
    ap.add_argument("--helper", help="the helper (default: BUILD/helper/pam-passwordless-helper)")
    ap.add_argument("--cli", help="pam-passwordless (default: BUILD/cli/pam-passwordless)")
    ap.add_argument("--scenario", choices=["touch", "deny", "no-key", "code"], required=True)
    ap.add_argument("--expect-messages", action="store_true",
                    help="require that sudo shows the module's messages (the touch cue, 'No security key found')")
    return ap.parse_args()


def key_env(state_dir, knobs):
    return dict({"PATH": e2e.CLEAN_PATH, "LANG": "C", "VFIDO_STATE_DIR": state_dir}, **knobs)


def enroll(sandbox, cli, virtual_fido, state_dir):
    env = key_env(state_dir, {"LD_PRELOAD": virtual_fido})
    r = subprocess.run([cli, "enroll", "--user", USER, "--name", "e2e key"], env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60, check=False, cwd=sandbox.work)
    show("pam-passwordless enroll: standard output", r.stdout)
    show("pam-passwordless enroll: standard error", r.stderr)
    check(r.returncode == 0, f"pam-passwordless enroll --user {USER} exited with {r.returncode}")
    r = subprocess.run([cli, "list", "--user", USER], env=key_env(state_dir, {}), stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60, check=False)
    show("pam-passwordless list", r.stdout + r.stderr)
    check(r.returncode == 0 and "e2e key" in r.stdout, "the enrolled credential is not listed")


def sudo_as_user(uid, state_dir, virtual_fido, knobs):
    """`sudo -S -k id -un` run by the user, without a terminal, with the virtual key preloaded into sudo."""
    e2e.write("/etc/ld.so.preload", virtual_fido + "\n")
    try:
        env = key_env(state_dir, knobs)
        r = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--init-groups", "--",
                            "sudo", "-S", "-k", "--", "/usr/bin/id", "-un"],
                           env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=SUDO_TIMEOUT_S, check=False)
    finally:
        os.unlink("/etc/ld.so.preload")
    show("sudo: standard output", r.stdout)
    show("sudo: standard error", r.stderr)
    return r


def write_sudo_service(module, socket):
    e2e.write(f"/etc/pam.d/{SERVICE}", "\n".join([
        f"auth [success=done default=die] {module} socket={socket}",
        "@include common-account",
        "@include common-session-noninteractive",
        ""]))
    e2e.write("/etc/sudoers.d/pp-e2e", "\n".join([
        f"Defaults:{USER} pam_service={SERVICE}",
        f"Defaults:{USER} lecture=never",
        f"Defaults:{USER} !mail_badpass",
        f"{USER} ALL=(ALL:ALL) ALL",
        ""]), 0o440)
    r = subprocess.run(["visudo", "-c"], capture_output=True, text=True, check=False)
    check(r.returncode == 0, "visudo -c refused the rules:\n" + r.stdout + r.stderr)


def scenario_code(sandbox, module, helper_bin, uid):
    """sudo -S reads every answer from standard input: Enter for the offer, then the code once it was sent."""
    standin = e2e.StandIn(sandbox)

    def config(helper_dir):
        e2e.write(os.path.join(helper_dir, "identities"), f"{USER} {EMAIL}\n", 0o600)
        return standin.pool_section(helper_dir) + "\n".join([
            "[login]", "methods = email_otp", "request_timeout = 5",
            "[binding]", f"mapping_file = {helper_dir}/identities", ""])

    helper = e2e.Helper(sandbox, helper_bin, config)
    write_sudo_service(module, helper.socket)
    p = subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--init-groups", "--",
                          "sudo", "-S", "-k", "--", "/usr/bin/id", "-un"],
                         env={"PATH": e2e.CLEAN_PATH, "LANG": "C"}, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        p.stdin.write("\n")  # Enter at the offer
        p.stdin.flush()
        e2e.wait_for(lambda: standin.latest_code(EMAIL) is not None or p.poll() is not None, "the code")
        out, err = p.communicate(input=(standin.latest_code(EMAIL) or "no-code") + "\n", timeout=SUDO_TIMEOUT_S)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    show("sudo: standard output", out)
    show("sudo: standard error", err)
    show("the helper's log", helper.log())
    check(p.returncode == 0 and out.strip() == "root", f"sudo exited with {p.returncode}: {out!r}")
    check(OFFER in err, f"sudo did not show the offer {OFFER!r}")
    check(err.index(OFFER) < err.index("Code sent to a***@e***:"), "the offer must come before the code prompt")
    check(len(standin.outbox()) == 1, "exactly one code is sent")
    check("method=email_otp outcome=success" in helper.log(), "the helper should log the code login")


def main():
    args = e2e.enter_namespace(parse_args)
    build = os.path.abspath(args.build_dir)
    module = os.path.abspath(args.module or os.path.join(build, "pam_passwordless", "pam_passwordless.so"))
    helper_bin = os.path.abspath(args.helper or os.path.join(build, "helper", "pam-passwordless-helper"))
    cli = os.path.abspath(args.cli or os.path.join(build, "cli", "pam-passwordless"))
    virtual_fido = os.path.abspath(args.virtual_fido or
                                   os.path.join(build, "tests", "virtual_fido", "libpp_virtual_fido.so"))
    sandbox = e2e.Sandbox(args.work_dir)
    state = {}

    def body():
        for path in (module, helper_bin, cli, virtual_fido):
            check(os.path.exists(path), f"{path} is missing: build it first")
        check(os.stat("/usr/bin/sudo").st_mode & 0o4000, "/usr/bin/sudo is not setuid (package sudo)")
        sandbox.standard()
        uid = sandbox.add_user(USER)
        if args.scenario == "code":
            return scenario_code(sandbox, module, helper_bin, uid)
        state_dir = e2e.fresh_dir(os.path.join(sandbox.work, "vfido-state"))

        def config(helper_dir):
            return e2e.UNUSED_POOL + "\n".join([
                "[login]", "methods = security_key",
                "[binding]", "claim = cognito:username",
                "[security_key]", "rp_id = pam://pam-passwordless-e2e", f"store_dir = {helper_dir}/credentials",
                "user_verification = preferred", "touch_timeout = 10", ""])

        state["helper"] = helper = e2e.Helper(sandbox, helper_bin, config)
        write_sudo_service(module, helper.socket)

        enroll(sandbox, cli, virtual_fido, state_dir)
        knobs = {"touch": {"VFIDO_TOUCH": "ok"}, "deny": {"VFIDO_TOUCH": "deny"}, "no-key": {"VFIDO_KEYS": "0"}}
        r = sudo_as_user(uid, state_dir, virtual_fido, knobs[args.scenario])
        logins = [line for line in helper.log().splitlines() if f'service="{SERVICE}"' in line]
        show("the helper's audit lines for sudo", "\n".join(logins))
        check(logins and all("method=security_key" in line for line in logins),
              "the helper should log each sudo login as a security-key login")
        # The touch cue asks the person to act, so the module shows it even under sudo's PAM_SILENT (sudo prints
        # it on standard output); failure texts stay silent there, and sudo says "Sorry, try again." itself.
        expected = {"touch": TOUCH, "deny": TOUCH, "no-key": None}[args.scenario]
        command_output = "\n".join(line for line in r.stdout.splitlines() if line.strip() != TOUCH)
        if args.scenario == "touch":
            check(r.returncode == 0, f"sudo exited with {r.returncode}")
            check(command_output.strip() == "root", f"the command did not run as root: {r.stdout!r}")
            check(len(logins) == 1 and "outcome=success" in logins[0], "expected one successful login")
        else:
            check(r.returncode != 0, "sudo succeeded")
            check(command_output.strip() == "", f"the command ran: {r.stdout!r}")
            check(not any("outcome=success" in line for line in logins), "the helper logged a success")
            check("incorrect password attempt" in r.stderr, "sudo did not report the failed authentication")
        # sudo 1.9.13 calls pam_authenticate with PAM_SILENT; --expect-messages requires the cue anyway.
        seen = r.stdout + r.stderr
        if expected:
            say(f"sudo exit status {r.returncode}; the person saw {expected!r}: {'yes' if expected in seen else 'NO'}")
            if args.expect_messages:
                check(expected in seen, f"sudo did not show {expected!r}")

    status = e2e.run_main(body)
    sandbox.stop_all()
    if status != 0 and "helper" in state:
        show("helper log", state["helper"].log())
    return status


if __name__ == "__main__":
    raise SystemExit(main())
