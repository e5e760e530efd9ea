#!/usr/bin/python3
"""Self-test of the Cognito stand-in: runs it as a real process and talks to it over real TLS, trusting only the
ca.pem it writes, exactly as the helper and the demo do.

  /usr/bin/python3 test_cognito_standin.py --work-dir DIR [unittest options]

Everything is checked independently of the stand-in's code (SECRET_HASH, JWT signatures) so that a bug shared
by both sides cannot hide.
"""

import argparse
import base64
import ctypes
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import unittest

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "cognito_standin.py")
PYTHON = "/usr/bin/python3"
READY_TIMEOUT = 20
AMZ_JSON = "application/x-amz-json-1.1"

PUBLIC = "publicclient000"
SECRET_CLIENT = "secretclient000"
SECRET = "s3cr3t-for-tests"
NO_USER_AUTH = "passwordonlyclient"
ALICE_SUB = "3c46320b-c60e-4a21-9d64-5829bfede1c4"

MAIN_POOL = {
    "pool_id": "us-east-1_SelfTest",
    "clients": [
        {"client_id": PUBLIC, "client_secret": None, "explicit_auth_flows": ["ALLOW_USER_AUTH"]},
        {"client_id": SECRET_CLIENT, "client_secret": SECRET, "explicit_auth_flows": ["ALLOW_USER_AUTH"]},
        {"client_id": NO_USER_AUTH, "explicit_auth_flows": ["ALLOW_USER_PASSWORD_AUTH"]},
    ],
    "users": [
        {"username": "alice", "sub": ALICE_SUB, "email": "alice@example.com", "email_verified": True,
         "phone_number": "+15555550123", "phone_number_verified": True},
        {"username": "bob", "email": "bob@example.com", "email_verified": True},
        {"username": "carol", "email": "carol@example.com", "email_verified": False,
         "phone_number": "+447700900456", "phone_number_verified": True},
        {"username": "dave", "email": "dave@example.com", "email_verified": True, "password": "correct horse"},
        {"username": "erin", "email": "erin@example.com", "email_verified": True, "enabled": False},
    ],
}
SHORT_POOL = {
    "pool_id": "eu-west-1_Short",
    "clients": [{"client_id": PUBLIC}],
    "session_validity_seconds": 1,
    "max_code_attempts": 2,
    "otp_length": 6,
    "prevent_user_existence_errors": "ENABLED",
    "allowed_first_auth_factors": ["EMAIL_OTP", "SMS_OTP"],
    "users": [{"username": "frank", "email": "frank@example.org", "email_verified": True}],
}

WORK_DIR = None  # set from --work-dir
MAIN = SHORT = None  # the two running stand-ins


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def secret_hash(username: str, client_id: str = SECRET_CLIENT, secret: str = SECRET) -> str:
    mac = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def _die_with_parent():
    # If this test is killed (a CTest timeout), the kernel stops the stand-in instead of leaving it behind.
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def write_atomically(path: str, text: str):
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


class Reply:
    def __init__(self, response: http.client.HTTPResponse):
        self.status = response.status
        self.headers = response.headers
        self.raw = response.read()

    def json(self):
        return json.loads(self.raw)


class Standin:
    """One stand-in process with its own state directory."""

    def __init__(self, name: str, pool: dict, work_dir: str = None, extra_args=(), fresh: bool = True):
        """`fresh`: start from an empty directory; otherwise keep the state directory of an earlier run
        (its stand-in must have stopped)."""
        self.dir = os.path.join(work_dir or WORK_DIR, name)
        if fresh:
            shutil.rmtree(self.dir, ignore_errors=True)
        self.state = os.path.join(self.dir, "state")
        os.makedirs(self.state, exist_ok=True)
        pool_path = os.path.join(self.dir, "pool.json")
        write_atomically(pool_path, json.dumps(pool))
        # A stale ready file from an earlier run: the stand-in must replace it, and the wait below must not
        # be fooled by it.
        write_atomically(os.path.join(self.state, "ready.json"), json.dumps({"pid": 0, "port": 1}))
        self.stderr = open(os.path.join(self.dir, "stderr.log"), "a")
        self.process = subprocess.Popen(
            [PYTHON, STANDIN, "serve", "--state-dir", self.state, "--pool", pool_path, *extra_args],
            stdin=subprocess.DEVNULL, stdout=self.stderr, stderr=self.stderr, preexec_fn=_die_with_parent)
        self.pool_id = pool["pool_id"]

    def wait_ready(self):
        deadline = time.monotonic() + READY_TIMEOUT
        path = os.path.join(self.state, "ready.json")
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"stand-in exited with {self.process.returncode}; see {self.stderr.name}")
            try:
                with open(path) as f:
                    ready = json.load(f)
                if ready.get("pid") == self.process.pid:
                    self.ready = ready
                    self.port = ready["port"]
                    self.tls = ssl.create_default_context(cafile=ready["ca_file"])
                    return
            except (FileNotFoundError, ValueError):
                pass
            time.sleep(0.02)  # polling interval, bounded by the deadline above
        raise RuntimeError(f"stand-in not ready within {READY_TIMEOUT} s")

    def stop(self, sig=signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return -1
        finally:
            self.stderr.close()

    # ---- talking to it ------------------------------------------------------------------------------

    def connection(self, timeout: float = 10) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.tls, timeout=timeout)

    def post(self, operation: str, body, connection=None, content_type=AMZ_JSON, raw: bytes = None) -> Reply:
        own = connection is None
        connection = connection or self.connection()
        try:
            connection.request("POST", "/", body=raw if raw is not None else json.dumps(body), headers={
                "Content-Type": content_type,
                "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}"})
            return Reply(connection.getresponse())
        finally:
            if own:
                connection.close()

    def get(self, path: str) -> Reply:
        connection = self.connection()
        try:
            connection.request("GET", path)
            return Reply(connection.getresponse())
        finally:
            connection.close()

    def initiate(self, username: str, client_id: str = PUBLIC, preferred: str = None, **params) -> Reply:
        auth = {"USERNAME": username, **params}
        if preferred:
            auth["PREFERRED_CHALLENGE"] = preferred
        return self.post("InitiateAuth", {"AuthFlow": "USER_AUTH", "ClientId": client_id, "AuthParameters": auth})

    def respond(self, challenge: str, session: str, username: str, client_id: str = PUBLIC, **responses) -> Reply:
        return self.post("RespondToAuthChallenge", {
            "ClientId": client_id, "ChallengeName": challenge, "Session": session,
            "ChallengeResponses": {"USERNAME": username, **responses}})

    # ---- its files ----------------------------------------------------------------------------------

    def control(self, **settings):
        write_atomically(os.path.join(self.state, "control.json"), json.dumps(settings) if settings else "")

    def lines(self, name: str) -> list:
        with open(os.path.join(self.state, name)) as f:
            return [json.loads(line) for line in f]

    def latest_code(self, destination: str, after_line: int = 0):
        result = subprocess.run([PYTHON, STANDIN, "latest-code", "--state-dir", self.state, "--to", destination,
                                 "--after-line", str(after_line)], capture_output=True, text=True, timeout=10)
        return result.stdout.strip() if result.returncode == 0 else None


def setUpModule():
    global MAIN, SHORT
    MAIN = Standin("main", MAIN_POOL)
    SHORT = Standin("short", SHORT_POOL)
    try:
        MAIN.wait_ready()
        SHORT.wait_ready()
    except Exception:
        tearDownModule()
        raise


def tearDownModule():
    """Stops both stand-ins the way their users do and checks they exit promptly with status 0. Failures
    here are reported by unittest as an error in tearDownModule."""
    problems = []
    idle = None
    if MAIN is not None and MAIN.process.poll() is None and hasattr(MAIN, "port"):
        idle = MAIN.connection()
        idle.connect()  # an idle keep-alive connection must not delay the exit
    try:
        for standin, sig in ((MAIN, signal.SIGTERM), (SHORT, signal.SIGINT)):
            if standin is None:
                continue
            status = standin.stop(sig)
            if status != 0:
                problems.append(f"{standin.dir}: exit status {status} after {sig.name}")
            if os.path.exists(os.path.join(standin.state, "ready.json")):
                problems.append(f"{standin.dir}: ready.json left behind")
    finally:
        if idle is not None:
            idle.close()
    if problems:
        raise AssertionError("; ".join(problems))


class StandinTestCase(unittest.TestCase):
    def assertError(self, reply: Reply, name: str, message: str = None, status: int = 400):
        self.assertEqual(reply.status, status, reply.raw)
        body = reply.json()
        self.assertEqual(body["__type"], name)
        if message is not None:
            self.assertEqual(body["message"], message)
        self.assertEqual(reply.headers["x-amzn-ErrorType"], f"{name}:")
        self.assertEqual(reply.headers["x-amzn-ErrorMessage"], body["message"])
        self.assertEqual(reply.headers["Content-Type"], AMZ_JSON)
        self.assertTrue(reply.headers["x-amzn-RequestId"])

    def assertTokens(self, reply: Reply):
        self.assertEqual(reply.status, 200, reply.raw)
        body = reply.json()
        self.assertEqual(body["ChallengeParameters"], {})
        result = body["AuthenticationResult"]
        self.assertEqual(result["TokenType"], "Bearer")
        self.assertEqual(result["ExpiresIn"], 3600)
        for key in ("AccessToken", "IdToken", "RefreshToken"):
            self.assertTrue(result[key])
        return result

    def sign_in_by_email(self, username="alice", client_id=PUBLIC):
        """A complete EMAIL_OTP sign-in with PREFERRED_CHALLENGE; returns the AuthenticationResult."""
        extra = {"SECRET_HASH": secret_hash(username)} if client_id == SECRET_CLIENT else {}
        start = MAIN.initiate(username, client_id, preferred="EMAIL_OTP", **extra).json()
        code = MAIN.latest_code(f"{username}@example.com")
        return self.assertTokens(MAIN.respond("EMAIL_OTP", start["Session"], username, client_id,
                                              EMAIL_OTP_CODE=code, **extra))


def jwt_parts(token: str):
    header, payload, signature = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload)), signature


def verify_jwt(token: str, jwks: dict) -> dict:
    header, claims, signature = jwt_parts(token)
    assert header["alg"] == "RS256", header
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    public = rsa.RSAPublicNumbers(int.from_bytes(b64url_decode(key["e"]), "big"),
                                  int.from_bytes(b64url_decode(key["n"]), "big")).public_key()
    signing_input = token.rsplit(".", 1)[0].encode()
    public.verify(b64url_decode(signature), signing_input, padding.PKCS1v15(), hashes.SHA256())
    return claims


class SignInTests(StandinTestCase):
    def test_email_otp_through_select_challenge(self):
        sent_before = len(MAIN.lines("outbox.jsonl"))
        first = MAIN.initiate("alice")
        self.assertEqual(first.status, 200, first.raw)
        self.assertEqual(first.headers["Content-Type"], AMZ_JSON)
        body = first.json()
        self.assertEqual(body["ChallengeName"], "SELECT_CHALLENGE")
        self.assertEqual(body["ChallengeParameters"], {"USERNAME": "alice"})
        self.assertEqual(body["AvailableChallenges"], ["EMAIL_OTP", "SMS_OTP"])
        self.assertTrue(body["Session"].startswith("AYAB") and len(body["Session"]) >= 20)
        self.assertEqual(len(MAIN.lines("outbox.jsonl")), sent_before, "no code before a choice")

        chosen = MAIN.respond("SELECT_CHALLENGE", body["Session"], "alice", ANSWER="EMAIL_OTP").json()
        self.assertEqual(chosen["ChallengeName"], "EMAIL_OTP")
        self.assertEqual(chosen["ChallengeParameters"], {"CODE_DELIVERY_DELIVERY_MEDIUM": "EMAIL",
                                                         "CODE_DELIVERY_DESTINATION": "a***@e***",
                                                         "USERNAME": "alice"})
        self.assertNotEqual(chosen["Session"], body["Session"])
        sent = MAIN.lines("outbox.jsonl")[sent_before:]
        self.assertEqual(len(sent), 1)
        self.assertEqual({k: sent[0][k] for k in ("username", "medium", "destination")},
                         {"username": "alice", "medium": "EMAIL", "destination": "alice@example.com"})
        self.assertRegex(sent[0]["code"], r"^[0-9]{8}$")
        code = MAIN.latest_code("alice@example.com", after_line=sent_before)
        self.assertEqual(code, sent[0]["code"])

        result = self.assertTokens(MAIN.respond("EMAIL_OTP", chosen["Session"], "alice", EMAIL_OTP_CODE=code))
        claims = jwt_parts(result["IdToken"])[1]
        self.assertEqual(claims["sub"], ALICE_SUB)
        self.assertEqual(claims["email"], "alice@example.com")

        # Both sessions are spent.
        self.assertError(MAIN.respond("EMAIL_OTP", chosen["Session"], "alice", EMAIL_OTP_CODE=code),
                         "NotAuthorizedException", "Invalid session for the user, session can only be used once.")
        self.assertError(MAIN.respond("SELECT_CHALLENGE", body["Session"], "alice", ANSWER="EMAIL_OTP"),
                         "NotAuthorizedException", "Invalid session for the user, session can only be used once.")

    def test_preferred_sms_otp(self):
        reply = MAIN.initiate("alice", preferred="SMS_OTP").json()
        self.assertEqual(reply["ChallengeName"], "SMS_OTP")
        self.assertEqual(reply["ChallengeParameters"], {"CODE_DELIVERY_DELIVERY_MEDIUM": "SMS",
                                                        "CODE_DELIVERY_DESTINATION": "+*******0123",
                                                        "USERNAME": "alice"})
        self.assertEqual(MAIN.lines("outbox.jsonl")[-1]["medium"], "SMS")
        code = MAIN.latest_code("+15555550123")
        wrong_key = MAIN.respond("SMS_OTP", reply["Session"], "alice", EMAIL_OTP_CODE=code)
        self.assertError(wrong_key, "InvalidParameterException")
        result = self.assertTokens(MAIN.respond("SMS_OTP", reply["Session"], "alice", SMS_OTP_CODE=code))
        claims = jwt_parts(result["IdToken"])[1]
        self.assertEqual((claims["phone_number"], claims["phone_number_verified"]), ("+15555550123", True))

    def test_preferred_but_not_eligible_offers_a_choice(self):
        sent_before = len(MAIN.lines("outbox.jsonl"))
        reply = MAIN.initiate("bob", preferred="SMS_OTP").json()
        self.assertEqual(reply["ChallengeName"], "SELECT_CHALLENGE")
        self.assertEqual(reply["AvailableChallenges"], ["EMAIL_OTP"])
        # carol's email is unverified: only SMS; dave has a password as well.
        self.assertEqual(MAIN.initiate("carol").json()["AvailableChallenges"], ["SMS_OTP"])
        self.assertEqual(MAIN.initiate("dave").json()["AvailableChallenges"], ["PASSWORD_SRP", "PASSWORD", "EMAIL_OTP"])
        self.assertEqual(len(MAIN.lines("outbox.jsonl")), sent_before)
        self.assertIsNone(MAIN.latest_code("bob@example.com", after_line=sent_before))

    def test_withdrawn_factors_and_the_ineligible_preferred_error(self):
        sent_before = len(MAIN.lines("outbox.jsonl"))
        MAIN.control(withdrawn_factors={"ALICE": ["SMS_OTP"]})
        reply = MAIN.initiate("alice@example.com", preferred="SMS_OTP").json()
        self.assertEqual(reply["ChallengeName"], "SELECT_CHALLENGE")
        self.assertEqual(reply["AvailableChallenges"], ["EMAIL_OTP"])
        self.assertEqual(MAIN.initiate("bob").json()["AvailableChallenges"], ["EMAIL_OTP"], "only alice's")
        MAIN.control(withdrawn_factors={"alice": ["SMS_OTP"]},
                     ineligible_preferred_error={"name": "InvalidParameterException", "message": "not eligible"})
        self.assertError(MAIN.initiate("alice", preferred="SMS_OTP"), "InvalidParameterException", "not eligible")
        self.assertEqual(MAIN.initiate("alice", preferred="EMAIL_OTP").json()["ChallengeName"], "EMAIL_OTP")
        self.assertEqual(MAIN.initiate("alice").json()["ChallengeName"], "SELECT_CHALLENGE")
        MAIN.control()
        self.assertEqual(MAIN.initiate("alice").json()["AvailableChallenges"], ["EMAIL_OTP", "SMS_OTP"])
        self.assertEqual(len(MAIN.lines("outbox.jsonl")), sent_before + 1)

    def test_choice_not_offered_is_refused(self):
        reply = MAIN.initiate("bob").json()
        self.assertError(MAIN.respond("SELECT_CHALLENGE", reply["Session"], "bob", ANSWER="SMS_OTP"),
                         "InvalidParameterException")

    def test_password_factor(self):
        self.assertError(MAIN.initiate("dave", preferred="PASSWORD", PASSWORD="wrong"),
                         "NotAuthorizedException", "Incorrect username or password.")
        self.assertTokens(MAIN.initiate("dave", preferred="PASSWORD", PASSWORD="correct horse"))

    def test_alias_sign_in(self):
        email = "Alice@Example.com"
        start = MAIN.initiate(email, SECRET_CLIENT, preferred="EMAIL_OTP", SECRET_HASH=secret_hash(email)).json()
        self.assertEqual(start["ChallengeName"], "EMAIL_OTP")
        code = MAIN.latest_code("alice@example.com")
        # The internal username answers for the alias too; the hash follows the USERNAME of each request.
        result = self.assertTokens(MAIN.respond("EMAIL_OTP", start["Session"], "alice", SECRET_CLIENT,
                                                EMAIL_OTP_CODE=code, SECRET_HASH=secret_hash("alice")))
        self.assertEqual(jwt_parts(result["IdToken"])[1]["cognito:username"], "alice")
        phone = MAIN.initiate("+15555550123", preferred="SMS_OTP").json()
        self.assertEqual(phone["ChallengeName"], "SMS_OTP")
        self.assertError(MAIN.initiate("carol@example.com"), "UserNotFoundException")  # unverified: no alias

    def test_challenge_hash_is_over_the_internal_name(self):
        # Spec §4 ("Which username"): signed in with an alias, the pool checks a challenge response's SECRET_HASH
        # against its internal name, announced as USERNAME in ChallengeParameters, not against the alias.
        email = "alice@example.com"
        start = MAIN.initiate(email, SECRET_CLIENT, SECRET_HASH=secret_hash(email)).json()
        self.assertEqual(start["ChallengeName"], "SELECT_CHALLENGE")
        self.assertEqual(start["ChallengeParameters"], {"USERNAME": "alice"})
        self.assertError(MAIN.respond("SELECT_CHALLENGE", start["Session"], email, SECRET_CLIENT, ANSWER="EMAIL_OTP",
                                      SECRET_HASH=secret_hash(email)),
                         "NotAuthorizedException", f"Unable to verify secret hash for client {SECRET_CLIENT}")
        # The refusal consumed nothing: the announced name and its hash go through.
        chosen = MAIN.respond("SELECT_CHALLENGE", start["Session"], "alice", SECRET_CLIENT, ANSWER="EMAIL_OTP",
                              SECRET_HASH=secret_hash("alice")).json()
        self.assertEqual(chosen["ChallengeName"], "EMAIL_OTP", chosen)
        self.assertEqual(chosen["ChallengeParameters"]["USERNAME"], "alice")
        code = MAIN.latest_code(email)
        self.assertTokens(MAIN.respond("EMAIL_OTP", chosen["Session"], "alice", SECRET_CLIENT, EMAIL_OTP_CODE=code,
                                       SECRET_HASH=secret_hash("alice")))

    def test_user_context_data(self):
        lines_before = len(MAIN.lines("requests.jsonl"))
        reply = MAIN.post("InitiateAuth", {"AuthFlow": "USER_AUTH", "ClientId": PUBLIC,
                                           "AuthParameters": {"USERNAME": "bob"},
                                           "UserContextData": {"IpAddress": "198.51.100.7"}})
        self.assertEqual(reply.status, 200, reply.raw)
        self.assertEqual(MAIN.lines("requests.jsonl")[lines_before]["ip_address"], "198.51.100.7")
        self.assertNotIn("ip_address", MAIN.lines("requests.jsonl")[lines_before - 1])
        for bad in ("198.51.100.7", {"IpAddress": 7}, {"Address": "198.51.100.7"}):
            self.assertError(MAIN.post("InitiateAuth", {"AuthFlow": "USER_AUTH", "ClientId": PUBLIC,
                                                        "AuthParameters": {"USERNAME": "bob"},
                                                        "UserContextData": bad}), "SerializationException")
        session = reply.json()["Session"]
        self.assertError(MAIN.post("RespondToAuthChallenge", {
            "ClientId": PUBLIC, "ChallengeName": "SELECT_CHALLENGE", "Session": session,
            "ChallengeResponses": {"USERNAME": "bob", "ANSWER": "EMAIL_OTP"}, "UserContextData": []}),
            "SerializationException")
        chosen = MAIN.post("RespondToAuthChallenge", {
            "ClientId": PUBLIC, "ChallengeName": "SELECT_CHALLENGE", "Session": session,
            "ChallengeResponses": {"USERNAME": "bob", "ANSWER": "EMAIL_OTP"},
            "UserContextData": {"IpAddress": "2001:db8::7"}})
        self.assertEqual(chosen.status, 200, chosen.raw)
        self.assertEqual(MAIN.lines("requests.jsonl")[-1]["ip_address"], "2001:db8::7")

    def test_secret_hash(self):
        missing = MAIN.initiate("alice", SECRET_CLIENT, preferred="EMAIL_OTP")
        self.assertError(missing, "NotAuthorizedException",
                         f"Client {SECRET_CLIENT} is configured with secret but SECRET_HASH was not received")
        wrong = MAIN.initiate("alice", SECRET_CLIENT, preferred="EMAIL_OTP", SECRET_HASH=secret_hash("bob"))
        self.assertError(wrong, "NotAuthorizedException", f"Unable to verify secret hash for client {SECRET_CLIENT}")

        good = MAIN.initiate("alice", SECRET_CLIENT, preferred="EMAIL_OTP", SECRET_HASH=secret_hash("alice")).json()
        code = MAIN.latest_code("alice@example.com")
        self.assertError(MAIN.respond("EMAIL_OTP", good["Session"], "alice", SECRET_CLIENT, EMAIL_OTP_CODE=code),
                         "NotAuthorizedException",
                         f"Client {SECRET_CLIENT} is configured with secret but SECRET_HASH was not received")
        self.assertError(MAIN.respond("EMAIL_OTP", good["Session"], "alice", SECRET_CLIENT, EMAIL_OTP_CODE=code,
                                      SECRET_HASH=secret_hash("alice", secret="other")),
                         "NotAuthorizedException", f"Unable to verify secret hash for client {SECRET_CLIENT}")
        self.assertTokens(MAIN.respond("EMAIL_OTP", good["Session"], "alice", SECRET_CLIENT, EMAIL_OTP_CODE=code,
                                       SECRET_HASH=secret_hash("alice")))

    def test_wrong_code_then_right(self):
        start = MAIN.initiate("bob", preferred="EMAIL_OTP").json()
        code = MAIN.latest_code("bob@example.com")
        wrong = "0" * 8 if code != "0" * 8 else "1" * 8
        self.assertError(MAIN.respond("EMAIL_OTP", start["Session"], "bob", EMAIL_OTP_CODE=wrong),
                         "CodeMismatchException", "Invalid code or auth state for the user.")
        self.assertTokens(MAIN.respond("EMAIL_OTP", start["Session"], "bob", EMAIL_OTP_CODE=code))

    def test_max_code_attempts(self):
        start = MAIN.initiate("bob", preferred="EMAIL_OTP").json()
        code = MAIN.latest_code("bob@example.com")
        wrong = "0" * 8 if code != "0" * 8 else "1" * 8
        for _ in range(MAIN_POOL.get("max_code_attempts", 3)):
            self.assertError(MAIN.respond("EMAIL_OTP", start["Session"], "bob", EMAIL_OTP_CODE=wrong),
                             "CodeMismatchException")
        self.assertError(MAIN.respond("EMAIL_OTP", start["Session"], "bob", EMAIL_OTP_CODE=code),
                         "NotAuthorizedException", "Invalid session for the user.")

    def test_session_checks(self):
        start = MAIN.initiate("alice", preferred="EMAIL_OTP").json()
        code = MAIN.latest_code("alice@example.com")
        self.assertError(MAIN.respond("SMS_OTP", start["Session"], "alice", SMS_OTP_CODE=code),
                         "InvalidParameterException")
        self.assertError(MAIN.respond("EMAIL_OTP", start["Session"], "bob", EMAIL_OTP_CODE=code),
                         "NotAuthorizedException")
        self.assertError(MAIN.respond("EMAIL_OTP", "AYAB" + "x" * 40, "alice", EMAIL_OTP_CODE=code),
                         "NotAuthorizedException", "Invalid session for the user.")
        other_client = MAIN.respond("EMAIL_OTP", start["Session"], "alice", SECRET_CLIENT, EMAIL_OTP_CODE=code,
                                    SECRET_HASH=secret_hash("alice"))
        self.assertError(other_client, "NotAuthorizedException", "Invalid session for the user.")
        # None of those spent the session.
        self.assertTokens(MAIN.respond("EMAIL_OTP", start["Session"], "alice", EMAIL_OTP_CODE=code))

    def test_user_states_and_client_checks(self):
        self.assertError(MAIN.initiate("nobody"), "UserNotFoundException", "User does not exist.")
        self.assertError(MAIN.initiate("erin", preferred="EMAIL_OTP"), "NotAuthorizedException", "User is disabled.")
        self.assertError(MAIN.initiate("alice", client_id="nosuchclient"), "ResourceNotFoundException")
        self.assertError(MAIN.initiate("alice", client_id=NO_USER_AUTH), "NotAuthorizedException")
        password_flow = MAIN.post("InitiateAuth", {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": PUBLIC,
                                                   "AuthParameters": {"USERNAME": "alice", "PASSWORD": "x"}})
        self.assertError(password_flow, "InvalidParameterException", "Initiate Auth method not supported.")
        self.assertError(MAIN.post("InitiateAuth", {"AuthFlow": "USER_AUTH", "ClientId": PUBLIC}),
                         "InvalidParameterException")

    def test_client_checks_come_before_the_user_lookup(self):
        """check-config --online probes with a made-up name: the client, its USER_AUTH flow and SECRET_HASH (over
        the name sent) are judged before the name is looked up, so each fault has its own answer."""
        name = "pam-passwordless-check-0123456789abcdef0123456789abcdef"
        self.assertError(MAIN.initiate(name, client_id="nosuchclient"), "ResourceNotFoundException")
        self.assertError(MAIN.initiate(name, client_id=NO_USER_AUTH), "NotAuthorizedException",
                         "USER_AUTH flow not enabled for this client")
        self.assertError(MAIN.initiate(name, SECRET_CLIENT), "NotAuthorizedException",
                         f"Client {SECRET_CLIENT} is configured with secret but SECRET_HASH was not received")
        self.assertError(MAIN.initiate(name, SECRET_CLIENT, SECRET_HASH=secret_hash(name, secret="other")),
                         "NotAuthorizedException", f"Unable to verify secret hash for client {SECRET_CLIENT}")
        self.assertError(MAIN.initiate(name, SECRET_CLIENT, SECRET_HASH=secret_hash(name)),
                         "UserNotFoundException", "User does not exist.")

    def test_expired_session(self):
        start = SHORT.initiate("frank", preferred="EMAIL_OTP").json()
        code = SHORT.latest_code("frank@example.org")
        self.assertRegex(code, r"^[0-9]{6}$")
        time.sleep(1.3)  # outlive the pool's 1 s session validity
        self.assertError(SHORT.respond("EMAIL_OTP", start["Session"], "frank", EMAIL_OTP_CODE=code),
                         "NotAuthorizedException", "Invalid session for the user, session is expired.")

    def test_enabled_masks_unknown_users(self):
        sent_before = len(SHORT.lines("outbox.jsonl"))
        known = SHORT.initiate("frank").json()
        unknown = SHORT.initiate("mallory").json()
        self.assertEqual(unknown["ChallengeName"], known["ChallengeName"])
        self.assertEqual(unknown["AvailableChallenges"], ["EMAIL_OTP", "SMS_OTP"])
        chosen = SHORT.respond("SELECT_CHALLENGE", unknown["Session"], "mallory", ANSWER="EMAIL_OTP").json()
        self.assertEqual(chosen["ChallengeName"], "EMAIL_OTP")
        self.assertRegex(chosen["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"], r"^m\*\*\*@[a-z]\*\*\*$")
        # The announced internal name of an unknown user is made up like a real one's, not an echo of the name
        # typed, and stays the same for the same name.
        self.assertRegex(unknown["ChallengeParameters"]["USERNAME"], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-")
        self.assertEqual(chosen["ChallengeParameters"]["USERNAME"], unknown["ChallengeParameters"]["USERNAME"])
        again = SHORT.initiate("mallory", preferred="EMAIL_OTP").json()
        self.assertEqual(again["ChallengeParameters"], chosen["ChallengeParameters"])
        for _ in range(2):
            self.assertError(SHORT.respond("EMAIL_OTP", again["Session"], "mallory", EMAIL_OTP_CODE="123456"),
                             "CodeMismatchException")
        self.assertError(SHORT.respond("EMAIL_OTP", again["Session"], "mallory", EMAIL_OTP_CODE="123456"),
                         "NotAuthorizedException")
        self.assertEqual(len(SHORT.lines("outbox.jsonl")), sent_before, "nothing is sent to an unknown user")


class TokenTests(StandinTestCase):
    def test_jwks_verifies_tokens(self):
        result = self.sign_in_by_email("alice", SECRET_CLIENT)
        jwks = MAIN.get(f"/{MAIN.pool_id}/.well-known/jwks.json").json()
        self.assertEqual(len(jwks["keys"]), 2)
        for key in jwks["keys"]:
            self.assertEqual((key["alg"], key["kty"], key["use"], key["e"]), ("RS256", "RSA", "sig", "AQAB"))
        id_header, _, _ = jwt_parts(result["IdToken"])
        access_header, _, _ = jwt_parts(result["AccessToken"])
        self.assertNotEqual(id_header["kid"], access_header["kid"])

        now = time.time()
        claims = verify_jwt(result["IdToken"], jwks)
        self.assertEqual(claims["iss"], MAIN.ready["issuer"])
        self.assertEqual(MAIN.ready["issuer"], f"https://127.0.0.1:{MAIN.port}/{MAIN.pool_id}")
        self.assertEqual((claims["aud"], claims["token_use"], claims["cognito:username"], claims["sub"]),
                         (SECRET_CLIENT, "id", "alice", ALICE_SUB))
        self.assertEqual((claims["email"], claims["email_verified"]), ("alice@example.com", True))
        self.assertTrue(claims["iat"] <= now + 5 and claims["exp"] > now + 3000 and claims["auth_time"])
        self.assertTrue(claims["jti"] and claims["event_id"])

        access = verify_jwt(result["AccessToken"], jwks)
        self.assertNotIn("aud", access)
        self.assertEqual((access["client_id"], access["token_use"], access["scope"], access["username"]),
                         (SECRET_CLIENT, "access", "aws.cognito.signin.user.admin", "alice"))

        tampered = result["IdToken"].rsplit(".", 1)[0] + "." + jwt_parts(result["AccessToken"])[2]
        with self.assertRaises(InvalidSignature):
            verify_jwt(tampered, jwks)

    def test_openid_configuration(self):
        config = MAIN.get(f"/{MAIN.pool_id}/.well-known/openid-configuration").json()
        self.assertEqual(config["issuer"], MAIN.ready["issuer"])
        self.assertEqual(config["jwks_uri"], MAIN.ready["jwks_url"])
        self.assertEqual(MAIN.get("/us-east-1_Other/.well-known/jwks.json").status, 404)


class TransportTests(StandinTestCase):
    def test_error_format_and_request_validation(self):
        reply = MAIN.initiate("nobody")
        self.assertError(reply, "UserNotFoundException", "User does not exist.")
        self.assertEqual(reply.json(), {"__type": "UserNotFoundException", "message": "User does not exist."})
        self.assertError(MAIN.post("GetBananas", {}), "UnknownOperationException")
        self.assertError(MAIN.post("InitiateAuth", {"AuthFlow": "USER_AUTH"}, content_type="application/json"),
                         "SerializationException")
        self.assertError(MAIN.post("InitiateAuth", None, raw=b"{not json"), "SerializationException")
        too_big = MAIN.post("InitiateAuth", None, raw=b"{" + b" " * (65 * 1024) + b"}")
        self.assertError(too_big, "SerializationException", status=413)

    def test_keep_alive_and_request_log(self):
        connection = MAIN.connection()
        try:
            start = MAIN.post("InitiateAuth", {"AuthFlow": "USER_AUTH", "ClientId": PUBLIC, "AuthParameters": {
                "USERNAME": "alice", "PREFERRED_CHALLENGE": "EMAIL_OTP"}}, connection=connection).json()
            code = MAIN.latest_code("alice@example.com")
            MAIN.post("InitiateAuth", {"AuthFlow": "USER_AUTH", "ClientId": PUBLIC,
                                       "AuthParameters": {"USERNAME": "nobody"}}, connection=connection)
            done = MAIN.post("RespondToAuthChallenge", {
                "ClientId": PUBLIC, "ChallengeName": "EMAIL_OTP", "Session": start["Session"],
                "ChallengeResponses": {"USERNAME": "alice", "EMAIL_OTP_CODE": code}}, connection=connection).json()
        finally:
            connection.close()
        MAIN.initiate("bob")  # its own connection
        log = MAIN.lines("requests.jsonl")
        reused, separate = log[-4:-1], log[-1]
        self.assertEqual([(r["op"], r["status"], r["username"]) for r in reused],
                         [("InitiateAuth", 200, "alice"), ("InitiateAuth", 400, "nobody"),
                          ("RespondToAuthChallenge", 200, "alice")])
        self.assertEqual(len({r["connection"] for r in reused}), 1)
        self.assertNotEqual(separate["connection"], reused[0]["connection"])
        self.assertEqual(reused[0]["client_id"], PUBLIC)
        with open(os.path.join(MAIN.state, "requests.jsonl")) as f:
            text = f.read()
        tokens = done["AuthenticationResult"]
        for secret in (code, start["Session"], tokens["IdToken"], tokens["RefreshToken"], SECRET):
            self.assertNotIn(secret, text)

    def test_concurrent_requests(self):
        statuses = []
        threads = [threading.Thread(target=lambda: statuses.append(MAIN.initiate("alice").status))
                   for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(statuses, [200] * 8)

    def test_state_files(self):
        self.assertEqual(MAIN.ready["pid"], MAIN.process.pid)
        self.assertEqual(MAIN.ready["url"], f"https://127.0.0.1:{MAIN.port}/")
        self.assertEqual(MAIN.ready["jwks_url"], MAIN.ready["issuer"] + "/.well-known/jwks.json")
        self.assertEqual(MAIN.ready["ca_file"], os.path.join(os.path.abspath(MAIN.state), "ca.pem"))
        for key in ("server.key", "untrusted.key", "wrong-host.key", "expired.key"):
            self.assertEqual(os.stat(os.path.join(MAIN.state, key)).st_mode & 0o777, 0o600, key)
        self.assertIsNone(MAIN.latest_code("nobody@example.com"))


class ControlTests(StandinTestCase):
    def tearDown(self):
        MAIN.control()

    def test_faults(self):
        MAIN.control(fault="http_500")
        self.assertError(MAIN.initiate("alice"), "InternalErrorException", status=500)

        MAIN.control(fault="malformed")
        reply = MAIN.initiate("alice")
        self.assertEqual(reply.status, 200)
        with self.assertRaises(ValueError):
            reply.json()

        MAIN.control(fault="drop")
        with self.assertRaises(http.client.RemoteDisconnected):
            MAIN.initiate("alice")

        MAIN.control(fault="truncated")
        with self.assertRaises(http.client.IncompleteRead):
            MAIN.initiate("alice")

        MAIN.control(fault="huge")
        reply = MAIN.initiate("alice")
        self.assertEqual(reply.status, 200)
        self.assertGreaterEqual(len(reply.raw), 10 * 1024 * 1024)

        MAIN.control(fault="invalid_utf8")
        reply = MAIN.initiate("alice")
        self.assertEqual(reply.status, 200)
        with self.assertRaises(UnicodeDecodeError):
            reply.raw.decode("utf-8")
        json.loads(reply.raw.decode("latin-1"))  # well-formed JSON apart from the encoding

        MAIN.control(fault="empty")
        reply = MAIN.initiate("alice")
        self.assertEqual((reply.status, reply.raw), (200, b""))

        faulted = [r for r in MAIN.lines("requests.jsonl") if r.get("fault")][-7:]
        self.assertEqual([r["fault"] for r in faulted],
                         ["http_500", "malformed", "drop", "truncated", "huge", "invalid_utf8", "empty"])
        self.assertIsNone(faulted[2]["status"])

    def test_duplicate_member(self):
        def pairs(raw: bytes):
            found = []
            json.loads(raw, object_pairs_hook=lambda items: found.append([k for k, _ in items]) or dict(items))
            return found

        MAIN.control(fault="duplicate_member", ops=["InitiateAuth", "jwks"])
        sent_before = len(MAIN.lines("outbox.jsonl"))
        reply = MAIN.initiate("bob", preferred="EMAIL_OTP")
        self.assertEqual(reply.status, 200)
        # Every object repeats its first member; the real value comes last, so a last-wins parser reads it.
        for names in pairs(reply.raw):
            self.assertEqual(names[0], names[1], names)
        body = reply.json()
        self.assertEqual(body["ChallengeName"], "EMAIL_OTP")
        self.assertEqual(body["ChallengeParameters"]["USERNAME"], "bob")
        self.assertIn(b'"ChallengeName":"duplicate"', reply.raw)
        self.assertEqual(len(MAIN.lines("outbox.jsonl")), sent_before + 1, "the operation still runs")
        self.assertEqual(MAIN.lines("requests.jsonl")[-1]["fault"], "duplicate_member")
        jwks = MAIN.get(f"/{MAIN.pool_id}/.well-known/jwks.json")
        self.assertEqual(pairs(jwks.raw)[-1][:2], ["keys", "keys"])
        self.assertTokens(MAIN.respond("EMAIL_OTP", body["Session"], "bob",
                                       EMAIL_OTP_CODE=MAIN.latest_code("bob@example.com")))

    def test_injected_error_and_ops_filter(self):
        MAIN.control(error={"name": "TooManyRequestsException", "message": "Rate exceeded", "status": 400},
                     ops=["RespondToAuthChallenge"])
        start = MAIN.initiate("bob", preferred="EMAIL_OTP")
        self.assertEqual(start.status, 200)
        code = MAIN.latest_code("bob@example.com")
        self.assertError(MAIN.respond("EMAIL_OTP", start.json()["Session"], "bob", EMAIL_OTP_CODE=code),
                         "TooManyRequestsException", "Rate exceeded")
        MAIN.control()
        self.assertTokens(MAIN.respond("EMAIL_OTP", start.json()["Session"], "bob", EMAIL_OTP_CODE=code))

    def test_delay(self):
        MAIN.control(delay_ms=5000, ops=["InitiateAuth"])
        began = time.monotonic()
        MAIN.get(f"/{MAIN.pool_id}/.well-known/jwks.json")
        self.assertLess(time.monotonic() - began, 2.5, "jwks is not in ops")

        MAIN.control(delay_ms=400, ops=["InitiateAuth"])
        began = time.monotonic()
        self.assertEqual(MAIN.initiate("alice").status, 200)
        self.assertGreaterEqual(time.monotonic() - began, 0.4)
        connection = MAIN.connection(timeout=0.1)
        try:
            with self.assertRaises(TimeoutError):
                MAIN.post("InitiateAuth", {"AuthFlow": "USER_AUTH", "ClientId": PUBLIC,
                                           "AuthParameters": {"USERNAME": "alice"}}, connection=connection)
        finally:
            connection.close()

    def test_signed_in_delay(self):
        """Only the answer that signs the person in waits: a wrong code is refused at once."""
        MAIN.control(signed_in_delay_ms=600)
        start = MAIN.initiate("bob", preferred="EMAIL_OTP")
        self.assertEqual(start.status, 200)
        code = MAIN.latest_code("bob@example.com")
        began = time.monotonic()
        wrong = MAIN.respond("EMAIL_OTP", start.json()["Session"], "bob", EMAIL_OTP_CODE="00000000")
        self.assertError(wrong, "CodeMismatchException")
        self.assertLess(time.monotonic() - began, 0.5, "a refusal is not delayed")
        began = time.monotonic()
        self.assertTokens(MAIN.respond("EMAIL_OTP", wrong.json().get("Session", start.json()["Session"]), "bob",
                                       EMAIL_OTP_CODE=code))
        self.assertGreaterEqual(time.monotonic() - began, 0.6)
        MAIN.control(signed_in_delay_ms=-1)
        self.assertError(MAIN.initiate("alice"), "InternalErrorException", status=500)
        MAIN.control()

    def test_code_sent_delay(self):
        """Only an answer that sent a code waits: the method menu does not."""
        MAIN.control(code_sent_delay_ms=600)
        began = time.monotonic()
        menu = MAIN.initiate("alice")
        self.assertEqual(menu.json()["ChallengeName"], "SELECT_CHALLENGE")
        self.assertLess(time.monotonic() - began, 0.5, "the menu sends nothing")
        began = time.monotonic()
        sent = MAIN.initiate("alice", preferred="EMAIL_OTP")
        self.assertEqual(sent.json()["ChallengeName"], "EMAIL_OTP")
        self.assertGreaterEqual(time.monotonic() - began, 0.6)
        MAIN.control()

    def test_jwks_down_and_rotated(self):
        jwks_path = f"/{MAIN.pool_id}/.well-known/jwks.json"
        MAIN.control(jwks="down")
        self.assertError(MAIN.get(jwks_path), "InternalErrorException", status=500)
        self.assertEqual(MAIN.initiate("alice").status, 200, "only the JWKS is down")

        MAIN.control(fault="invalid_utf8", ops=["jwks"])
        with self.assertRaises(UnicodeDecodeError):
            MAIN.get(jwks_path).raw.decode("utf-8")

        MAIN.control()
        before = MAIN.get(jwks_path).json()
        old_token = self.sign_in_by_email("bob")["IdToken"]
        MAIN.control(jwks="rotated")
        after = MAIN.get(jwks_path).json()
        new_token = self.sign_in_by_email("bob")["IdToken"]
        old_kid, new_kid = jwt_parts(old_token)[0]["kid"], jwt_parts(new_token)[0]["kid"]
        self.assertNotEqual(old_kid, new_kid)
        self.assertEqual({k["kid"] for k in after["keys"]},
                         {k["kid"] for k in before["keys"]} - {old_kid} | {new_kid})
        verify_jwt(new_token, after)
        with self.assertRaises(StopIteration):
            verify_jwt(old_token, after)
        self.assertEqual(MAIN.get(jwks_path).json(), after, "rotated once, not on every request")

    def test_tls_modes(self):
        def handshake():
            with socket.create_connection(("127.0.0.1", MAIN.port), timeout=10) as raw:
                with MAIN.tls.wrap_socket(raw, server_hostname="127.0.0.1"):
                    pass

        expected = {"untrusted": "unable to get local issuer certificate",
                    "wrong_host": "IP address mismatch",
                    "expired": "certificate has expired"}
        for mode, message in expected.items():
            with self.subTest(mode=mode):
                MAIN.control(tls=mode)
                with self.assertRaises(ssl.SSLCertVerificationError) as caught:
                    handshake()
                self.assertIn(message, caught.exception.verify_message)
        MAIN.control(tls="ok")
        handshake()

        # The broken certificates are broken in exactly one way each.
        def load(name):
            with open(os.path.join(MAIN.state, name), "rb") as f:
                return x509.load_pem_x509_certificate(f.read())
        ca = load("ca.pem")
        self.assertNotEqual(load("untrusted.pem").issuer, ca.subject)
        self.assertEqual(load("wrong-host.pem").issuer, ca.subject)
        expired = load("expired.pem")
        self.assertEqual(expired.issuer, ca.subject)
        self.assertLess(expired.not_valid_after.timestamp(), time.time())

    def test_one_factor_skips_select(self):
        # The documented answer first: SELECT_CHALLENGE even for bob's one factor, and no code sent.
        sent_before = len(MAIN.lines("outbox.jsonl"))
        reply = MAIN.initiate("bob")
        self.assertEqual(reply.status, 200, reply.raw)
        self.assertEqual(reply.json()["ChallengeName"], "SELECT_CHALLENGE")
        self.assertEqual(len(MAIN.lines("outbox.jsonl")), sent_before)
        # The observed one: straight to the one factor, the code sent with the answer.
        MAIN.control(one_factor_skips_select=True)
        reply = MAIN.initiate("bob")
        self.assertEqual(reply.status, 200, reply.raw)
        answer = reply.json()
        self.assertEqual(answer["ChallengeName"], "EMAIL_OTP")
        self.assertEqual(answer["AvailableChallenges"], ["EMAIL_OTP"])
        self.assertEqual(len(MAIN.lines("outbox.jsonl")), sent_before + 1)
        code = MAIN.latest_code("bob@example.com")
        reply = MAIN.respond("EMAIL_OTP", answer["Session"], "bob", EMAIL_OTP_CODE=code)
        self.assertEqual(reply.status, 200, reply.raw)
        self.assertIn("AuthenticationResult", reply.json())
        # A user with two factors still gets the menu.
        reply = MAIN.initiate("alice")
        self.assertEqual(reply.json()["ChallengeName"], "SELECT_CHALLENGE")
        # A preference bob cannot use is answered with the documented menu, sending nothing...
        sent_before = len(MAIN.lines("outbox.jsonl"))
        reply = MAIN.initiate("bob", preferred="WEB_AUTHN")
        self.assertEqual(reply.json()["ChallengeName"], "SELECT_CHALLENGE", reply.raw)
        self.assertEqual(len(MAIN.lines("outbox.jsonl")), sent_before)
        # ...unless told to skip that too (documented nowhere): then the code goes with the answer.
        MAIN.control(one_factor_skips_select=True, one_factor_skips_preference=True)
        reply = MAIN.initiate("bob", preferred="WEB_AUTHN")
        self.assertEqual(reply.json()["ChallengeName"], "EMAIL_OTP", reply.raw)
        self.assertEqual(len(MAIN.lines("outbox.jsonl")), sent_before + 1)

    def test_invalid_control_file_fails_loudly(self):
        for text in ('{"fualt": "drop"}', '{"fault": "drop", "ops": ["IntiateAuth"]}', '{"tls": "ok"',
                     '{"withdrawn_factors": {"alice": ["SMS"]}}', '{"withdrawn_factors": ["alice"]}',
                     '{"one_factor_skips_select": 1}', '{"id_token_amr": "none"}'):
            with self.subTest(control=text):
                write_atomically(os.path.join(MAIN.state, "control.json"), text)
                self.assertError(MAIN.initiate("alice"), "InternalErrorException", status=500)


def main():
    global WORK_DIR
    parser = argparse.ArgumentParser()
    parser.add_argument("--work-dir", required=True, help="directory for state and logs (created)")
    args, rest = parser.parse_known_args()
    WORK_DIR = os.path.abspath(args.work_dir)
    os.makedirs(WORK_DIR, exist_ok=True)
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


if __name__ == "__main__":
    main()
