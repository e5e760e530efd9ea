#!/usr/bin/python3
"""Sign in with your browser, end to end: a real sshd (keyboard-interactive, the built module and helper), a
real OpenSSH `ssh` on a pseudo-terminal (what a person sees and types), the Cognito stand-in with managed login,
and a real headless Chromium (DevTools over a pipe, a virtual authenticator holding alice's passkey).

    test_sshd_login.py --build-dir BUILD --work-dir DIR [--module SO] [--helper BIN]

The flow: ssh shows the menu, the test chooses "Sign in with your browser", reads the short link from the
terminal (the callback page with a #fragment), opens it in Chromium, where the page (the launcher) sends the
browser to the stand-in's login page with the pool.json beside it, signs in there with the passkey, reads the
code from the callback page and types it into ssh; the remote command runs. Then the refusals through the same
path: a code from another ssh login's link, a code used a second time, a code typed after the link expired, a
short link whose PKCE challenge was changed on the way to the browser, and the pool's token endpoint gone
between the browser's sign-in and the code typed (the unavailable ending). Screenshots of the pages and of the
terminal at each step land in DIR/screenshots.

Runs as root in a throwaway mount and PID namespace (tests/e2e/e2e_support.py). Exit 77 (skipped) when
Chromium is absent (scripts/install-deps.sh installs it) or, as every e2e test, when not root.
"""

import argparse
import base64
import json
import os
import re
import secrets
import socket
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import cdp  # noqa: E402
import e2e_support as e2e  # noqa: E402
import terminal  # noqa: E402
from e2e_support import check, say, show  # noqa: E402

USER = "alice"
OTHER_USER = "bob"
EMAIL = "alice@example.com"
PHONE = "+15555550123"
BROWSER_CLIENT = "pambrowser0public"
SESSION_MARK = "browser-session-ran"
MAX_TRIES = 3
LOGIN_TIMEOUT_S = 120
SHORT_LOGIN_TIMEOUT_S = 10  # the least the helper accepts

# What the person sees (common brief, contracts 5 and 6; helper/person_texts.hpp).
MENU_ENTRY = "Sign in with your browser"
LINK_TEXT = "Open this link on your phone or computer and sign in."
CODE_PROMPT = "Code from the browser: "
NOT_VALID = "That code is not valid for this sign-in."
EXPIRED = "The sign-in link has expired."
TIMED_OUT = "Sign-in timed out."
UNAVAILABLE = "The sign-in service cannot be reached; try again later."
REFUSED = "Permission denied"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--module", help="pam_passwordless.so (default: BUILD/pam_passwordless/pam_passwordless.so)")
    ap.add_argument("--helper", help="the helper (default: BUILD/helper/pam-passwordless-helper)")
    return ap.parse_args()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Passkey:
    """Alice's passkey, registered before the test: the public key in the pool file, the private key put into
    each page's virtual authenticator."""

    def __init__(self):
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives import serialization
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(16)
        self.spki = self.key.public_key().public_bytes(serialization.Encoding.DER,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo)
        self.pkcs8 = self.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption())


def pool_sub(name) -> str:
    with open(e2e.POOL, encoding="utf-8") as f:
        return next(u["sub"] for u in json.load(f)["users"] if u["username"] == name)


def pool_overrides(passkeys: dict) -> dict:
    """The e2e test pool (tests/pam/test_pool.json) plus a public app client for managed login whose callback is
    the stand-in's callback page, passkeys for `localhost` (WebAuthn refuses IP origins), and the passkeys of
    `passkeys` ({pool user name: Passkey})."""
    with open(e2e.POOL, encoding="utf-8") as f:
        pool = json.load(f)
    users = []
    for user in pool["users"]:
        passkey = passkeys.get(user["username"])
        if passkey is not None:
            user = dict(user, passkeys=[{"credential_id": b64url(passkey.credential_id),
                                         "public_key_spki": b64url(passkey.spki)}])
        users.append(user)
    clients = pool["clients"] + [{
        "client_id": BROWSER_CLIENT, "client_secret": None,
        "oauth": {"allowed_oauth_flows_user_pool_client": True, "allowed_oauth_flows": ["code"],
                  "allowed_oauth_scopes": ["openid", "email", "phone"], "callback_urls": ["{callback_page}"],
                  "supported_identity_providers": ["COGNITO"]}}]
    return {"clients": clients, "users": users,
            "webauthn": {"relying_party_id": "localhost", "user_verification": "required"}}


def helper_config(standin, login_timeout):
    def config(helper_dir):
        e2e.write(os.path.join(helper_dir, "identities"), f"{USER} {EMAIL}\n{USER} {PHONE}\n", 0o600)
        login = urllib.parse.urlsplit(standin.info["login_url"])
        return standin.pool_section(helper_dir) + "\n".join([
            "[browser]",
            f"domain = {login.netloc}",
            f"client_id = {BROWSER_CLIENT}",
            f"redirect_uri = {standin.info['callback_page']}",
            "[login]", "methods = email_otp browser", f"max_tries = {MAX_TRIES}", "request_timeout = 5",
            f"login_timeout = {login_timeout}",
            "[binding]", f"mapping_file = {helper_dir}/identities",
            # The refusals here are one user's failed logins in a row: no back-off between them (the limits
            # have tests of their own).
            "[limits]", f"state_file = {helper_dir}/limits", "failures_before_backoff = 100", ""])
    return config


class Run:
    """Everything one run holds: the sandbox, stand-in, helper, sshd, browser, and the screenshots taken."""

    def __init__(self, args):
        self.args = args
        self.sandbox = e2e.Sandbox(args.work_dir)
        self.shots = e2e.fresh_dir(os.path.join(self.sandbox.work, "screenshots"))
        self.shot_count = 0
        self.helper = self.sshd = self.standin = self.browser = None
        self.terminals = []
        self.helper_logs = []

    # ---- setup ---------------------------------------------------------------------------------------------

    def start(self):
        import sshd_login
        self.sandbox.standard()
        self.sandbox.add_user(USER)
        # Alice's passkey, and bob's (a pool user who is not this account).
        self.passkeys = {USER: Passkey(), OTHER_USER: Passkey()}
        self.standin = e2e.StandIn(self.sandbox, pool_overrides(self.passkeys))
        # The launcher's pool.json beside the callback page, as an admin writes it (served as /cb/pool.json).
        e2e.write(os.path.join(self.standin.dir, "callback-pool.json"), json.dumps({
            "domain": urllib.parse.urlsplit(self.standin.info["login_url"]).netloc, "client_id": BROWSER_CLIENT,
            "scopes": ["openid", "email", "phone"]}), 0o644)
        self.start_helper(LOGIN_TIMEOUT_S)
        self.sshd = sshd_login.Sshd(self.sandbox, self.args.module_path)
        say(f"sshd on 127.0.0.1:{self.sshd.port}, helper on {self.helper.socket}, "
            f"managed login at {self.standin.info['login_url']}, callback page {self.standin.info['callback_page']}")
        self.browser = cdp.Browser(os.path.join(self.sandbox.work, "chromium-profile"),
                                   trusted_spki=[cdp.spki_hash(os.path.join(self.standin.dir, "server.pem"))])
        say(f"chromium: {self.browser.version['product']}, started in {self.browser.start_seconds:.2f} s")

    def start_helper(self, login_timeout):
        """(Re)starts the helper with `login_timeout`; a previous helper's log is kept."""
        if self.helper is not None:
            self.helper.proc.terminate()
            self.helper.proc.wait(timeout=15)
            self.helper_logs.append(self.helper.log())
            os.rename(self.helper.dir, f"{self.helper.dir}-{len(self.helper_logs)}")
        self.helper = e2e.Helper(self.sandbox, self.args.helper_bin, helper_config(self.standin, login_timeout))

    def close(self):
        for term in self.terminals:
            term.close()
        if self.browser is not None:
            self.browser.close()

    def helper_log(self):
        return "".join(self.helper_logs) + (self.helper.log() if self.helper else "")

    # ---- screenshots ---------------------------------------------------------------------------------------

    def _name(self, label):
        self.shot_count += 1
        return os.path.join(self.shots, f"{self.shot_count:02d}-{label}.png")

    def shoot_page(self, page, label):
        page.screenshot(self._name(label), width=540)

    def shoot_terminal(self, term, label, title):
        path = self._name(label)
        page_file = path[:-4] + ".html"
        e2e.write(page_file, terminal.render_html(title, term.screen()))
        page = self.browser.new_page()
        try:
            page.navigate("file://" + page_file)
            page.wait_for("document.readyState === 'complete'", what="the terminal page")
            page.screenshot(path, width=960)
        finally:
            page.close()

    # ---- ssh -----------------------------------------------------------------------------------------------

    def ssh(self, name) -> terminal.Terminal:
        client = e2e.fresh_dir(os.path.join(self.sandbox.work, f"ssh-{name}"))
        known_hosts = os.path.join(client, "known_hosts")
        e2e.write(known_hosts, f"[127.0.0.1]:{self.sshd.port} ssh-ed25519 {self.sshd.host_public}\n")
        env = {"PATH": e2e.CLEAN_PATH, "HOME": client, "LANG": "C.UTF-8", "TERM": "xterm"}
        argv = ["ssh", "-F", "/dev/null", "-p", str(self.sshd.port),
                "-o", f"UserKnownHostsFile={known_hosts}", "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", "StrictHostKeyChecking=yes", "-o", "PreferredAuthentications=keyboard-interactive",
                "-o", "NumberOfPasswordPrompts=1", "-o", "ConnectTimeout=30", "-o", "LogLevel=INFO",
                f"{USER}@127.0.0.1", f"echo {SESSION_MARK}; id -un"]
        term = terminal.Terminal(argv, env, cols=100, rows=60, timeout=60)
        self.terminals.append(term)
        return term

    def choose_browser(self, term, at_menu=None) -> str:
        """Waits for the menu (calls at_menu() then, when given), chooses the browser, and returns the link shown
        before the code prompt."""
        menu = term.expect(r"Choice \[1-(\d)\]:")
        if at_menu:
            at_menu()
        entry = re.search(r"(\d)\) " + re.escape(MENU_ENTRY), term.screen()[:menu.end()])
        check(entry is not None, f"the menu has no '{MENU_ENTRY}':\n{term.screen()}")
        term.send(entry.group(1))
        link, refused = self.code_prompt(term)
        check(link is not None and not refused, f"no link before the first code prompt:\n{term.screen()}")
        return link

    @staticmethod
    def code_prompt(term):
        """Waits for the next code prompt. Returns (the link shown since the last prompt or None, whether the
        person was told the last code was not valid). A link screen is the text, a blank line, the URL on a line
        of its own (then the QR code)."""
        start = term.pos
        term.expect(re.escape(CODE_PROMPT.strip()))
        shown = term.screen()[start:term.pos]
        link = re.search(re.escape(LINK_TEXT) + r"[^\n]*\n\n(https://\S+)\n", shown)
        return (link.group(1) if link else None), NOT_VALID in shown

    # ---- the browser ---------------------------------------------------------------------------------------

    def stored_sign_count(self, user) -> int:
        """The stand-in's signature counter of the user's passkey: a fresh virtual authenticator holding the same
        key continues from it (a lower counter is refused as a possible clone)."""
        with open(os.path.join(self.standin.dir, "passkeys.json"), encoding="utf-8") as f:
            entries = json.load(f)["users"][user]
        passkey = self.passkeys[user]
        return next(e["sign_count"] for e in entries if e["credential_id"] == b64url(passkey.credential_id))

    def new_page(self):
        """A page in a fresh browser context whose virtual authenticator holds alice's and bob's passkeys."""
        page = self.browser.new_page()
        authenticator = page.add_virtual_authenticator()
        for name, passkey in self.passkeys.items():
            page.add_credential(authenticator, passkey.credential_id, "localhost", passkey.pkcs8,
                                pool_sub(name).encode(), sign_count=self.stored_sign_count(name))
        return page

    def sign_in(self, link, label=None, as_user=USER, page=None, fresh=True) -> dict:
        """Opens `link` (in a fresh browser context unless `page` is given), signs in as `as_user` with their
        passkey, and returns what the callback page shows. With `label`, screenshots of the login and callback
        pages. fresh=False: the page's live session answers at once, no login page is expected."""
        own_page = page is None
        page = page or self.new_page()
        try:
            page.navigate(link)
            login = self.standin.info["login_url"]
            if fresh:
                page.wait_for(f"location.href.startsWith({json.dumps(login + '/login?')}) && "
                              "document.readyState === 'complete' && !!document.getElementById('passkey')",
                              what="the managed-login page")
                page.evaluate(f"document.getElementById('username').value = {json.dumps(as_user)}")
                if label:
                    self.shoot_page(page, f"{label}-login-page")
                page.evaluate("document.getElementById('passkey').click()")
            shown = page.wait_for(
                f"location.href.startsWith({json.dumps(self.standin.info['callback_page'])}) && "
                "document.readyState === 'complete' && !document.getElementById('success').hidden && "
                "({code: document.getElementById('code').textContent,"
                " host: document.getElementById('host').textContent,"
                " account: document.getElementById('account').textContent,"
                " warning: document.getElementById('warning').textContent})", what="the callback page's code")
            if label:
                self.shoot_page(page, f"{label}-callback-page")
            return shown
        finally:
            if own_page:
                page.close()

    # ---- endings -------------------------------------------------------------------------------------------

    def expect_success(self, term, what):
        term.expect(SESSION_MARK)
        term.expect(r"\n" + USER + r"\s")
        status = term.wait()
        check(status == 0, f"{what}: ssh exited with {status}:\n{term.screen()}")

    def expect_refused(self, term, what, message):
        status = term.wait()
        screen = term.screen()
        check(status == 255, f"{what}: ssh exited with {status}, expected 255:\n{screen}")
        check(SESSION_MARK not in screen, f"{what}: a session ran:\n{screen}")
        check(REFUSED in screen, f"{what}: ssh does not say the login was refused:\n{screen}")
        if message:
            check(message in screen, f"{what}: the person is not told '{message}':\n{screen}")

    def outcomes(self):
        return re.findall(r"outcome=(\w+)", self.helper_log())


# ---- the cases --------------------------------------------------------------------------------------------


def case_sign_in(run):
    """The whole flow, with a screenshot at each step."""
    term = run.ssh("sign-in")
    link = run.choose_browser(term, lambda: run.shoot_terminal(term, "terminal-menu", "ssh alice@server: the menu"))
    run.shoot_terminal(term, "terminal-link", "ssh alice@server: the link, its QR code and the prompt")
    # The short link: the callback page and "#1.<challenge>.<exp>.<user>.<host>", nothing naming the pool or
    # the client (the page reads those from its pool.json).
    check(link.startswith(run.standin.info["callback_page"] + "#1."), f"the link is {link!r}")
    check(BROWSER_CLIENT not in link and "oauth2" not in link, f"the link names the pool or client: {link!r}")
    fields = urllib.parse.urlsplit(link).fragment.split(".")
    check(len(fields) == 5 and b64url_decode(fields[3]).decode() == USER
          and b64url_decode(fields[4]).decode() == socket.gethostname(), f"the fragment is {fields}")
    # The QR code: rows of half blocks right below the URL; for a host name of up to 20 characters, a QR code
    # of version 6 (45 columns with its quiet zone, 23 lines).
    rows = re.findall(r"\n( *[█▀▄][█▀▄ ]{20,})(?=\n)", term.screen())
    check(rows, "no QR code on the terminal")
    if len(socket.gethostname()) <= 20:
        check(len(link) <= 134 and len(rows) <= 23, f"the link has {len(link)} bytes, its QR code {len(rows)} lines")
    shown = run.sign_in(link, "sign-in")
    check(shown["account"] == USER and shown["host"] == socket.gethostname(),
          f"the page names {shown['account']!r} on {shown['host']!r}, not {USER} on {socket.gethostname()}")
    check("Do not give this code to anyone" in shown["warning"], "the page does not warn")
    term.send(shown["code"])
    run.expect_success(term, "sign-in")
    run.shoot_terminal(term, "terminal-signed-in", "ssh alice@server: signed in, the command ran")
    check(run.outcomes()[-1:] == ["success"], f"the helper logged {run.outcomes()}")
    return shown["code"]


def case_code_of_another_login(run):
    """A code from another ssh login's link is a wrong answer (the person is told, and gets a new link); the
    login's own code then signs in."""
    first, second = run.ssh("own"), run.ssh("other")
    first_link = run.choose_browser(first)
    second_link = run.choose_browser(second)
    check(first_link != second_link, "two logins showed the same link")
    foreign = run.sign_in(second_link)["code"]
    first.send(foreign)
    link, refused = run.code_prompt(first)
    check(refused, f"a code of another login: the person is not told '{NOT_VALID}':\n{first.screen()}")
    run.shoot_terminal(first, "terminal-foreign-code", "ssh alice@server: a code of another login")
    own = run.sign_in(link or first_link)["code"]
    first.send(own)
    run.expect_success(first, "own code after a foreign one")
    check(run.outcomes()[-1:] == ["success"], f"the helper logged {run.outcomes()}")
    second.send("")
    run.expect_refused(second, "the other login, cancelled", None)


def refused_once(run, term, code, what, reason):
    """Types `code` and requires the answer: not valid, and the login goes on. Then cancels the login (an empty
    answer) and requires the helper's audit line to give `reason` for the refusal."""
    log_before = len(run.helper_log())
    term.send(code)
    _, refused = run.code_prompt(term)
    check(refused, f"{what}: the person is not told '{NOT_VALID}':\n{term.screen()}")
    # An empty answer cancels the login: ssh ends refused, the helper logs the refused answer.
    term.send("")
    run.expect_refused(term, what, None)
    e2e.wait_for(lambda: "outcome=" in run.helper_log()[log_before:], "the helper's audit line")
    logged = run.helper_log()[log_before:]
    check(reason in logged, f"{what}: the helper's audit line does not say {reason!r}:\n{logged}")


def case_code_used_twice(run, spent_code):
    """The code that signed in the first login, typed again at a new login: refused."""
    term = run.ssh("reuse")
    run.choose_browser(term)
    refused_once(run, term, spent_code, "a spent code", "invalid_grant")


def case_tampered_link(run):
    """The short link's PKCE challenge changed on its way to the browser: the page sends it as nonce and
    code_challenge, and the code it yields does not redeem with the login's verifier."""
    term = run.ssh("tampered-challenge")
    link = run.choose_browser(term)
    page, fragment = link.split("#", 1)
    fields = fragment.split(".")
    fields[1] = b64url(secrets.token_bytes(32))
    changed = page + "#" + ".".join(fields)
    check(changed != link, "the link did not change")
    refused_once(run, term, run.sign_in(changed)["code"], "a short link with its challenge changed", "invalid_grant")


def authorize_without_prompt(run, link):
    """The authorize request a short link's page would make, less prompt=login (a phishing page's or a stale
    bookmark's), built here from the fragment and the pool.json the page reads."""
    fields = urllib.parse.urlsplit(link).fragment.split(".")
    state = "1" + b64url(fields[2].encode() + b"\n" + b64url_decode(fields[3]) + b"\n" + b64url_decode(fields[4]))
    params = {"response_type": "code", "client_id": BROWSER_CLIENT, "redirect_uri": run.standin.info["callback_page"],
              "scope": "openid email phone", "state": state, "nonce": fields[1], "code_challenge": fields[1],
              "code_challenge_method": "S256"}
    return run.standin.info["login_url"] + "/oauth2/authorize?" + urllib.parse.urlencode(params)


def case_token_of_another_user(run):
    """Bob signs in at the page of alice's link: his token does not bind to alice."""
    term = run.ssh("other-user")
    link = run.choose_browser(term)
    shown = run.sign_in(link, as_user=OTHER_USER)
    check(shown["account"] == USER, f"the page names {shown['account']!r}")
    refused_once(run, term, shown["code"], "a code of bob's sign-in",
                 f"identity sub={pool_sub(OTHER_USER)} is not bound to this user")


def case_stale_session(run):
    """A link without prompt=login in a browser with a live managed-login session: the pool answers with a code
    at once, and that sign-in is older than the login; refused."""
    page = run.new_page()
    try:
        first = run.ssh("session-first")
        first.send(run.sign_in(run.choose_browser(first), page=page)["code"])
        signed_in = int(time.time())  # the session's auth_time is at most this
        run.expect_success(first, "the first sign-in of the session")
        # The next login starts in a later second than that sign-in (auth_time has whole seconds).
        e2e.wait_for(lambda: int(time.time()) > signed_in, "the next second")
        term = run.ssh("session-stale")
        link = run.choose_browser(term)
        stale = run.sign_in(authorize_without_prompt(run, link), page=page, fresh=False)
    finally:
        page.close()
    refused_once(run, term, stale["code"], "a code from a live session without a fresh sign-in",
                 "the ID token's sign-in is older than this sign-in attempt")


def case_pool_down_mid_way(run):
    """The browser has signed in and read the code; then the pool's token endpoint stops answering (the
    stand-in's fault switch drops every connection to it): the code typed at ssh ends the login as the pool's
    outage does, not as a wrong code (BrowserLogin.PoolDownMidWayEndsUnavailable through the module)."""
    term = run.ssh("pool-down")
    link = run.choose_browser(term)
    shown = run.sign_in(link, "pool-down")
    log_before = len(run.helper_log())
    run.standin.control({"fault": "drop", "ops": ["OAuth2Token"]})
    try:
        term.send(shown["code"])
        run.expect_refused(term, "the pool down mid-way", UNAVAILABLE)
    finally:
        run.standin.control({})
    run.shoot_terminal(term, "terminal-pool-down", "ssh alice@server: the user pool went down before the code came")
    screen = term.screen()
    check(NOT_VALID not in screen[screen.rfind(CODE_PROMPT.strip()):],
          f"the pool down mid-way: the person is told the code is not valid:\n{screen}")
    e2e.wait_for(lambda: "outcome=" in run.helper_log()[log_before:], "the helper's audit line")
    logged = run.helper_log()[log_before:]
    check("method=browser outcome=authinfo_unavail" in logged,
          f"the pool down mid-way: the helper does not log the outage ending:\n{logged}")
    requests = os.path.join(run.standin.dir, "requests.jsonl")
    check("managed-login /oauth2/token" in e2e.read(requests), "the helper did not try the token endpoint")


def case_expired(run):
    """A code typed after the link expired (login_timeout): refused, and the person is told."""
    run.start_helper(SHORT_LOGIN_TIMEOUT_S)
    term = run.ssh("expired")
    link = run.choose_browser(term)
    exp = int(urllib.parse.urlsplit(link).fragment.split(".")[2], 36)
    code = run.sign_in(link)["code"]
    # Wait (bounded) until the link's end (whole seconds) has passed by this clock, then type the code.
    e2e.wait_for(lambda: time.time() >= exp + 0.05, "the link's expiry", limit=SHORT_LOGIN_TIMEOUT_S + 30)
    term.send(code)
    run.expect_refused(term, "expired link", None)
    # The link's end is the login's (login_timeout): typed within its last second the helper finds the link
    # expired; typed later it has stopped waiting for the answer at the login's end ("Sign-in timed out.").
    # Either way the late code is never redeemed.
    screen = term.screen()
    told = [text for text in (EXPIRED, TIMED_OUT) if text in screen]
    check(len(told) == 1, f"the person is told neither '{EXPIRED}' nor '{TIMED_OUT}':\n{screen}")
    reason = "browser sign-in link expired" if told[0] == EXPIRED else "no answer before the login timeout"
    check(re.search(r"outcome=auth_err reason=\"" + re.escape(reason), run.helper_log()) is not None,
          f"the helper does not log '{reason}'")
    run.shoot_terminal(term, "terminal-expired", "ssh alice@server: the code came after the link expired")


def main():
    args = parse_args()
    try:
        cdp.chromium_path()
    except cdp.CdpError as e:
        print(f"SKIP: {e}")
        return 77
    args = e2e.enter_namespace(lambda: args)
    build = os.path.abspath(args.build_dir)
    args.module_path = os.path.abspath(args.module or os.path.join(build, "pam_passwordless", "pam_passwordless.so"))
    args.helper_bin = os.path.abspath(args.helper or os.path.join(build, "helper", "pam-passwordless-helper"))
    run = Run(args)

    def body():
        try:
            cases()
        except terminal.TerminalError as e:  # what the terminal showed instead: a failure, not a crash
            raise e2e.Failure(str(e)) from None

    def cases():
        run.start()
        spent = case_sign_in(run)
        case_code_of_another_login(run)
        case_code_used_twice(run, spent)
        case_tampered_link(run)
        case_token_of_another_user(run)
        case_stale_session(run)
        case_pool_down_mid_way(run)
        case_expired(run)
        outcomes = run.outcomes()
        show("helper outcomes", " ".join(outcomes))

    status = e2e.run_main(body)
    run.close()
    run.sandbox.stop_all()
    if status != 0:
        for term in run.terminals:
            show("terminal", term.screen())
        show("helper log", run.helper_log())
        if run.sshd:
            show("sshd log", run.sshd.log())
        if run.standin:
            show("stand-in log", run.standin.log())
    say(f"screenshots: {run.shots}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
