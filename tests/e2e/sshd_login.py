#!/usr/bin/python3
"""Passwordless SSH end to end: a real sshd with a private PAM service whose auth stack is the module alone,
the real helper, the local user-pool stand-in, and two real clients: paramiko (to see every keyboard-interactive
request exactly as the server sent it) and OpenSSH's ssh (what a person sees), answering through an askpass
program without a terminal.

    sshd_login.py --build-dir BUILD --work-dir DIR --scenario NAME

  password       Debian's stock sshd (password only) through the package's profile: password logins never
                 send a code nor count a failure; a user without an identity goes straight to the password
  happy          paramiko and ssh: the menu, the emailed code, then a command runs as alice
  wrong-code     three wrong codes: refused, and the person is told why
  service-down   the user pool answers HTTP 500: refused, and the person is told why
  unknown-users  bob (no identity) sees the screens alice sees typing wrong codes; a name that is no local
                 account is refused (its screens differ today: --strict-invalid-user requires them equal)
  loopback-keys  alice has a security key enrolled and methods list security_key: sshd on 127.0.0.1 (where an
                 SSH local port forward arrives) reports PAM_RHOST 127.0.0.1, a remote login, so the menu offers
                 no security key; the emailed code still logs her in
  denied-users   sshd turns alice (an identity) and bob (none) away with DenyUsers, standing in its
                 bad-password string for every answer: no code is sent, and both see the same screens and end
                 with the same PAM code
  decoy-ending   with the pool behind an added delay, alice typing wrong codes, bob (a local account without an
                 identity) and a name that is no local account: the same screens (masked text aside), the same
                 PAM code (the helper's outcome) and the same end in ssh; only the audit reason differs
  recovery-never-remote  root made recovery codes for alice and the pool fails (HTTP 500): sshd (PAM_RHOST
                 127.0.0.1, with loopback_is_local = yes) is never asked for one; a client answering every
                 prompt with a valid code is refused, and the code is still unused
  decoy-pool-ends  the same, with a pool that ends the session itself after two wrong codes (alice's third code
                 is refused with NotAuthorizedException)
  ceiling-walks  review 30b: sends_per_hour = 3; a client walks four names that are no local account (sshd
                 stands in for every answer): nothing is sent, so alice still gets her code

Runs as root in a throwaway mount and PID namespace (e2e_support); exits 77 when not root.
"""

import argparse
import importlib.util
import os
import re
import socket
import subprocess

import askpass
import e2e_support as e2e
from e2e_support import check, say, show

USER = "alice"
EMAIL = "alice@example.com"
PHONE = "+15555550123"
SERVICE = "sshd-pamtest"  # sshd's PAM service name is its program name
WRONG_CODE = "00000000"
MAX_TRIES = 3
MENU = "Choice [1-2]:"
CODE_PROMPT = "Code sent to a***@e***:"
# After a wrong code: the same code stays valid, nothing new is sent.
WRONG_CODE_PROMPT = "Wrong code. Try again. Code sent to a***@e*** is still valid:"
OFFER = "Send a code to a***@e***? [Y/n]"
UNAVAILABLE = "The sign-in service cannot be reached; try again later."
TOO_MANY = "Sign-in failed: too many wrong codes."
SESSION_MARK = "e2e-session-ran"
CLIENT_TIMEOUT_S = 90
KEY_RP_ID = "pam://pam-passwordless-e2e"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--module", help="pam_passwordless.so (default: BUILD/pam_passwordless/pam_passwordless.so)")
    ap.add_argument("--helper", help="the helper (default: BUILD/helper/pam-passwordless-helper)")
    ap.add_argument("--scenario", choices=sorted(SCENARIOS), required=True)
    ap.add_argument("--profile", help="password: the package's pam-auth-update profile")
    ap.add_argument("--strict-invalid-user", action="store_true",
                    help="unknown-users: require that a name with no local account sees alice's screens too")
    return ap.parse_args()


class Sshd:
    """A real sshd on 127.0.0.1 at a port the kernel picked, named so that PAM uses `service`. By default it asks
    by keyboard-interactive only and its PAM stack is the module alone, as the README's sshd stack says; with
    `password` it is Debian's stock setup instead (PasswordAuthentication yes, keyboard-interactive off) and
    `auth_stack` are its auth lines."""

    def __init__(self, sandbox, module, service=SERVICE, password=False, auth_stack=None, extra=()):
        self.dir = e2e.fresh_dir(os.path.join(sandbox.work, service))
        self.host_key = os.path.join(self.dir, "host_ed25519_key")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "e2e", "-f", self.host_key],
                       check=True, stdin=subprocess.DEVNULL)
        self.port = e2e.free_port()
        config = os.path.join(self.dir, "sshd_config")
        methods = (["KbdInteractiveAuthentication no", "PasswordAuthentication yes",
                    "AuthenticationMethods password"]
                   if password else
                   ["KbdInteractiveAuthentication yes", "PasswordAuthentication no",
                    "AuthenticationMethods keyboard-interactive"])
        e2e.write(config, "\n".join([
            "ListenAddress 127.0.0.1",
            f"Port {self.port}",
            f"HostKey {self.host_key}",
            "PidFile none",
            "UsePAM yes",
            *methods,
            "PubkeyAuthentication no",
            "HostbasedAuthentication no",
            "PermitRootLogin no",
            "UseDNS no",
            "PrintMotd no",
            "PrintLastLog no",
            "LogLevel DEBUG1",
            "LoginGraceTime 60",
            *extra,
            ""]))
        # The private PAM service: by default the module alone decides authentication.
        auth = auth_stack or [f"auth [success=done default=die] {module} socket={e2e.HELPER_SOCKET}"]
        e2e.write(f"/etc/pam.d/{service}", "\n".join([
            *auth,
            "@include common-account",
            "@include common-session",
            ""]))
        program = os.path.join(self.dir, service)
        os.symlink("/usr/sbin/sshd", program)
        r = subprocess.run([program, "-t", "-f", config], capture_output=True, text=True, check=False)
        check(r.returncode == 0, f"sshd -t refused the configuration:\n{r.stderr}")
        self.log_path = os.path.join(self.dir, "sshd.log")
        # sshd re-executes itself by the path it was started with: an absolute one.
        self.proc = sandbox.start(service, [program, "-D", "-e", "-f", config], self.log_path)
        e2e.wait_for(lambda: self.proc.poll() is not None or e2e.port_open(self.port), "sshd's port")
        check(self.proc.poll() is None, "sshd exited:\n" + self.log())
        with open(self.host_key + ".pub", encoding="utf-8") as f:
            self.host_public = f.read().split()[1]

    def log(self):
        return e2e.read(self.log_path)


def paramiko_login(sshd, answer, user=USER):
    """One keyboard-interactive authentication with paramiko. Returns (authenticated, requests, session), where
    requests are the server's INFO_REQUESTs as (instruction, [(prompt, echo)]) and session the command's
    (exit status, output) when authenticated."""
    import paramiko
    requests = []
    sock = socket.create_connection(("127.0.0.1", sshd.port), timeout=30)
    transport = paramiko.Transport(sock)
    try:
        transport.start_client(timeout=30)
        check(transport.get_remote_server_key().get_base64() == sshd.host_public, "unexpected host key")

        def handler(title, instructions, prompts):
            requests.append((instructions, [(p, bool(e)) for p, e in prompts]))
            return [answer(p) for p, _ in prompts]

        try:
            transport.auth_interactive(user, handler)
        except paramiko.AuthenticationException:
            return False, requests, None
        return True, requests, run_session(transport)
    finally:
        transport.close()


def paramiko_password_login(sshd, user, password):
    """One "password" authentication with paramiko, as a stock client sends it. Returns (authenticated,
    session), session as in paramiko_login."""
    import paramiko
    sock = socket.create_connection(("127.0.0.1", sshd.port), timeout=30)
    transport = paramiko.Transport(sock)
    try:
        transport.start_client(timeout=30)
        check(transport.get_remote_server_key().get_base64() == sshd.host_public, "unexpected host key")
        try:
            transport.auth_password(user, password, fallback=False)
        except paramiko.AuthenticationException:
            return False, None
        return True, run_session(transport)
    finally:
        transport.close()


def run_session(transport):
    """Runs the marker command on an authenticated transport: (exit status, output)."""
    channel = transport.open_session(timeout=30)
    channel.settimeout(CLIENT_TIMEOUT_S)
    channel.exec_command(f"echo {SESSION_MARK}; id -un")
    output = b""
    while True:
        chunk = channel.recv(4096)
        if not chunk:
            break
        output += chunk
    return channel.recv_exit_status(), output.decode("utf-8", "replace")


def describe_requests(requests):
    lines = []
    for i, (instruction, prompts) in enumerate(requests, 1):
        lines.append(f"request {i}: instruction={instruction!r}")
        for prompt, echo in prompts:
            lines.append(f"    prompt={prompt!r} echo={echo}")
    return "\n".join(lines)


def openssh_login(sandbox, sshd, standin, mode, user=USER):
    """OpenSSH's ssh, answering through ASKPASS without a terminal, one keyboard-interactive attempt.
    Returns (exit status, stdout, stderr, askpass prompts)."""
    client = e2e.fresh_dir(os.path.join(sandbox.work, f"ssh-client-{mode}-{user}"))
    known_hosts = os.path.join(client, "known_hosts")
    e2e.write(known_hosts, f"[127.0.0.1]:{sshd.port} ssh-ed25519 {sshd.host_public}\n")
    prompts_log = os.path.join(client, "askpass-prompts.jsonl")
    env = {
        "PATH": e2e.CLEAN_PATH, "LANG": "C", "HOME": client,
        "SSH_ASKPASS": os.path.join(e2e.HERE, "askpass.py"), "SSH_ASKPASS_REQUIRE": "force",
        "PP_E2E_ASKPASS_LOG": prompts_log, "PP_E2E_ASKPASS_MODE": mode,
        "PP_E2E_OUTBOX": os.path.join(standin.dir, "outbox.jsonl"), "PP_E2E_DESTINATION": EMAIL,
    }
    argv = ["ssh", "-F", "/dev/null", "-T", "-p", str(sshd.port),
            "-o", f"UserKnownHostsFile={known_hosts}", "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "StrictHostKeyChecking=yes", "-o", "PreferredAuthentications=keyboard-interactive",
            "-o", "NumberOfPasswordPrompts=1", "-o", "ConnectTimeout=30", "-o", "LogLevel=INFO",
            f"{user}@127.0.0.1", f"echo {SESSION_MARK}; id -un"]
    r = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=CLIENT_TIMEOUT_S, check=False)
    return r.returncode, r.stdout, r.stderr, askpass.read_log(prompts_log)


def code_answerer(standin, wrong):
    def answer(prompt):
        if MENU in prompt:
            return "1"
        if "Code sent to" in prompt:
            return WRONG_CODE if wrong else (standin.latest_code(EMAIL) or "no-code-was-sent")
        return ""  # an unexpected prompt: the empty answer cancels
    return answer


def scenario_happy(sandbox, sshd, standin, helper, args):
    ok, requests, session = paramiko_login(sshd, code_answerer(standin, wrong=False))
    show("paramiko: what the server asked", describe_requests(requests))
    check(ok, "paramiko: the login was refused")
    prompts = [p for _, ps in requests for p in ps]
    check(len(prompts) == 2, f"expected the menu and the code prompt, got {len(prompts)} prompts")
    menu, code = prompts
    check(MENU in menu[0] and "1) Email code to a***@e***" in menu[0] and "2) Text message code to" in menu[0],
          f"the menu prompt is not the menu: {menu[0]!r}")
    check(menu[1] is True, "the menu answer should echo")
    check(code[0].strip() == CODE_PROMPT, f"the code prompt is {code[0]!r}")
    check(code[1] is False, "the code must not echo")
    status, output = session
    check(status == 0 and SESSION_MARK in output and output.split()[-1] == USER,
          f"the session did not run as {USER}: status {status}, output {output!r}")
    check(len(standin.outbox()) == 1, "exactly one code is sent for one login")

    status, out, err, asked = openssh_login(sandbox, sshd, standin, "code")
    show("ssh: standard output", out)
    show("ssh: standard error", err)
    show("ssh: askpass prompts", "\n".join(repr(p) for p in asked))
    check(status == 0, f"ssh exited with {status}")
    check(SESSION_MARK in out and out.split()[-1] == USER, f"the command did not run as {USER}: {out!r}")
    check(any(MENU in p for p in asked) and any(CODE_PROMPT in p for p in asked),
          "ssh did not ask the menu and the code")
    check(helper.log().count("outcome=success") == 2, "the helper should log two successful logins")


def scenario_wrong_code(sandbox, sshd, standin, helper, args):
    ok, requests, _ = paramiko_login(sshd, code_answerer(standin, wrong=True))
    show("paramiko: what the server asked", describe_requests(requests))
    check(not ok, "paramiko: a login with wrong codes was accepted")
    prompts = [p for _, ps in requests for p, _ in ps]
    code_prompts = [p for p in prompts if "Code sent to" in p]
    check(len(code_prompts) == MAX_TRIES, f"expected {MAX_TRIES} code prompts, got {len(code_prompts)}")
    check(all(p.strip() == WRONG_CODE_PROMPT for p in code_prompts[1:]),
          f"after a wrong code the prompt says so: {code_prompts[1:]!r}")
    shown = "\n".join([i for i, _ in requests] + prompts)
    check(TOO_MANY in shown, f"the person is not told '{TOO_MANY}'")
    check("outcome=maxtries" in helper.log(), "the helper should log outcome=maxtries")

    status, out, err, asked = openssh_login(sandbox, sshd, standin, "wrong")
    show("ssh: standard output", out)
    show("ssh: standard error", err)
    show("ssh: askpass prompts", "\n".join(repr(p) for p in asked))
    check(status == 255, f"ssh exited with {status}, expected 255 (authentication refused)")
    check(SESSION_MARK not in out, "a session ran")
    check(len([p for p in asked if "Code sent to" in p]) == MAX_TRIES, "ssh did not ask for the code 3 times")
    check(TOO_MANY in err + "\n".join(asked), f"ssh does not show '{TOO_MANY}'")
    check("Permission denied" in err, "ssh does not say the login was refused")


def scenario_service_down(sandbox, sshd, standin, helper, args):
    standin.control({"fault": "http_500"})
    ok, requests, _ = paramiko_login(sshd, code_answerer(standin, wrong=False))
    show("paramiko: what the server asked", describe_requests(requests))
    check(not ok, "paramiko: a login was accepted while the user pool fails")
    shown = "\n".join([i for i, _ in requests] + [p for _, ps in requests for p, _ in ps])
    check(UNAVAILABLE in shown, f"the person is not told '{UNAVAILABLE}'")
    check("outcome=authinfo_unavail" in helper.log(), "the helper should log outcome=authinfo_unavail")
    check(not standin.outbox(), "no code may be sent when the service fails")

    status, out, err, asked = openssh_login(sandbox, sshd, standin, "code")
    show("ssh: standard output", out)
    show("ssh: standard error", err)
    show("ssh: askpass prompts", "\n".join(repr(p) for p in asked))
    check(status == 255, f"ssh exited with {status}, expected 255 (authentication refused)")
    check(SESSION_MARK not in out, "a session ran")
    check(UNAVAILABLE in err + "\n".join(asked), f"ssh does not show '{UNAVAILABLE}'")


def shape(requests):
    """What a screen shows, with the masked destinations left out: the prompts (menu, code, wrong code), their
    echo, and the final message."""
    out = []
    for instruction, prompts in requests:
        if instruction:
            out.append(("message", instruction.strip()))
        for prompt, echo in prompts:
            kind = ("menu" if MENU in prompt else
                    "wrong code" if prompt.startswith("Wrong code. Try again. Code sent to") else
                    "code" if prompt.startswith("Code sent to") else prompt)
            out.append((kind, echo))
    return out


def scenario_unknown_users(sandbox, sshd, standin, helper, args):
    """A local account without an identity (bob) walks the same screens as alice typing wrong codes, and no
    code is sent for it. A name that is no local account is refused without a code sent; sshd replaces every
    answer of such a user with its own bad-password string, so the module sees a garbage menu choice and the
    screens differ from alice's ("Please answer with a number from the list." three times, then "Sign-in
    failed."): the account's absence shows. Reported; --strict-invalid-user requires the same screens."""
    _, alice, _ = paramiko_login(sshd, code_answerer(standin, wrong=True))
    sent_for_alice = len(standin.outbox())
    show("alice (wrong codes)", describe_requests(alice))
    for user in ("bob", "nosuchuser"):
        ok, requests, _ = paramiko_login(sshd, code_answerer(standin, wrong=True), user=user)
        show(f"{user}", describe_requests(requests))
        check(not ok, f"{user} was let in")
        same = shape(requests) == shape(alice)
        say(f"{user} sees the screens alice sees: {'yes' if same else 'NO'}")
        if user == "bob" or args.strict_invalid_user:
            check(same, f"{user} sees other screens than alice:\n{shape(requests)}\nversus\n{shape(alice)}")
    check(len(standin.outbox()) == sent_for_alice, "a code was sent for a user without an identity")


PASSWORD_SERVICE = "sshd-pwtest"
PASSWORDS = {"alice": "alice-unix-password-e2e", "bob": "bob-unix-password-e2e"}
PASSWORD_LOGINS = 6  # more than sends_per_identifier (5) and failures_before_backoff (5) allow


def scenario_password(sandbox, sshd, standin, helper, args):
    """Debian's stock sshd (password authentication, keyboard-interactive off) with the package's profile
    enabled by pam-auth-update: common-auth runs the module before pam_unix, and sshd's password conversation
    answers every hidden prompt with the password. alice, with an identity and the single method email_otp,
    logs in with her password six times: each succeeds, no code is sent, and no failure is counted, so a
    code login through keyboard-interactive right after works without a wait. bob, without an identity, goes
    straight to his password (PAM_IGNORE, no walk). A name that is no local account is refused; nothing is
    sent for it either."""
    import login_stack
    check(args.profile and os.path.exists(args.profile), f"no pam-auth-update profile given ({args.profile})")
    login_stack.enable_profile(sandbox, args.module_path, args.profile)
    stock = Sshd(sandbox, args.module_path, service=PASSWORD_SERVICE, password=True,
                 auth_stack=["@include common-auth"])
    say(f"sshd ({PASSWORD_SERVICE}, password only) on 127.0.0.1:{stock.port}")

    for i in range(1, PASSWORD_LOGINS + 1):
        ok, session = paramiko_password_login(stock, USER, PASSWORDS[USER])
        check(ok, f"password login {i} of {USER} was refused")
        status, output = session
        check(status == 0 and output.split()[-1] == USER, f"password login {i}: no session as {USER}: {output!r}")
        check(not standin.outbox(), f"password login {i} of {USER} sent a code: {standin.outbox()!r}")
    ok, _ = paramiko_password_login(stock, USER, "not-her-password")
    check(not ok, "a wrong password was accepted")
    check(not standin.outbox(), "a wrong password login sent a code")

    ok, session = paramiko_password_login(stock, "bob", PASSWORDS["bob"])
    check(ok and session[1].split()[-1] == "bob", "bob's password login failed")
    bob_lines = [line for line in helper.log().splitlines() if 'user="bob"' in line and "outcome=" in line]
    show("the helper's lines for bob", "\n".join(bob_lines))
    check(bob_lines and all("outcome=ignore" in line for line in bob_lines),
          "bob (no identity) must be let through to his password at once (outcome=ignore)")

    ok, _ = paramiko_password_login(stock, "nosuchuser", "whatever-password")
    check(not ok, "a name that is no local account was let in")
    check(not standin.outbox(), "a code was sent during a password login")

    # The same user, now by code through keyboard-interactive: no backoff, no send limit reached.
    ok, requests, session = paramiko_login(sshd, code_answerer(standin, wrong=False))
    show("paramiko: the code login after the password logins", describe_requests(requests))
    check(ok, f"the code login of {USER} after {PASSWORD_LOGINS} password logins was refused")
    prompts = [p for _, ps in requests for p in ps]
    check(prompts and prompts[0][0].strip() == OFFER and prompts[0][1] is True,
          f"one method: the first prompt offers the code, echoed ({OFFER!r}), got {prompts[:1]!r}")
    check(session[0] == 0 and session[1].split()[-1] == USER, f"the code login ran no session as {USER}")
    check(len(standin.outbox()) == 1, "exactly one code is sent, for the code login")


def planted_credential():
    """A store record (v1) for alice on the configured relying party: a fresh P-256 public key and a random
    credential id. No key holds it; only what the helper offers is under test."""
    import base64
    from cryptography.hazmat.primitives.asymmetric import ec
    numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()

    def b64url(raw):
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
    point = numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big")
    return "\t".join(["v1", b64url(os.urandom(32)), "-7", b64url(point), KEY_RP_ID, "1700000000", "0", "0", "0",
                      "desk key"]) + "\n"


def scenario_loopback_keys(sandbox, sshd, standin, helper, args):
    ok, requests, session = paramiko_login(sshd, code_answerer(standin, wrong=False))
    show("paramiko: what the server asked", describe_requests(requests))
    prompts = [p for _, ps in requests for p, _ in ps]
    check(prompts and "Choose how to sign in:" in prompts[0], f"expected the menu first, got {prompts!r}")
    check("Security key" not in prompts[0],
          f"a login through loopback (an SSH port forward) was offered the local key: {prompts[0]!r}")
    check(ok and session and session[0] == 0, "alice's emailed code did not log her in")
    check('rhost="127.0.0.1"' in helper.log() and "method=email_otp outcome=success" in helper.log(),
          "the helper did not log a code login from 127.0.0.1")


def scenario_recovery_never_remote(sandbox, sshd, standin, helper, args):
    made = subprocess.run([args.helper_bin, "recovery-codes", "--user", USER, "--count", "2", "--config",
                           helper.config_path], capture_output=True, text=True, timeout=60, check=False)
    codes = re.findall(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", made.stdout)
    check(made.returncode == 0 and len(codes) == 2, f"recovery-codes did not make 2 codes: {made.stderr}")
    standin.control({"fault": "http_500"})
    # Whatever the server asks, the client answers with a valid recovery code of alice's.
    ok, requests, _ = paramiko_login(sshd, lambda prompt: codes[0])
    show("paramiko: what the server asked", describe_requests(requests))
    shown = "\n".join([i for i, _ in requests] + [p for _, ps in requests for p, _ in ps])
    check(not ok, "a login over SSH got in with a recovery code")
    check("Recovery code" not in shown, "sshd was offered the recovery-code prompt")
    check(UNAVAILABLE in shown, f"the person is not told '{UNAVAILABLE}'")
    check("outcome=authinfo_unavail" in helper.log(), "the helper should log outcome=authinfo_unavail")
    left = subprocess.run([args.helper_bin, "recovery-codes", "--left", "--user", USER, "--config",
                           helper.config_path], capture_output=True, text=True, timeout=60, check=False)
    check(f"{USER}: 2 recovery code(s) left" in left.stdout, f"a code was used: {left.stdout}{left.stderr}")


POOL_DELAY_MS = 100  # the pool "far away": a decoy that skips a pause ends sooner than a real login


def audit_lines(helper):
    return [line for line in helper.log().splitlines() if " outcome=" in line]


def field(line, name):
    """A field of an audit line: outcome=maxtries, or reason="..." (quoted)."""
    rest = line.split(f" {name}=", 1)[1]
    return rest[1:].split('"', 1)[0] if rest.startswith('"') else rest.split()[0]


def ssh_end(err):
    """What ssh says last about the refusal, without the "user@host: " it starts with: its "Permission denied"
    line (which names the methods sshd still offers) and any disconnect reason."""
    return [line.split(": ", 1)[-1] for line in err.splitlines()
            if "Permission denied" in line or "disconnect" in line.lower()]


def masked_shape(text):
    """A masked destination's shape, as the organisation's users share it: the email domain's initial and the
    phone number's length stay, the person's own initial and last four digits go."""
    return re.sub(r"\d{4}\b", "dddd", re.sub(r"\b[a-z0-9]\*\*\*@", "?***@", text))


def walk_shape(requests):
    """shape() with the menu's text in its masked shape: which methods it lists, and to what kind of address."""
    out = []
    for instruction, prompts in requests:
        if instruction:
            out.append(("message", instruction.strip()))
        for prompt, echo in prompts:
            out.append((masked_shape(prompt), echo))
    return out


def ssh_prompt_kinds(asked):
    return [masked_shape(p.split(") ", 1)[-1]) for p in asked]


def decoy_walks(sandbox, sshd, standin, helper):
    """Alice typing wrong codes, then bob (no identity) and a name that is no local account, each once with
    paramiko and once with OpenSSH's ssh. Returns {user: (paramiko shape, [outcome, reason] per login, ssh
    prompt kinds, ssh's end)}."""
    standin.control({"delay_ms": POOL_DELAY_MS})
    seen = {}
    for user in (USER, "bob", "nosuchuser"):
        before = len(audit_lines(helper))
        ok, requests, _ = paramiko_login(sshd, code_answerer(standin, wrong=True), user=user)
        check(not ok, f"{user} was let in with wrong codes")
        show(f"paramiko: {user}", describe_requests(requests))
        status, out, err, asked = openssh_login(sandbox, sshd, standin, "wrong", user=user)
        show(f"ssh: {user}: standard error", err)
        show(f"ssh: {user}: askpass prompts", "\n".join(repr(p) for p in asked))
        check(status == 255 and SESSION_MARK not in out, f"ssh let {user} in (exit {status})")
        e2e.wait_for(lambda: len(audit_lines(helper)) >= before + 2, f"the helper's audit lines for {user}")
        lines = audit_lines(helper)[before:before + 2]
        show(f"audit: {user}", "\n".join(lines))
        seen[user] = (walk_shape(requests), [(field(x, "outcome"), field(x, "reason")) for x in lines],
                      ssh_prompt_kinds(asked), ssh_end(err))
    return seen


def compare_decoys(seen, standin, sent_before):
    real_shape, real_audit, real_kinds, real_end = seen[USER]
    check(all(o == "maxtries" for o, _ in real_audit),
          f"alice failing codes should end PAM_MAXTRIES, the helper logged {real_audit}")
    check(TOO_MANY in "\n".join(str(x) for x in real_shape), f"alice is not told '{TOO_MANY}': {real_shape}")
    for user in ("bob", "nosuchuser"):
        shape_, audit_, kinds, end = seen[user]
        check(shape_ == real_shape, f"{user} sees other screens than alice:\n{shape_}\nversus\n{real_shape}")
        check([o for o, _ in audit_] == [o for o, _ in real_audit],
              f"{user} ends with another PAM code than alice: {audit_} versus {real_audit}")
        check(kinds == real_kinds, f"ssh asks {user} otherwise than alice: {kinds} versus {real_kinds}")
        check(end == real_end, f"ssh ends {user}'s login otherwise than alice's: {end} versus {real_end}")
        check(all(r != real_audit[0][1] for _, r in audit_), "the audit line no longer tells the decoy apart")
    check(len(standin.outbox()) == sent_before + 2, "a code was sent for a user without an identity")


def scenario_denied_users(sandbox, sshd, standin, helper, args):
    """sshd turns alice and bob away (DenyUsers) and still runs PAM for them, standing in its bad-password
    string for every answer (auth-pam.c): a login it refuses whatever PAM says, as root's is under the default
    PermitRootLogin. alice has an identity, bob none: no code is sent for either, and the two see the same
    screens and end with the same PAM code (session 29: alice's login sent a real code)."""
    seen = {}
    for user in (USER, "bob"):
        before = len(audit_lines(helper))
        ok, requests, _ = paramiko_login(sshd, code_answerer(standin, wrong=True), user=user)
        show(f"paramiko: {user}", describe_requests(requests))
        check(not ok, f"sshd let {user} in despite DenyUsers")
        e2e.wait_for(lambda: len(audit_lines(helper)) > before, f"the helper's audit line for {user}")
        lines = audit_lines(helper)[before:]
        show(f"audit: {user}", "\n".join(lines))
        seen[user] = (shape(requests), [field(x, "outcome") for x in lines])
    check(not standin.outbox(), f"a code was sent for a login sshd refuses: {standin.outbox()}")
    check(seen[USER] == seen["bob"], f"alice and bob are told apart:\n{seen[USER]}\nversus\n{seen['bob']}")
    check(seen[USER][1] == ["maxtries"], f"alice's login should end as the decoy's, PAM_MAXTRIES: {seen[USER][1]}")


def scenario_decoy_ending(sandbox, sshd, standin, helper, args):
    compare_decoys(decoy_walks(sandbox, sshd, standin, helper), standin, 0)


def scenario_decoy_pool_ends(sandbox, sshd, standin, helper, args):
    seen = decoy_walks(sandbox, sshd, standin, helper)
    check(all("ended the session" in r for _, r in seen[USER][1]),
          f"the pool did not end alice's session itself: {seen[USER][1]}")
    compare_decoys(seen, standin, 0)


def scenario_ceiling_walks(sandbox, sshd, standin, helper, args):
    """Review 30b (issue #10 items 1 and 2): a name that is no local account never gets a code, but its walk
    counted one on the machine's hourly ceiling. A client that knows no account walks made-up names through
    sshd (which stands in for every answer of an invalid user) until the ceiling is reached, and every real
    code on the machine is then refused for the hour, though not one was sent."""
    sent_before = len(standin.outbox())
    for i in range(4):
        ok, requests, _ = paramiko_login(sshd, code_answerer(standin, wrong=True), user=f"ghost{i}")
        check(not ok, f"ghost{i} was let in")
    check(len(standin.outbox()) == sent_before, "a code was sent for a name that is no local account")
    ok, requests, session = paramiko_login(sshd, code_answerer(standin, wrong=False))
    show("alice after four walks of names that are nobody's", describe_requests(requests))
    shown = "\n".join([i for i, _ in requests] + [p for _, ps in requests for p, _ in ps])
    check("Too many codes have been sent from this machine" not in shown,
          "walks of names that are no local account, which sent nothing, spent the machine's ceiling: "
          "alice was refused her code")
    check(ok, "alice's login was refused after walks of names that are nobody's (nothing was sent)")


SCENARIOS = {"happy": scenario_happy, "wrong-code": scenario_wrong_code, "service-down": scenario_service_down,
             "unknown-users": scenario_unknown_users, "loopback-keys": scenario_loopback_keys,
             "denied-users": scenario_denied_users,
             "password": scenario_password, "decoy-ending": scenario_decoy_ending,
             "decoy-pool-ends": scenario_decoy_pool_ends,
             "recovery-never-remote": scenario_recovery_never_remote,
             "ceiling-walks": scenario_ceiling_walks}
# Pools with settings of their own: one that ends a session after two wrong codes (the helper allows three).
POOL_OVERRIDES = {"decoy-pool-ends": {"max_code_attempts": 2}}


def main():
    args = e2e.enter_namespace(parse_args)
    build = os.path.abspath(args.build_dir)
    module = os.path.abspath(args.module or os.path.join(build, "pam_passwordless", "pam_passwordless.so"))
    helper_bin = os.path.abspath(args.helper or os.path.join(build, "helper", "pam-passwordless-helper"))
    args.module_path = module
    args.helper_bin = helper_bin
    sandbox = e2e.Sandbox(args.work_dir)
    state = {}

    def body():
        check(importlib.util.find_spec("paramiko") is not None,
              "python3-paramiko is missing (scripts/install-deps.sh installs it)")
        sandbox.standard()
        for name in (USER, "bob"):
            sandbox.add_user(name, e2e.Sandbox.password_hash(PASSWORDS[name]))
        state["standin"] = standin = e2e.StandIn(sandbox, POOL_OVERRIDES.get(args.scenario))

        def config(helper_dir):
            e2e.write(os.path.join(helper_dir, "identities"), f"{USER} {EMAIL}\n{USER} {PHONE}\n", 0o600)
            methods, keys = "email_otp sms_otp", []
            if args.scenario == "password":
                # The password scenario takes the single-method path: the one that sent a code at once.
                methods = "email_otp"
            if args.scenario == "loopback-keys":
                store = e2e.fresh_dir(os.path.join(helper_dir, "credentials"), 0o700)
                e2e.write(os.path.join(store, USER), planted_credential(), 0o600)
                methods = "security_key email_otp sms_otp"
                keys = ["[security_key]", f"rp_id = {KEY_RP_ID}", f"store_dir = {store}"]
            if args.scenario == "ceiling-walks":
                keys = ["[limits]", "sends_per_hour = 3"]
            if args.scenario == "recovery-never-remote":
                # The strongest case: loopback counts as local for keys, and still never for a code.
                keys = ["[recovery]", f"store_dir = {helper_dir}/recovery"]
                methods += "\nloopback_is_local = yes"
            return standin.pool_section(helper_dir) + "\n".join([
                "[login]", f"methods = {methods}", f"max_tries = {MAX_TRIES}", "request_timeout = 5",
                "[binding]", f"mapping_file = {helper_dir}/identities"] + keys + [""])

        state["helper"] = helper = e2e.Helper(sandbox, helper_bin, config)
        state["sshd"] = sshd = Sshd(sandbox, module, extra=[f"DenyUsers {USER} bob"]
                                    if args.scenario == "denied-users" else ())
        say(f"sshd ({SERVICE}) on 127.0.0.1:{sshd.port}, helper on {helper.socket}")
        SCENARIOS[args.scenario](sandbox, sshd, standin, helper, args)

    status = e2e.run_main(body)
    sandbox.stop_all()
    if status != 0:
        for name in ("helper", "sshd", "standin"):
            if name in state:
                show(f"{name} log", state[name].log())
    return status


if __name__ == "__main__":
    raise SystemExit(main())
