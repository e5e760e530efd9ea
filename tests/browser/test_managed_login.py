#!/usr/bin/python3
"""Managed login of the Cognito stand-in and the callback page, through a real headless Chromium (CDP over
--remote-debugging-pipe, a WebAuthn virtual authenticator for the passkey). One browser for the whole file, a
fresh browser context per case.

  test_managed_login.py --work-dir DIR [unittest arguments]

Spec: specs/cognito-managed-login.md (§3 authorize, §4 session cookie and prompt, §6 token, §7 ID token, §9 PKCE).
"""

import argparse
import base64
import hashlib
import http.client
import json
import os
import secrets
import signal
import ssl
import subprocess
import sys
import time
import unittest
import urllib.parse

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import cdp  # noqa: E402
from cryptography.exceptions import InvalidSignature  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa  # noqa: E402

PYTHON = "/usr/bin/python3"
STANDIN = os.path.join(HERE, "..", "cognito_standin", "cognito_standin.py")
READY_TIMEOUT = 30
WORK_DIR = None  # set from --work-dir

PUBLIC = "pamclient0public"
OTHER = "otherclient0public"
SECRET = "secretclient0oauth"
SECRET_VALUE = "s3cr3texamplevalue0123456789abcd"
ALICE_SUB = "d3f1a0b2-4c5e-4f60-8a91-b2c3d4e5f607"
ALICE_EMAIL = "alice@example.com"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def write_atomically(path: str, text: str):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _die_with_parent():
    import ctypes
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def oauth(callback="{callback_page}"):
    return {"allowed_oauth_flows_user_pool_client": True, "allowed_oauth_flows": ["code"],
            "allowed_oauth_scopes": ["openid", "email"], "callback_urls": [callback],
            "supported_identity_providers": ["COGNITO"]}


class Pkce:
    def __init__(self):
        self.verifier = b64url(secrets.token_bytes(48))  # 64 characters of [A-Za-z0-9_-]
        self.challenge = b64url(hashlib.sha256(self.verifier.encode()).digest())


def base36(value: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        value, digit = divmod(value, 36)
        out = digits[digit] + out
        if value == 0:
            return out


def make_state(host: str, user: str, exp: int) -> str:
    """The state format of callback/README.md: "1" + base64url("<exp base36>\n<user>\n<host>")."""
    return "1" + b64url(f"{base36(exp)}\n{user}\n{host}".encode())


def short_link(challenge: str, host: str, user: str, exp: int) -> str:
    """The short link of callback/README.md: the page + "#1.<challenge>.<exp base36>.<user>.<host>"."""
    return (f"{ENV.callback}#1.{challenge}.{base36(exp)}.{b64url(user.encode())}.{b64url(host.encode())}")


class Env:
    """The stand-in (with its callback origin) and the browser, shared by every case."""

    def __init__(self):
        self.dir = os.path.join(WORK_DIR, "managed-login")
        os.makedirs(self.dir, exist_ok=True)
        self.state = os.path.join(self.dir, "state")
        os.makedirs(self.state, exist_ok=True)
        # Alice's passkey: the private key goes into the browser's virtual authenticator, the public key into
        # the pool file, as if she had registered it earlier.
        self.passkey_key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(16)
        spki = self.passkey_key.public_key().public_bytes(serialization.Encoding.DER,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo)
        pool = {
            "pool_id": "us-east-1_BrowserPool",
            "clients": [
                {"client_id": PUBLIC, "oauth": oauth()},
                {"client_id": OTHER, "oauth": oauth()},
                {"client_id": SECRET, "client_secret": SECRET_VALUE, "oauth": oauth()},
            ],
            "webauthn": {"relying_party_id": "localhost", "user_verification": "required"},
            "users": [{"username": "alice", "sub": ALICE_SUB, "email": ALICE_EMAIL, "email_verified": True,
                       "passkeys": [{"credential_id": b64url(self.credential_id),
                                     "public_key_spki": b64url(spki)}]}],
        }
        pool_path = os.path.join(self.dir, "pool.json")
        write_atomically(pool_path, json.dumps(pool))
        write_atomically(os.path.join(self.state, "control.json"), "")
        self.stderr = open(os.path.join(self.dir, "standin.log"), "w")
        self.standin = subprocess.Popen([PYTHON, STANDIN, "serve", "--state-dir", self.state, "--pool", pool_path],
                                        stdin=subprocess.DEVNULL, stdout=self.stderr, stderr=self.stderr,
                                        preexec_fn=_die_with_parent)
        self.ready = self._wait_ready()
        self.tls = ssl.create_default_context(cafile=self.ready["ca_file"])
        self.login = self.ready["login_url"]
        self.callback = self.ready["callback_page"]
        self.browser = cdp.Browser(os.path.join(self.dir, "chromium-profile"),
                                   trusted_spki=[cdp.spki_hash(os.path.join(self.state, "server.pem"))])
        print(f"chromium start: {self.browser.start_seconds:.2f} s ({self.browser.version['product']})",
              file=sys.stderr)

    def _wait_ready(self) -> dict:
        deadline = time.monotonic() + READY_TIMEOUT
        path = os.path.join(self.state, "ready.json")
        while time.monotonic() < deadline:
            if self.standin.poll() is not None:
                raise RuntimeError(f"stand-in exited with {self.standin.returncode}; see {self.stderr.name}")
            try:
                with open(path) as f:
                    ready = json.load(f)
                if ready.get("pid") == self.standin.pid:
                    return ready
            except (FileNotFoundError, ValueError):
                pass
            time.sleep(0.02)  # polling interval, bounded by the deadline above
        raise RuntimeError("stand-in not ready")

    def close(self):
        self.browser.close()
        self.standin.send_signal(signal.SIGTERM)
        try:
            self.standin.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.standin.kill()
            self.standin.wait()
        self.stderr.close()

    def control(self, value: dict):
        write_atomically(os.path.join(self.state, "control.json"), json.dumps(value) if value else "")

    def stored_sign_count(self) -> int:
        """The stand-in's signature counter of alice's passkey: a fresh virtual authenticator holding the same
        key continues from it (a lower counter is refused as a possible clone)."""
        with open(os.path.join(self.state, "passkeys.json")) as f:
            entries = json.load(f)["users"]["alice"]
        return next(e["sign_count"] for e in entries if e["credential_id"] == b64url(self.credential_id))

    def latest_code(self, destination: str) -> str:
        code = None
        with open(os.path.join(self.state, "outbox.jsonl")) as f:
            for line in f:
                record = json.loads(line)
                if record["destination"] == destination:
                    code = record["code"]
        return code

    def request(self, method: str, path: str, body: bytes = None, headers=None):
        connection = http.client.HTTPSConnection("127.0.0.1", self.ready["port"], context=self.tls, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def token(self, form: dict, headers=None):
        status, response_headers, body = self.request(
            "POST", "/oauth2/token", urllib.parse.urlencode(form).encode(),
            {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
        return status, response_headers, json.loads(body)

    def jwks(self) -> dict:
        status, _, body = self.request("GET", f"/{self.ready['pool_id']}/.well-known/jwks.json")
        assert status == 200
        return json.loads(body)

    def authorize_url(self, pkce: Pkce, nonce: str, state: str, client_id=PUBLIC, redirect_uri=None, **extra):
        params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri or self.callback,
                  "scope": "openid email", "state": state, "nonce": nonce, "code_challenge": pkce.challenge,
                  "code_challenge_method": "S256", **extra}
        return self.login + "/oauth2/authorize?" + urllib.parse.urlencode(params)


ENV = None


class Attempt:
    """One sign-in attempt as the helper will make it: fresh verifier, nonce and state."""

    def __init__(self, client_id=PUBLIC, **extra):
        self.pkce = Pkce()
        self.nonce = b64url(secrets.token_bytes(24))
        self.exp = int(time.time()) + 300
        self.state = make_state("build-host.example", "alice", self.exp)
        self.client_id = client_id
        self.url = ENV.authorize_url(self.pkce, self.nonce, self.state, client_id=client_id, **extra)
        self.started = int(time.time())


class ManagedLoginTest(unittest.TestCase):
    def setUp(self):
        self.started = time.monotonic()
        self.page = ENV.browser.new_page()
        ENV.control({})

    def tearDown(self):
        self.page.close()
        ENV.control({})
        print(f"  {self.id().split('.')[-1]}: {time.monotonic() - self.started:.2f} s", file=sys.stderr)

    # ---- browser steps -----------------------------------------------------------------------------------

    def wait_for_login_page(self):
        self.page.wait_for(f"location.href.startsWith({json.dumps(ENV.login + '/login?')}) && "
                           "document.readyState === 'complete' && !!document.getElementById('passkey')",
                           what="the managed-login page")

    def sign_in_with_passkey(self, attempt: Attempt, with_authenticator=True, username=None):
        if with_authenticator:
            authenticator = self.page.add_virtual_authenticator()
            self.page.add_credential(authenticator, ENV.credential_id, "localhost",
                                     ENV.passkey_key.private_bytes(serialization.Encoding.DER,
                                                                   serialization.PrivateFormat.PKCS8,
                                                                   serialization.NoEncryption()),
                                     ALICE_SUB.encode(), sign_count=ENV.stored_sign_count())
        self.page.navigate(attempt.url)
        self.wait_for_login_page()
        if username is None:
            self.assertEqual(self.page.evaluate("document.getElementById('username').value"), "alice")
        else:  # no login_hint (the launcher sends none): the person types the name
            self.page.evaluate(f"document.getElementById('username').value = {json.dumps(username)}")
        self.page.evaluate("document.getElementById('passkey').click()")
        return self.read_callback_page()

    def sign_in_with_email(self, attempt: Attempt):
        self.page.navigate(attempt.url)
        self.wait_for_login_page()
        self.page.evaluate(f"document.getElementById('username').value = {json.dumps(ALICE_EMAIL)}; "
                           "document.getElementById('email').click()")
        self.page.wait_for(f"location.href === {json.dumps(ENV.login + '/login/email')} && "
                           "!!document.getElementById('verify')", what="the email-code page")
        code = ENV.latest_code(ALICE_EMAIL)
        self.assertRegex(code, r"^[0-9]{8}$")
        self.page.evaluate(f"document.getElementById('code').value = {json.dumps(code)}; "
                           "document.getElementById('verify').click()")
        return self.read_callback_page()

    def read_callback_page(self) -> dict:
        shown = self.page.wait_for(
            f"location.href.startsWith({json.dumps(ENV.callback)}) && document.readyState === 'complete' && "
            "!document.getElementById('success').hidden && "
            "({code: document.getElementById('code').textContent, host: document.getElementById('host').textContent,"
            " account: document.getElementById('account').textContent, search: location.search,"
            " request: !document.getElementById('request').hidden,"
            " warning: document.getElementById('warning').textContent})", what="the callback page with a code")
        # The page drops the code from the address (history), and warns.
        self.assertEqual(shown["search"], "")
        self.assertIn("Do not give this code to anyone", shown["warning"])
        return shown

    # ---- token checks ------------------------------------------------------------------------------------

    def redeem(self, attempt: Attempt, code: str, verifier: str = None, client_id: str = None, **extra):
        form = {"grant_type": "authorization_code", "client_id": client_id or attempt.client_id, "code": code,
                "redirect_uri": ENV.callback, "code_verifier": verifier or attempt.pkce.verifier, **extra}
        return ENV.token(form)

    def assertTokenError(self, answer, error: str, description: str = None):
        status, headers, body = answer
        self.assertEqual(status, 400, body)
        self.assertEqual(headers["Content-Type"], "application/json;charset=UTF-8")
        self.assertEqual(body["error"], error)
        if description is not None:
            self.assertEqual(body.get("error_description"), description)

    def verified_id_token(self, attempt: Attempt, tokens: dict) -> dict:
        header_b64, payload_b64, signature_b64 = tokens["id_token"].split(".")
        header = json.loads(b64url_decode(header_b64))
        self.assertEqual(header["alg"], "RS256")
        jwk = next(k for k in ENV.jwks()["keys"] if k["kid"] == header["kid"])
        key = rsa.RSAPublicNumbers(int.from_bytes(b64url_decode(jwk["e"]), "big"),
                                   int.from_bytes(b64url_decode(jwk["n"]), "big")).public_key()
        try:
            key.verify(b64url_decode(signature_b64), f"{header_b64}.{payload_b64}".encode(), padding.PKCS1v15(),
                       hashes.SHA256())
        except InvalidSignature:
            self.fail("the ID token's signature does not verify against the JWKS")
        claims = json.loads(b64url_decode(payload_b64))
        self.assertEqual(claims["iss"], ENV.ready["issuer"])
        self.assertEqual(claims["aud"], attempt.client_id)
        self.assertEqual(claims["token_use"], "id")
        self.assertEqual(claims["nonce"], attempt.nonce)
        self.assertEqual(claims["sub"], ALICE_SUB)
        self.assertEqual(claims["cognito:username"], "alice")
        self.assertEqual(claims["email"], ALICE_EMAIL)
        self.assertIsInstance(claims["auth_time"], int)
        self.assertGreater(claims["exp"], time.time())
        at_hash = b64url(hashlib.sha256(tokens["access_token"].encode()).digest()[:16])
        self.assertEqual(claims["at_hash"], at_hash)
        return claims

    def assertCodeShape(self, shown: dict):
        self.assertRegex(shown["code"], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        self.assertTrue(shown["request"])
        self.assertEqual(shown["host"], "build-host.example")
        self.assertEqual(shown["account"], "alice")

    def silent_code(self, attempt: Attempt) -> str:
        """A code from the live session cookie: authorize without prompt goes straight to the callback."""
        self.page.navigate(attempt.url)
        return self.read_callback_page()["code"]

    # ---- cases -------------------------------------------------------------------------------------------

    def write_pool_json(self, value):
        """The launcher's pool.json beside the page (the stand-in serves DIR/callback-pool.json as /cb/pool.json)."""
        path = os.path.join(ENV.state, "callback-pool.json")
        if value is None:
            if os.path.exists(path):
                os.remove(path)
        else:
            write_atomically(path, value if isinstance(value, str) else json.dumps(value))

    def good_pool_json(self):
        self.write_pool_json({"domain": urllib.parse.urlsplit(ENV.login).netloc, "client_id": PUBLIC,
                              "scopes": ["openid", "email"]})

    def launch_fails(self, link: str) -> str:
        """Opens `link`; the page must show its launch error and stay where it is. Returns the error shown."""
        # From another document: a link differing from the last only in its fragment would not reload the page.
        self.page.navigate("about:blank")
        self.page.wait_for("location.href === 'about:blank'", what="a blank page")
        self.page.navigate(link)
        shown = self.page.wait_for(
            "document.readyState === 'complete' && !!document.getElementById('launch-failed') && "
            "!document.getElementById('launch-failed').hidden && "
            "({error: document.getElementById('launch-error').textContent, origin: location.origin,"
            " path: location.pathname})", what="the launcher's error")
        callback = urllib.parse.urlsplit(ENV.callback)
        self.assertEqual(shown["origin"], f"{callback.scheme}://{callback.netloc}")
        self.assertEqual(shown["path"], callback.path)
        self.assertTrue(self.page.evaluate("document.getElementById('success').hidden"))
        return shown["error"]

    def test_short_link_launches_the_sign_in_from_pool_json(self):
        self.good_pool_json()
        attempt = Attempt(login_hint="alice")
        # The helper's short link: the nonce is the challenge, the state is built by the page from the fragment.
        attempt.nonce = attempt.pkce.challenge
        attempt.url = short_link(attempt.pkce.challenge, "build-host.example", "alice", attempt.exp)
        shown = self.sign_in_with_passkey(attempt, username="alice")
        self.assertCodeShape(shown)
        status, _, tokens = self.redeem(attempt, shown["code"])
        self.assertEqual(status, 200, tokens)
        claims = self.verified_id_token(attempt, tokens)  # nonce == the fragment's challenge
        self.assertGreaterEqual(claims["auth_time"], attempt.started)

    def test_launcher_refuses_an_unreadable_fragment_and_a_missing_pool_json(self):
        self.good_pool_json()
        challenge = Pkce().challenge
        exp = int(time.time()) + 300
        good = short_link(challenge, "build-host.example", "alice", exp)
        fragment = good.split("#", 1)[1]
        for bad in ("#1", "#1.x.y.z.w", "#2." + fragment[2:], "#" + fragment + ".extra",
                    "#1." + challenge[:-1] + "." + fragment.split(".", 2)[2],
                    "#" + fragment.rsplit(".", 1)[0] + ".%%%", "#" + fragment.rsplit(".", 1)[0] + "." + b64url(b"a\nb")):
            self.assertIn("damaged", self.launch_fails(ENV.callback + bad), bad)
        self.write_pool_json(None)
        self.assertIn("pool.json", self.launch_fails(good))
        for broken in ("not json", {"domain": "evil.example/x", "client_id": PUBLIC, "scopes": ["openid"]},
                       {"domain": "evil.example@x", "client_id": PUBLIC, "scopes": ["openid"]},
                       {"domain": urllib.parse.urlsplit(ENV.login).netloc, "client_id": PUBLIC,
                        "scopes": ["email"]}):
            self.write_pool_json(broken)
            self.assertIn("pool.json", self.launch_fails(good), broken)
        self.good_pool_json()

    def test_a_second_short_link_in_the_same_tab_launches(self):
        # A person pastes a new link into the tab that shows the page already (an earlier link's error here):
        # only the fragment differs, so the browser does not load the page again; the page must still launch.
        self.good_pool_json()
        challenge = Pkce().challenge
        self.launch_fails(ENV.callback + "#1.damaged")
        self.page.navigate(short_link(challenge, "build-host.example", "alice", int(time.time()) + 300))
        landed = self.page.wait_for(
            f"location.href.startsWith({json.dumps(ENV.login + '/login?')}) && document.readyState === 'complete' "
            "&& location.href", what="the managed-login page after a second link in the same tab")
        self.assertEqual(urllib.parse.urlsplit(landed).netloc, urllib.parse.urlsplit(ENV.login).netloc)

    def test_a_crafted_fragment_never_leaves_the_page_or_the_pool(self):
        self.good_pool_json()
        challenge = Pkce().challenge
        exp = int(time.time()) + 300
        login = urllib.parse.urlsplit(ENV.login)
        callback = urllib.parse.urlsplit(ENV.callback)
        allowed = {f"{login.scheme}://{login.netloc}", f"{callback.scheme}://{callback.netloc}"}
        crafted = [
            "#https://attacker.example/oauth2/authorize",
            "#1." + challenge + ".abc.YWxpY2U.aG9zdA.https://attacker.example",
            "#1." + challenge + ".abc.YWxpY2U.aG9zdA&redirect_uri=https://attacker.example/",
            "#1." + challenge + ".abc.YWxpY2U.aG9zdA?domain=attacker.example",
            "#domain=attacker.example&client_id=x",
        ]
        for fragment in crafted:
            self.launch_fails(ENV.callback + fragment)
        # Fields that name another host are only text the page shows: the sign-in goes to pool.json's domain,
        # for pool.json's client, back to this page.
        link = short_link(challenge, "attacker.example", "https://attacker.example/", exp)
        self.page.navigate("about:blank")
        self.page.wait_for("location.href === 'about:blank'", what="a blank page")
        self.page.navigate(link)
        landed = self.page.wait_for(
            f"location.href.startsWith({json.dumps(ENV.login + '/login?')}) && document.readyState === 'complete' "
            "&& location.href", what="the managed-login page")
        self.assertIn(urllib.parse.urlsplit(landed)._replace(path="", query="", fragment="").geturl(), allowed)

    def test_passkey_sign_in_shows_the_code_that_redeems_to_a_verified_id_token(self):
        attempt = Attempt(prompt="login", login_hint="alice")
        count_before = ENV.stored_sign_count()
        shown = self.sign_in_with_passkey(attempt)
        self.assertCodeShape(shown)
        # The stand-in checked an assertion of the registered key (its counter moved on).
        self.assertGreater(ENV.stored_sign_count(), count_before)
        status, headers, tokens = self.redeem(attempt, shown["code"])
        self.assertEqual(status, 200, tokens)
        self.assertEqual(headers["Access-Control-Allow-Origin"], "*")
        self.assertEqual(tokens["token_type"], "Bearer")
        claims = self.verified_id_token(attempt, tokens)
        self.assertGreaterEqual(claims["auth_time"], attempt.started)
        self.assertLessEqual(claims["auth_time"], time.time())
        # The virtual authenticator is a platform one ("internal"): amr "swk" (spec §7).
        self.assertEqual(claims["amr"], ["swk"])

    def test_email_code_sign_in_shows_the_code_that_redeems_to_a_verified_id_token(self):
        attempt = Attempt(prompt="login", login_hint="alice")
        shown = self.sign_in_with_email(attempt)
        self.assertCodeShape(shown)
        status, _, tokens = self.redeem(attempt, shown["code"])
        self.assertEqual(status, 200, tokens)
        claims = self.verified_id_token(attempt, tokens)
        self.assertGreaterEqual(claims["auth_time"], attempt.started)
        self.assertEqual(claims["amr"], ["email_otp"])

    def test_id_token_without_amr_when_the_control_file_says_so(self):
        # Whether the live service puts amr without acr_values is UNVERIFIED (spec §11 item 3): the stand-in
        # can leave it out, for a passkey sign-in as for a code.
        ENV.control({"id_token_amr": "absent"})
        attempt = Attempt(prompt="login", login_hint="alice")
        shown = self.sign_in_with_passkey(attempt)
        status, _, tokens = self.redeem(attempt, shown["code"])
        self.assertEqual(status, 200, tokens)
        self.assertNotIn("amr", self.verified_id_token(attempt, tokens))
        attempt = Attempt(prompt="login", login_hint="alice")
        shown = self.sign_in_with_email(attempt)
        status, _, tokens = self.redeem(attempt, shown["code"])
        self.assertEqual(status, 200, tokens)
        self.assertNotIn("amr", self.verified_id_token(attempt, tokens))
        # Read when the code is redeemed: switched back, the same kind of sign-in carries it again.
        ENV.control({})
        attempt = Attempt(prompt="login", login_hint="alice")
        shown = self.sign_in_with_email(attempt)
        status, _, tokens = self.redeem(attempt, shown["code"])
        self.assertEqual(self.verified_id_token(attempt, tokens)["amr"], ["email_otp"])

    def test_redemption_errors(self):
        first = Attempt(prompt="login", login_hint="alice")
        self.sign_in_with_email(first)
        # Wrong verifier: invalid_grant, and the code is spent.
        attempt = Attempt(login_hint="alice")
        code = self.silent_code(attempt)
        self.assertTokenError(self.redeem(attempt, code, verifier=Pkce().verifier), "invalid_grant")
        self.assertTokenError(self.redeem(attempt, code), "invalid_grant")
        # Missing verifier.
        attempt = Attempt(login_hint="alice")
        code = self.silent_code(attempt)
        form = {"grant_type": "authorization_code", "client_id": PUBLIC, "code": code, "redirect_uri": ENV.callback}
        self.assertTokenError(ENV.token(form), "invalid_grant")
        # Reused code: the first redemption succeeds, the second is invalid_grant.
        attempt = Attempt(login_hint="alice")
        code = self.silent_code(attempt)
        self.assertEqual(self.redeem(attempt, code)[0], 200)
        self.assertTokenError(self.redeem(attempt, code), "invalid_grant")
        # Expired: the pool's clock moved past the code's 5 minutes.
        attempt = Attempt(login_hint="alice")
        code = self.silent_code(attempt)
        ENV.control({"clock_offset_s": 301})
        self.assertTokenError(self.redeem(attempt, code), "invalid_grant")
        ENV.control({})
        # A code for another client: invalid_grant for that client; its own client can still redeem it.
        attempt = Attempt(login_hint="alice")
        code = self.silent_code(attempt)
        self.assertTokenError(self.redeem(attempt, code, client_id=OTHER), "invalid_grant")
        self.assertEqual(self.redeem(attempt, code)[0], 200)
        # redirect_uri differing from the authorize request.
        attempt = Attempt(login_hint="alice")
        code = self.silent_code(attempt)
        self.assertTokenError(self.redeem(attempt, code, redirect_uri=ENV.callback + "x"), "unauthorized_client",
                              "invalid_redirect")
        # A client with a secret that does not send it; and with it (client_secret_basic).
        attempt = Attempt(client_id=SECRET, login_hint="alice")
        code = self.silent_code(attempt)
        self.assertTokenError(self.redeem(attempt, code), "invalid_client", "invalid_client_secret")
        attempt = Attempt(client_id=SECRET, login_hint="alice")
        code = self.silent_code(attempt)
        basic = base64.b64encode(f"{SECRET}:{SECRET_VALUE}".encode()).decode()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": ENV.callback,
                "code_verifier": attempt.pkce.verifier}
        status, _, tokens = ENV.token(form, {"Authorization": f"Basic {basic}"})
        self.assertEqual(status, 200, tokens)
        self.verified_id_token(attempt, tokens)
        # Other grants.
        self.assertTokenError(ENV.token({"grant_type": "password", "client_id": PUBLIC}), "unsupported_grant_type")

    def test_unregistered_redirect_uri_is_never_redirected_to(self):
        for wrong in (ENV.callback + "evil", ENV.callback.rstrip("/"), "https://attacker.example/cb/"):
            attempt = Attempt(redirect_uri=wrong)
            self.page.navigate(attempt.url)
            landed = self.page.wait_for("document.readyState === 'complete' && location.href.includes('/error?') "
                                        "&& location.href", what="the error page")
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(landed).query)
            self.assertTrue(landed.startswith(ENV.login + "/error?"), landed)
            self.assertEqual(query, {"error": ["redirect_mismatch"], "client_id": [PUBLIC]})
            self.assertIn("An error was encountered", self.page.evaluate("document.body.innerText"))
        # The same check without a browser: the answer is a redirect to the pool's own error page.
        status, headers, _ = ENV.request("GET", Attempt(redirect_uri=ENV.callback + "evil").url[len(ENV.login):])
        self.assertEqual(status, 302)
        self.assertTrue(headers["Location"].startswith("/error?error=redirect_mismatch"), headers["Location"])

    def test_authorize_errors_reach_the_callback_page(self):
        attempt = Attempt(code_challenge_method="plain")
        self.page.navigate(attempt.url)
        shown = self.page.wait_for(
            f"location.href.startsWith({json.dumps(ENV.callback)}) && !document.getElementById('failure').hidden && "
            "document.getElementById('error').textContent", what="the callback page's error")
        self.assertEqual(shown, "invalid_request")
        self.assertTrue(self.page.evaluate("document.getElementById('success').hidden"))
        # prompt=none without a session: login_required, state echoed (no browser needed).
        attempt = Attempt(prompt="none")
        status, headers, _ = ENV.request("GET", attempt.url[len(ENV.login):])
        self.assertEqual(status, 302)
        location = urllib.parse.urlsplit(headers["Location"])
        self.assertEqual(location._replace(query="").geturl(), ENV.callback)
        query = urllib.parse.parse_qs(location.query)
        self.assertEqual(query["error"], ["login_required"])
        self.assertEqual(query["state"], [attempt.state])
        self.assertNotIn("code", query)
        # An unknown client: an error page, no redirect at all.
        status, headers, body = ENV.request("GET", Attempt(client_id="nosuchclient").url[len(ENV.login):])
        self.assertEqual(status, 400)
        self.assertNotIn("Location", headers)

    def test_prompt_login_forces_a_fresh_sign_in_despite_a_live_session(self):
        first = Attempt(prompt="login", login_hint="alice")
        shown = self.sign_in_with_passkey(first)
        first_claims = self.verified_id_token(first, self.redeem(first, shown["code"])[2])
        # Without prompt the live cookie answers at once, with the first sign-in's auth_time.
        ENV.control({"clock_offset_s": 30})
        silent = Attempt(login_hint="alice")
        silent_claims = self.verified_id_token(silent, self.redeem(silent, self.silent_code(silent))[2])
        self.assertEqual(silent_claims["auth_time"], first_claims["auth_time"])
        # With prompt=login the page is shown again and a new sign-in moves auth_time.
        again = Attempt(prompt="login", login_hint="alice")
        shown = self.sign_in_with_passkey(again, with_authenticator=False)
        again_claims = self.verified_id_token(again, self.redeem(again, shown["code"])[2])
        self.assertGreaterEqual(again_claims["auth_time"], first_claims["auth_time"] + 30)


def main():
    global WORK_DIR, ENV
    parser = argparse.ArgumentParser()
    parser.add_argument("--work-dir", required=True)
    args, rest = parser.parse_known_args()
    WORK_DIR = os.path.abspath(args.work_dir)
    os.makedirs(WORK_DIR, exist_ok=True)
    # As valgrind's tests do: without the browser the test reports itself skipped (77), which a root run of the
    # suite (scripts/test.sh, the package build as root) turns into a failure (check-no-skips.sh). Chromium is
    # a build dependency only where Debian builds it (debian/control).
    try:
        cdp.chromium_path()
    except cdp.CdpError as e:
        print(f"SKIP: {e}")
        return 77
    ENV = Env()
    try:
        program = unittest.main(argv=[sys.argv[0], *rest], exit=False, verbosity=2)
    finally:
        ENV.close()
    result = program.result
    ok = result.wasSuccessful() and not result.skipped and result.testsRun > 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
