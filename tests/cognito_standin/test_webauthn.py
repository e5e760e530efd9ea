#!/usr/bin/python3
"""Self-test of the stand-in's passkey (WebAuthn) features: sign-in with the WEB_AUTHN challenge, and
StartWebAuthnRegistration / CompleteWebAuthnRegistration / ListWebAuthnCredentials / DeleteWebAuthnCredential.

  /usr/bin/python3 test_webauthn.py --work-dir DIR [unittest options]

The authenticator side (keys, COSE, CBOR, authenticator data, clientDataJSON, attestation objects, assertions)
is built here with `cryptography` and a CBOR encoder of this file, independently of the stand-in's code, so a
bug shared by both sides cannot hide. Only the CBOR decoder is also tested directly, with RFC 8949 vectors.
Nothing sleeps: expiry is reached by moving the stand-in's clock (control.json clock_offset_s).
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import struct
import sys
import unittest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

sys.dont_write_bytecode = True
import test_cognito_standin as harness  # noqa: E402
from test_cognito_standin import (PUBLIC, SECRET_CLIENT, Standin, StandinTestCase, jwt_parts,  # noqa: E402
                                  secret_hash)

sys.path.insert(0, harness.HERE)
import standin_cbor  # noqa: E402  (only for the decoder's own tests)

OTHER_CLIENT = "otherpublicclient"
ES256, RS256 = -7, -257
UP, UV, AT, ED = 0x01, 0x04, 0x40, 0x80
DEFAULT_RP = "auth.example.test"
UV_RP = "login.example.test"


# ---- the authenticator side ---------------------------------------------------------------------------------

def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def cbor(value) -> bytes:
    """A CBOR encoder (definite lengths, shortest heads), enough for WebAuthn structures."""
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
            if n < 1 << (8 * size):
                return bytes([major << 5 | info]) + n.to_bytes(size, "big")
        raise ValueError(n)
    if value is False:
        return b"\xf4"
    if value is True:
        return b"\xf5"
    if value is None:
        return b"\xf6"
    if isinstance(value, int):
        return head(0, value) if value >= 0 else head(1, -1 - value)
    if isinstance(value, bytes):
        return head(2, len(value)) + value
    if isinstance(value, str):
        raw = value.encode()
        return head(3, len(raw)) + raw
    if isinstance(value, list):
        return head(4, len(value)) + b"".join(cbor(v) for v in value)
    if isinstance(value, dict):
        return head(5, len(value)) + b"".join(cbor(k) + cbor(v) for k, v in value.items())
    raise TypeError(type(value))


def client_data(type_: str, challenge: str, origin: str, cross_origin=False) -> bytes:
    data = {"type": type_, "challenge": challenge, "origin": origin}
    if cross_origin is not None:
        data["crossOrigin"] = cross_origin
    return json.dumps(data, separators=(",", ":")).encode()


def self_signed_certificate(key) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test attestation")])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256())).public_bytes(serialization.Encoding.DER)


class Authenticator:
    """One credential on a software authenticator. `counter_step` 0 models authenticators that always report
    a signature counter of 0."""

    def __init__(self, alg: int = ES256, counter_step: int = 1):
        self.alg = alg
        self.private = (ec.generate_private_key(ec.SECP256R1()) if alg == ES256
                        else rsa.generate_private_key(public_exponent=65537, key_size=2048))
        self.credential_id = os.urandom(32)
        self.counter_step = counter_step
        self.sign_count = 0

    @property
    def id(self) -> str:
        return b64url(self.credential_id)

    def cose(self) -> bytes:
        if self.alg == ES256:
            numbers = self.private.public_key().public_numbers()
            return cbor({1: 2, 3: ES256, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})
        numbers = self.private.public_key().public_numbers()
        return cbor({1: 3, 3: RS256, -1: numbers.n.to_bytes(256, "big"), -2: numbers.e.to_bytes(3, "big")})

    def spki(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.DER,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)

    def sign(self, data: bytes) -> bytes:
        if self.alg == ES256:
            return self.private.sign(data, ec.ECDSA(hashes.SHA256()))
        return self.private.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def next_count(self) -> int:
        self.sign_count += self.counter_step
        return self.sign_count

    def pool_entry(self, **extra) -> dict:
        if self.alg == ES256:
            return {"credential_id": self.id, "public_key_cose": b64url(self.cose()), **extra}
        return {"credential_id": self.id, "public_key_spki": b64url(self.spki()), **extra}

    def register(self, options: dict, origin: str = None, rp_id: str = None, flags: int = UP | UV,
                 fmt: str = "none", type_: str = "webauthn.create", challenge: str = None, statement=None,
                 cose: bytes = None, attested_id: bytes = None, cross_origin=False, response_extra=None,
                 attachment="cross-platform", transports=("usb",)) -> dict:
        """A RegistrationResponseJSON as Amplify serialises it (§6.2 of the spec)."""
        rp_id = rp_id or options["rp"]["id"]
        origin = origin or f"https://{options['rp']['id']}"
        cdata = client_data(type_, challenge or options["challenge"], origin, cross_origin)
        credential_id = self.credential_id if attested_id is None else attested_id
        key = cose or self.cose()
        auth_data = (hashlib.sha256(rp_id.encode()).digest() + bytes([flags | AT]) + struct.pack(">I", 0)
                     + bytes(16) + struct.pack(">H", len(credential_id)) + credential_id + key)
        signed = auth_data + hashlib.sha256(cdata).digest()
        if statement is None:
            if fmt == "packed":
                statement = {"alg": self.alg, "sig": self.sign(signed)}
            elif fmt == "packed-x5c":
                attestation_key = ec.generate_private_key(ec.SECP256R1())
                statement = {"alg": ES256, "sig": attestation_key.sign(signed, ec.ECDSA(hashes.SHA256())),
                             "x5c": [self_signed_certificate(attestation_key)]}
            else:
                statement = {}
        attestation = cbor({"fmt": "packed" if fmt == "packed-x5c" else fmt, "attStmt": statement,
                            "authData": auth_data})
        response = {"clientDataJSON": b64url(cdata), "attestationObject": b64url(attestation),
                    "transports": list(transports), "publicKeyAlgorithm": self.alg, "publicKey": b64url(self.spki()),
                    "authenticatorData": b64url(auth_data), **(response_extra or {})}
        credential = {"type": "public-key", "id": self.id, "rawId": self.id, "clientExtensionResults": {},
                      "response": response}
        if attachment:
            credential["authenticatorAttachment"] = attachment
        return credential

    def assertion(self, options: dict, origin: str = None, rp_id: str = None, flags: int = UP | UV,
                  type_: str = "webauthn.get", challenge: str = None, user_handle: bytes = None,
                  count: int = None, cross_origin=False, bad_signature=False, raw_signature=False,
                  credential_id: str = None) -> dict:
        """An AuthenticationResponseJSON (§3.3 of the spec) for CREDENTIAL_REQUEST_OPTIONS `options`."""
        rp_id = rp_id or options["rpId"]
        origin = origin or f"https://{options['rpId']}"
        cdata = client_data(type_, challenge or options["challenge"], origin, cross_origin)
        count = self.next_count() if count is None else count
        auth_data = hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", count)
        signature = self.sign(auth_data + hashlib.sha256(cdata).digest())
        if bad_signature:
            signature = self.sign(auth_data + hashlib.sha256(cdata + b" ").digest())
        if raw_signature:
            r, s = decode_dss_signature(signature)
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        response = {"clientDataJSON": b64url(cdata), "authenticatorData": b64url(auth_data),
                    "signature": b64url(signature)}
        if user_handle is not None:
            response["userHandle"] = b64url(user_handle)
        cid = credential_id or self.id
        return {"id": cid, "rawId": cid, "type": "public-key", "response": response, "clientExtensionResults": {},
                "authenticatorAttachment": "cross-platform"}


# ---- the pools ------------------------------------------------------------------------------------------------

PAT_ES = Authenticator(ES256)
PAT_RS = Authenticator(RS256)
UMA_ZERO = Authenticator(ES256, counter_step=0)
VIC = Authenticator(ES256)
XENA = Authenticator(ES256)
PAT_SUB = "0f8fad5b-d9cb-469f-a165-70867728950e"

USERS = ("pat", "quinn", "rita", "sam", "uma", "yann", "nora")  # nora never has a passkey
WEBAUTHN_POOL = {
    "pool_id": "us-east-1_WebAuthn",
    "clients": [
        {"client_id": PUBLIC}, {"client_id": SECRET_CLIENT, "client_secret": harness.SECRET},
        {"client_id": OTHER_CLIENT},
    ],
    # "webauthn" left out: the defaults (auth.example.test, preferred, https://auth.example.test) are tested.
    "users": [{"username": name, "email": f"{name}@example.com", "email_verified": True} for name in USERS],
}
WEBAUTHN_POOL["users"][0].update(sub=PAT_SUB, passkeys=[
    PAT_ES.pool_entry(),
    PAT_RS.pool_entry(sign_count=5, transports=["usb", "nfc"], friendly_name="Blue key", created_at=1736293876.115),
])
WEBAUTHN_POOL["users"][4]["passkeys"] = [UMA_ZERO.pool_entry(authenticator_attachment=None)]
UV_POOL = {
    "pool_id": "eu-central-1_WebAuthnUV",
    "clients": [{"client_id": PUBLIC}],
    "webauthn": {"relying_party_id": UV_RP, "user_verification": "required", "registration_timeout_ms": 5000,
                 "origins": [f"https://{UV_RP}", "https://*.apps.example.test", "android:apk-key-hash:abc123"]},
    "users": [{"username": "vic", "email": "vic@example.com", "email_verified": True,
               "passkeys": [VIC.pool_entry(transports=["internal"], authenticator_attachment="platform")]},
              {"username": "walt", "email": "walt@example.com", "email_verified": True}],
}
OFF_POOL = {
    "pool_id": "us-west-2_NoPasskeys",
    "clients": [{"client_id": PUBLIC}],
    "allowed_first_auth_factors": ["EMAIL_OTP"],
    "users": [{"username": "xena", "email": "xena@example.com", "email_verified": True,
               "passkeys": [XENA.pool_entry()]}],
}

WA = UVS = OFF = None


def setUpModule():
    global WA, UVS, OFF
    WA = Standin("webauthn", WEBAUTHN_POOL)
    UVS = Standin("webauthn-uv", UV_POOL)
    OFF = Standin("webauthn-off", OFF_POOL)
    try:
        for standin in (WA, UVS, OFF):
            standin.wait_ready()
    except Exception:
        tearDownModule()
        raise


def tearDownModule():
    problems = [f"{s.dir}: exit status {status}" for s in (WA, UVS, OFF) if s is not None
                for status in [s.stop()] if status != 0]
    if problems:
        raise AssertionError("; ".join(problems))


# ---- helpers ------------------------------------------------------------------------------------------------

class WebAuthnTestCase(StandinTestCase):
    def tearDown(self):
        for standin in (WA, UVS, OFF):
            standin.control()

    def access_token(self, standin, username, client_id=PUBLIC) -> str:
        """Signs in by EMAIL_OTP and returns the access token."""
        extra = {"SECRET_HASH": secret_hash(username)} if client_id == SECRET_CLIENT else {}
        start = standin.initiate(username, client_id, preferred="EMAIL_OTP", **extra).json()
        code = standin.latest_code(f"{username}@example.com")
        return self.assertTokens(standin.respond("EMAIL_OTP", start["Session"], username, client_id,
                                                 EMAIL_OTP_CODE=code, **extra))["AccessToken"]

    def passkey_challenge(self, standin, username, client_id=PUBLIC, **params):
        """InitiateAuth with PREFERRED_CHALLENGE WEB_AUTHN; returns (session, parsed options)."""
        reply = standin.initiate(username, client_id, preferred="WEB_AUTHN", **params)
        self.assertEqual(reply.status, 200, reply.raw)
        body = reply.json()
        self.assertEqual(body["ChallengeName"], "WEB_AUTHN", body)
        self.assertEqual(sorted(body["ChallengeParameters"]), ["CREDENTIAL_REQUEST_OPTIONS", "USERNAME"])
        return body["Session"], json.loads(body["ChallengeParameters"]["CREDENTIAL_REQUEST_OPTIONS"])

    def answer(self, standin, session, username, credential: dict, client_id=PUBLIC, **extra):
        return standin.respond("WEB_AUTHN", session, username, client_id,
                               CREDENTIAL=json.dumps(credential, separators=(",", ":")), **extra)

    def refused(self, reply, fragment: str):
        self.assertError(reply, "NotAuthorizedException")
        message = reply.json()["message"]
        self.assertTrue(message.startswith("Passkey not accepted: "), message)
        self.assertIn(fragment, message)

    def start(self, standin, token) -> dict:
        reply = standin.post("StartWebAuthnRegistration", {"AccessToken": token})
        self.assertEqual(reply.status, 200, reply.raw)
        return reply.json()["CredentialCreationOptions"]

    def complete(self, standin, token, credential):
        return standin.post("CompleteWebAuthnRegistration", {"AccessToken": token, "Credential": credential})

    def complete_ok(self, standin, token, credential):
        reply = self.complete(standin, token, credential)
        self.assertEqual((reply.status, reply.raw), (200, b""))
        self.assertEqual(reply.headers["Content-Type"], harness.AMZ_JSON)

    def list_all(self, standin, token, **params) -> dict:
        reply = standin.post("ListWebAuthnCredentials", {"AccessToken": token, **params})
        self.assertEqual(reply.status, 200, reply.raw)
        return reply.json()


# ---- sign-in ------------------------------------------------------------------------------------------------

class SignInTests(WebAuthnTestCase):
    def test_request_options(self):
        reply = WA.initiate("pat", preferred="WEB_AUTHN").json()
        self.assertEqual(reply["AvailableChallenges"], ["EMAIL_OTP", "WEB_AUTHN"])
        self.assertTrue(reply["Session"].startswith("AYAB"))
        text = reply["ChallengeParameters"]["CREDENTIAL_REQUEST_OPTIONS"]
        self.assertIsInstance(text, str)
        options = json.loads(text)
        self.assertEqual(list(options), ["challenge", "timeout", "rpId", "allowCredentials", "userVerification",
                                         "hints", "attestation", "attestationFormats"])
        self.assertRegex(options["challenge"], r"^[A-Za-z0-9_-]{22}$")
        self.assertEqual(len(b64url_decode(options["challenge"])), 16)
        self.assertEqual((options["timeout"], options["rpId"], options["userVerification"]),
                         (180000, DEFAULT_RP, "preferred"))
        self.assertEqual(options["allowCredentials"], [
            {"type": "public-key", "id": PAT_ES.id, "transports": []},
            {"type": "public-key", "id": PAT_RS.id, "transports": ["usb", "nfc"]}])
        self.assertEqual((options["hints"], options["attestation"], options["attestationFormats"]), ([], "none", []))
        _, again = self.passkey_challenge(WA, "pat")
        self.assertNotEqual(again["challenge"], options["challenge"])
        # The UV pool says "required", and its own RP id.
        _, strict = self.passkey_challenge(UVS, "vic")
        self.assertEqual((strict["rpId"], strict["userVerification"]), (UV_RP, "required"))
        self.assertEqual(strict["allowCredentials"], [{"type": "public-key", "id": VIC.id, "transports": ["internal"]}])

    def test_es256_sign_in(self):
        session, options = self.passkey_challenge(WA, "pat")
        # UP without UV is enough when the pool only prefers UV; the user handle is the UTF-8 sub.
        credential = PAT_ES.assertion(options, flags=UP, user_handle=PAT_SUB.encode())
        result = self.assertTokens(self.answer(WA, session, "pat", credential))
        self.assertEqual(jwt_parts(result["IdToken"])[1]["sub"], PAT_SUB)
        self.refused_reuse(session, credential)

    def refused_reuse(self, session, credential):
        self.assertError(self.answer(WA, session, "pat", credential), "NotAuthorizedException",
                         "Invalid session for the user, session can only be used once.")

    def test_rs256_through_select_challenge(self):
        first = WA.initiate("pat").json()
        self.assertEqual(first["ChallengeName"], "SELECT_CHALLENGE")
        self.assertEqual(first["AvailableChallenges"], ["EMAIL_OTP", "WEB_AUTHN"])
        chosen = WA.respond("SELECT_CHALLENGE", first["Session"], "pat", ANSWER="WEB_AUTHN").json()
        self.assertEqual(chosen["ChallengeName"], "WEB_AUTHN")
        self.assertNotIn("AvailableChallenges", chosen)
        options = json.loads(chosen["ChallengeParameters"]["CREDENTIAL_REQUEST_OPTIONS"])
        PAT_RS.sign_count = max(PAT_RS.sign_count, 5)  # the pool file says 5
        self.assertTokens(self.answer(WA, chosen["Session"], "pat", PAT_RS.assertion(options)))

    def test_secret_client_and_alias(self):
        session, options = self.passkey_challenge(WA, "pat@example.com", SECRET_CLIENT,
                                                  SECRET_HASH=secret_hash("pat@example.com"))
        credential = PAT_ES.assertion(options)
        self.assertError(self.answer(WA, session, "pat", credential, SECRET_CLIENT), "NotAuthorizedException",
                         f"Client {SECRET_CLIENT} is configured with secret but SECRET_HASH was not received")
        self.assertTokens(self.answer(WA, session, "pat", credential, SECRET_CLIENT, SECRET_HASH=secret_hash("pat")))

    def test_refusals(self):
        stranger = Authenticator(ES256)
        cases = {
            "wrong origin": (dict(origin="https://evil.example.test"), "origin 'https://evil.example.test'"),
            "http origin": (dict(origin=f"http://{DEFAULT_RP}"), "is not allowed"),
            "cross origin": (dict(cross_origin=True), "crossOrigin is true"),
            "create type": (dict(type_="webauthn.create"), "'webauthn.create', expected 'webauthn.get'"),
            "wrong challenge": (dict(challenge=b64url(os.urandom(16))), "not this sign-in's challenge"),
            "wrong rp id": (dict(rp_id="example.test"), "rpIdHash"),
            "no user presence": (dict(flags=UV), "(UP)"),
            "bad signature": (dict(bad_signature=True), "signature does not verify"),
            "raw r||s signature": (dict(raw_signature=True), "signature does not verify"),
            "user handle of another": (dict(user_handle=b"someone-else"), "userHandle"),
            "credential not allowed": (dict(credential_id=stranger.id), "not in allowCredentials"),
        }
        for name, (kwargs, fragment) in cases.items():
            with self.subTest(name):
                session, options = self.passkey_challenge(WA, "pat")
                self.refused(self.answer(WA, session, "pat", PAT_ES.assertion(options, **kwargs)), fragment)
        with self.subTest("a key not registered to anyone, listed as if allowed"):
            session, options = self.passkey_challenge(WA, "pat")
            self.refused(self.answer(WA, session, "pat", stranger.assertion(options)), "not in allowCredentials")
        with self.subTest("another user's registered passkey"):
            session, options = self.passkey_challenge(WA, "uma")
            self.refused(self.answer(WA, session, "uma", PAT_ES.assertion(options)), "not in allowCredentials")

    def test_malformed_credentials(self):
        def signature_padded(c):
            c["response"]["signature"] += "="
        cases = {
            "id differs from rawId": (lambda c: c.update(rawId=PAT_RS.id), "rawId must equal"),
            "type": (lambda c: c.update(type="password"), "type must be"),
            "padding": (signature_padded, "response.signature is not base64url"),
            "standard alphabet": (lambda c: c["response"].update(userHandle="ab+/"), "response.userHandle"),
            "no authenticatorData": (lambda c: c["response"].pop("authenticatorData"), "response.authenticatorData"),
            "short authenticatorData": (lambda c: c["response"].update(authenticatorData=b64url(b"x" * 36)),
                                        "at least 37"),
            "trailing authenticatorData": (lambda c: c["response"].update(authenticatorData=c["response"][
                "authenticatorData"] + "AA"), "unexpected byte"),
            "clientDataJSON not JSON": (lambda c: c["response"].update(clientDataJSON=b64url(b"{oops")),
                                        "clientDataJSON is not UTF-8 JSON"),
            "response not an object": (lambda c: c.update(response="x"), "response must be an object"),
        }
        # Each refusal is a wrong answer and a session takes only max_code_attempts (3): one session each.
        for name, (change, fragment) in cases.items():
            with self.subTest(name):
                session, options = self.passkey_challenge(WA, "pat")
                credential = PAT_ES.assertion(options)
                change(credential)
                self.refused(self.answer(WA, session, "pat", credential), fragment)
        session, _ = self.passkey_challenge(WA, "pat")
        self.refused(WA.respond("WEB_AUTHN", session, "pat", CREDENTIAL="not json"), "CREDENTIAL is not JSON")
        self.assertError(WA.respond("WEB_AUTHN", session, "pat"), "InvalidParameterException",
                         "Missing required parameter CREDENTIAL")

    def test_refusal_keeps_session_until_attempts_run_out(self):
        session, options = self.passkey_challenge(WA, "pat")
        self.refused(self.answer(WA, session, "pat", PAT_ES.assertion(options, origin="https://x.test")), "origin")
        self.assertTokens(self.answer(WA, session, "pat", PAT_ES.assertion(options)))

        session, options = self.passkey_challenge(WA, "pat")
        for _ in range(3):
            self.refused(self.answer(WA, session, "pat", PAT_ES.assertion(options, bad_signature=True)), "signature")
        self.assertError(self.answer(WA, session, "pat", PAT_ES.assertion(options)), "NotAuthorizedException",
                         "Invalid session for the user.")

    def test_signature_counter(self):
        session, options = self.passkey_challenge(WA, "pat")
        accepted = PAT_ES.next_count() + 10
        PAT_ES.sign_count = accepted
        self.assertTokens(self.answer(WA, session, "pat", PAT_ES.assertion(options, count=accepted)))
        for count, label in ((accepted, "equal"), (accepted - 1, "lower"), (0, "zero")):
            with self.subTest(label):
                session, options = self.passkey_challenge(WA, "pat")
                self.refused(self.answer(WA, session, "pat", PAT_ES.assertion(options, count=count)),
                             f"signature counter {count} is not greater than the stored {accepted}")
        session, options = self.passkey_challenge(WA, "pat")
        self.assertTokens(self.answer(WA, session, "pat", PAT_ES.assertion(options)))
        with open(os.path.join(WA.state, "passkeys.json")) as f:
            stored = {p["credential_id"]: p for p in json.load(f)["users"]["pat"]}
        self.assertEqual(stored[PAT_ES.id]["sign_count"], PAT_ES.sign_count)

        # An authenticator that always reports 0 is accepted every time (stored and new are both 0).
        for _ in range(2):
            session, options = self.passkey_challenge(WA, "uma")
            self.assertTokens(self.answer(WA, session, "uma", UMA_ZERO.assertion(options)))

    def test_user_verification_required(self):
        session, options = self.passkey_challenge(UVS, "vic")
        self.refused(self.answer(UVS, session, "vic", VIC.assertion(options, flags=UP)), "(UV)")
        self.assertTokens(self.answer(UVS, session, "vic", VIC.assertion(options, flags=UP | UV)))

    def test_configured_origins(self):
        cases = {"https://a.apps.example.test": True, "https://b.c.apps.example.test": True,
                 "android:apk-key-hash:abc123": True, f"https://{UV_RP}": True,
                 "https://apps.example.test": False, "https://a.apps.example.test.evil": False,
                 f"http://{UV_RP}": False, f"https://{UV_RP}:8443": False}
        for origin, accepted in cases.items():
            with self.subTest(origin):
                session, options = self.passkey_challenge(UVS, "vic")
                reply = self.answer(UVS, session, "vic", VIC.assertion(options, origin=origin))
                if accepted:
                    self.assertTokens(reply)
                else:
                    self.refused(reply, "is not allowed")

    def test_expired_session(self):
        session, options = self.passkey_challenge(WA, "pat")
        WA.control(clock_offset_s=181)  # beyond the pool's 180 s session validity
        self.assertError(self.answer(WA, session, "pat", PAT_ES.assertion(options)), "NotAuthorizedException",
                         "Invalid session for the user, session is expired.")

    def test_eligibility(self):
        no_passkey = WA.initiate("nora", preferred="WEB_AUTHN").json()
        self.assertEqual((no_passkey["ChallengeName"], no_passkey["AvailableChallenges"]),
                         ("SELECT_CHALLENGE", ["EMAIL_OTP"]))
        self.assertError(WA.respond("SELECT_CHALLENGE", no_passkey["Session"], "nora", ANSWER="WEB_AUTHN"),
                         "InvalidParameterException")
        disabled = OFF.initiate("xena", preferred="WEB_AUTHN").json()
        self.assertEqual((disabled["ChallengeName"], disabled["AvailableChallenges"]),
                         ("SELECT_CHALLENGE", ["EMAIL_OTP"]))


# ---- registration and management --------------------------------------------------------------------------

class RegistrationTests(WebAuthnTestCase):
    def test_register_sign_in_list_delete(self):
        token = self.access_token(WA, "quinn")
        options = self.start(WA, token)
        quinn_sub = jwt_parts(token)[1]["sub"]
        self.assertEqual(options, {
            "challenge": options["challenge"],
            "rp": {"id": DEFAULT_RP, "name": DEFAULT_RP},
            "user": {"id": b64url(quinn_sub.encode()), "name": "quinn", "displayName": "quinn"},
            "pubKeyCredParams": [{"alg": -7, "type": "public-key"}, {"alg": -257, "type": "public-key"}],
            "timeout": 60000,
            "excludeCredentials": [],
            "authenticatorSelection": {"requireResidentKey": True, "residentKey": "required",
                                       "userVerification": "preferred"},
        })
        self.assertEqual(len(b64url_decode(options["challenge"])), 16)
        first = Authenticator(ES256)
        reply = self.complete(WA, token, first.register(options, flags=UP))
        self.assertEqual((reply.status, reply.raw), (200, b""))

        listed = self.list_all(WA, token)
        self.assertNotIn("NextToken", listed)
        [entry] = listed["Credentials"]
        self.assertEqual({k: v for k, v in entry.items() if k != "CreatedAt"}, {
            "CredentialId": first.id, "FriendlyCredentialName": "Roaming passkey", "RelyingPartyId": DEFAULT_RP,
            "AuthenticatorAttachment": "cross-platform", "AuthenticatorTransports": ["usb"]})
        self.assertIsInstance(entry["CreatedAt"], float)
        self.assertLess(abs(entry["CreatedAt"] - jwt_parts(token)[1]["iat"]), 60)

        # A registered passkey works for sign-in at once, and is excluded from the next registration.
        session, request = self.passkey_challenge(WA, "quinn")
        self.assertEqual([c["id"] for c in request["allowCredentials"]], [first.id])
        self.assertTokens(self.answer(WA, session, "quinn", first.assertion(request, user_handle=quinn_sub.encode())))
        second = Authenticator(RS256)
        options = self.start(WA, token)
        self.assertEqual(options["excludeCredentials"], [{"id": first.id, "type": "public-key"}])
        self.complete_ok(WA, token, second.register(options, fmt="packed", attachment="platform",
                                                    transports=("internal",)))
        listed = self.list_all(WA, token)["Credentials"]
        self.assertEqual([(c["CredentialId"], c["FriendlyCredentialName"], c["AuthenticatorTransports"])
                          for c in listed],
                         [(first.id, "Roaming passkey", ["usb"]), (second.id, "Platform passkey", ["internal"])])
        session, request = self.passkey_challenge(WA, "quinn")
        self.assertTokens(self.answer(WA, session, "quinn", second.assertion(request)))

        # Delete: a session begun before still lists it but is refused; a new one no longer offers it.
        old_session, old_request = self.passkey_challenge(WA, "quinn")
        reply = WA.post("DeleteWebAuthnCredential", {"AccessToken": token, "CredentialId": first.id})
        self.assertEqual((reply.status, reply.json()), (200, {}))
        self.refused(self.answer(WA, old_session, "quinn", first.assertion(old_request)),
                     "no longer registered")
        session, request = self.passkey_challenge(WA, "quinn")
        self.assertEqual([c["id"] for c in request["allowCredentials"]], [second.id])
        self.refused(self.answer(WA, session, "quinn", first.assertion(request)), "not in allowCredentials")
        self.assertEqual([c["CredentialId"] for c in self.list_all(WA, token)["Credentials"]], [second.id])
        self.assertError(WA.post("DeleteWebAuthnCredential", {"AccessToken": token, "CredentialId": first.id}),
                         "ResourceNotFoundException", "Credential not found.")
        # Another user's credential is not found either.
        self.assertError(WA.post("DeleteWebAuthnCredential", {"AccessToken": token, "CredentialId": PAT_ES.id}),
                         "ResourceNotFoundException")
        self.assertEqual(WA.lines("requests.jsonl")[-1]["username"], "quinn")

    def test_registration_refusals(self):
        token = self.access_token(WA, "sam")
        other_token = self.access_token(WA, "sam", OTHER_CLIENT)
        key = Authenticator(ES256)
        eddsa_key = cbor({1: 1, 3: -8, -1: 6, -2: os.urandom(32)})
        bad_packed = {"alg": ES256, "sig": key.sign(b"something else")}
        cases = [
            ("get type", dict(type_="webauthn.get"), "InvalidParameterException", "expected 'webauthn.create'"),
            ("unknown challenge", dict(challenge=b64url(os.urandom(16))), "WebAuthnChallengeNotFoundException", ""),
            ("wrong origin", dict(origin="https://evil.example.test"), "WebAuthnOriginNotAllowedException",
             "'https://evil.example.test'"),
            ("cross origin", dict(cross_origin=True), "WebAuthnOriginNotAllowedException", "crossOrigin"),
            ("wrong rp id", dict(rp_id="other.example.test"), "WebAuthnRelyingPartyMismatchException", "rpIdHash"),
            ("no user presence", dict(flags=UV), "InvalidParameterException", "(UP)"),
            ("EdDSA key", dict(cose=eddsa_key), "WebAuthnCredentialNotSupportedException", "algorithm -8"),
            ("tpm format", dict(fmt="tpm"), "WebAuthnCredentialNotSupportedException", "'tpm'"),
            ("packed, bad signature", dict(fmt="packed", statement=bad_packed), "InvalidParameterException",
             "does not verify"),
            ("packed, other alg", dict(fmt="packed", statement={"alg": RS256, "sig": b"x"}),
             "InvalidParameterException", "differs"),
            ("none with a statement", dict(statement={"sig": b"x"}), "InvalidParameterException", "empty attStmt"),
            ("attested id differs", dict(attested_id=os.urandom(32)), "InvalidParameterException", "rawId"),
            ("publicKey differs", dict(response_extra={"publicKey": b64url(PAT_ES.spki())}),
             "InvalidParameterException", "response.publicKey"),
            ("publicKeyAlgorithm differs", dict(response_extra={"publicKeyAlgorithm": RS256}),
             "InvalidParameterException", "publicKeyAlgorithm"),
            ("garbage attestationObject", dict(response_extra={"attestationObject": b64url(b"\xa3\x63fmt")}),
             "InvalidParameterException", "not valid CBOR"),
        ]
        for name, kwargs, error, fragment in cases:
            with self.subTest(name):
                reply = self.complete(WA, token, key.register(self.start(WA, token), **kwargs))
                self.assertError(reply, error)
                self.assertIn(fragment, reply.json()["message"])

        with self.subTest("id differs from rawId"):
            credential = key.register(self.start(WA, token))
            credential["rawId"] = PAT_ES.id
            self.assertError(self.complete(WA, token, credential), "InvalidParameterException")
        with self.subTest("Credential as a string"):
            credential = json.dumps(key.register(self.start(WA, token)))
            self.assertError(self.complete(WA, token, credential), "InvalidParameterException",
                             "Credential must be a RegistrationResponseJSON object")
        with self.subTest("Credential missing"):
            self.assertError(WA.post("CompleteWebAuthnRegistration", {"AccessToken": token}),
                             "InvalidParameterException")
        with self.subTest("a challenge is used up by a failed attempt"):
            options = self.start(WA, token)
            self.assertError(self.complete(WA, token, key.register(options, origin="https://evil.example.test")),
                             "WebAuthnOriginNotAllowedException")
            self.assertError(self.complete(WA, token, key.register(options)), "WebAuthnChallengeNotFoundException")
        with self.subTest("another user's challenge"):
            pat_options = self.start(WA, self.access_token(WA, "pat"))
            self.assertError(self.complete(WA, token, key.register(pat_options)), "WebAuthnChallengeNotFoundException")
        with self.subTest("access token of another client"):
            options = self.start(WA, token)
            self.assertError(self.complete(WA, other_token, key.register(options)), "WebAuthnClientMismatchException")
        with self.subTest("duplicates"):
            self.complete_ok(WA, token, key.register(self.start(WA, token), fmt="packed-x5c"))
            self.assertError(self.complete(WA, token, key.register(self.start(WA, token))),
                             "InvalidParameterException", "The credential is already registered.")
            self.assertError(self.complete(WA, token, PAT_ES.register(self.start(WA, token))),
                             "InvalidParameterException", "The credential is already registered.")
        # Nothing refused above was stored.
        self.assertEqual([c["CredentialId"] for c in self.list_all(WA, token)["Credentials"]], [key.id])

    def test_challenge_expiry(self):
        token = self.access_token(WA, "yann")
        options = self.start(WA, token)
        WA.control(clock_offset_s=61)  # beyond registration_timeout_ms 60000
        reply = self.complete(WA, token, Authenticator(ES256).register(options))
        self.assertError(reply, "WebAuthnChallengeNotFoundException", "The registration challenge has expired.")
        options = self.start(WA, token)
        self.complete_ok(WA, token, Authenticator(ES256).register(options))

    def test_user_verification_required(self):
        token = self.access_token(UVS, "walt")
        options = self.start(UVS, token)
        self.assertEqual(options["authenticatorSelection"]["userVerification"], "required")
        self.assertEqual(options["timeout"], 5000)
        key = Authenticator(RS256)
        self.assertError(self.complete(UVS, token, key.register(options, flags=UP)),
                         "WebAuthnCredentialNotSupportedException")
        # An origin matched by the pool's "https://*.apps.example.test"; an attachment value WebAuthn does not
        # define is ignored, as WebAuthn asks of relying parties.
        self.complete_ok(UVS, token, key.register(self.start(UVS, token), fmt="packed", attachment="hybrid",
                                                  origin="https://app.apps.example.test"))
        [listed] = self.list_all(UVS, token)["Credentials"]
        self.assertNotIn("AuthenticatorAttachment", listed)
        self.assertEqual((listed["FriendlyCredentialName"], listed["RelyingPartyId"]), ("Passkey", UV_RP))
        session, request = self.passkey_challenge(UVS, "walt")
        self.assertTokens(self.answer(UVS, session, "walt", key.assertion(request)))

    def test_limit_paging_and_exclude_list(self):
        token = self.access_token(WA, "rita")
        keys = [Authenticator(RS256 if n % 5 == 0 else ES256) for n in range(20)]
        for key in keys[:19]:
            self.complete_ok(WA, token, key.register(self.start(WA, token)))
        # Two registrations outstanding at 19: the first to complete takes the last place.
        spare = Authenticator(ES256)
        first, second = self.start(WA, token), self.start(WA, token)
        self.assertEqual([c["id"] for c in second["excludeCredentials"]], [k.id for k in keys[:19]])
        self.complete_ok(WA, token, keys[19].register(first))
        self.assertError(self.complete(WA, token, spare.register(second)), "LimitExceededException")
        self.assertError(WA.post("StartWebAuthnRegistration", {"AccessToken": token}), "LimitExceededException",
                         "A user can register at most 20 passkeys.")

        ids = [k.id for k in keys]
        self.assertEqual([c["CredentialId"] for c in self.list_all(WA, token)["Credentials"]], ids)
        self.assertEqual(len(self.list_all(WA, token, MaxResults=0)["Credentials"]), 20)
        pages, next_token = [], None
        while True:
            params = {"MaxResults": 7, **({"NextToken": next_token} if next_token else {})}
            page = self.list_all(WA, token, **params)
            pages.append([c["CredentialId"] for c in page["Credentials"]])
            next_token = page.get("NextToken")
            if next_token is None:
                break
        self.assertEqual([len(p) for p in pages], [7, 7, 6])
        self.assertEqual(sum(pages, []), ids)

        # A page token survives the deletion of the last credential it returned.
        page = self.list_all(WA, token, MaxResults=10)
        WA.post("DeleteWebAuthnCredential", {"AccessToken": token, "CredentialId": ids[9]})
        rest = self.list_all(WA, token, MaxResults=20, NextToken=page["NextToken"])
        self.assertEqual([c["CredentialId"] for c in rest["Credentials"]], ids[10:])
        # With a place free, registration is possible again.
        self.complete_ok(WA, token, spare.register(self.start(WA, token)))

        pat_page = self.list_all(WA, self.access_token(WA, "pat"), MaxResults=1)
        for params, error in (({"MaxResults": 21}, "InvalidParameterException"),
                              ({"MaxResults": -1}, "InvalidParameterException"),
                              ({"MaxResults": "5"}, "SerializationException"),
                              ({"NextToken": "bm9wZQ.bm9wZQ"}, "InvalidParameterException"),
                              ({"NextToken": pat_page["NextToken"]}, "InvalidParameterException")):
            with self.subTest(params):
                self.assertError(WA.post("ListWebAuthnCredentials", {"AccessToken": token, **params}), error)

    def test_preloaded_passkeys_are_listed(self):
        listed = self.list_all(WA, self.access_token(WA, "pat"))["Credentials"]
        self.assertEqual(listed[:2], [
            {"CredentialId": PAT_ES.id, "FriendlyCredentialName": "Roaming passkey", "RelyingPartyId": DEFAULT_RP,
             "AuthenticatorAttachment": "cross-platform", "AuthenticatorTransports": [],
             "CreatedAt": listed[0]["CreatedAt"]},
            {"CredentialId": PAT_RS.id, "FriendlyCredentialName": "Blue key", "RelyingPartyId": DEFAULT_RP,
             "AuthenticatorAttachment": "cross-platform", "AuthenticatorTransports": ["usb", "nfc"],
             "CreatedAt": 1736293876.115}])
        [uma] = self.list_all(WA, self.access_token(WA, "uma"))["Credentials"]
        self.assertNotIn("AuthenticatorAttachment", uma)
        self.assertEqual(uma["FriendlyCredentialName"], "Passkey")

    def test_access_token_checks(self):
        token = self.access_token(WA, "pat")
        id_token = None
        start = WA.initiate("pat", preferred="EMAIL_OTP").json()
        id_token = self.assertTokens(WA.respond("EMAIL_OTP", start["Session"], "pat",
                                                EMAIL_OTP_CODE=WA.latest_code("pat@example.com")))["IdToken"]
        header, payload, signature = token.split(".")
        forged_claims = dict(jwt_parts(token)[1], username="quinn")
        forged = ".".join([header, b64url(json.dumps(forged_claims).encode()), signature])
        foreign = self.access_token(UVS, "vic")
        for name, value in (("garbage", "abc"), ("ID token", id_token), ("forged claims", forged),
                            ("another pool's token", foreign), ("truncated", token[:-5])):
            for operation in ("StartWebAuthnRegistration", "ListWebAuthnCredentials"):
                with self.subTest(name=name, operation=operation):
                    self.assertError(WA.post(operation, {"AccessToken": value}), "NotAuthorizedException",
                                     "Invalid Access Token")
        self.assertError(WA.post("ListWebAuthnCredentials", {}), "InvalidParameterException")
        self.assertError(WA.post("DeleteWebAuthnCredential", {"AccessToken": token}), "InvalidParameterException")
        WA.control(clock_offset_s=3601)
        self.assertError(WA.post("ListWebAuthnCredentials", {"AccessToken": token}), "NotAuthorizedException",
                         "Access Token has expired")
        WA.control()
        self.list_all(WA, token)

    def test_passkeys_not_enabled(self):
        token = self.access_token(OFF, "xena")
        self.assertError(OFF.post("StartWebAuthnRegistration", {"AccessToken": token}), "WebAuthnNotEnabledException")
        self.assertError(self.complete(OFF, token, Authenticator().register(
            {"challenge": b64url(os.urandom(16)), "rp": {"id": DEFAULT_RP}})), "WebAuthnNotEnabledException")
        self.assertEqual([c["CredentialId"] for c in self.list_all(OFF, token)["Credentials"]], [XENA.id])

    def test_control_file_targets_the_new_operations(self):
        token = self.access_token(WA, "pat")
        WA.control(error={"name": "TooManyRequestsException", "message": "Rate exceeded"},
                   ops=["ListWebAuthnCredentials"])
        self.assertError(WA.post("ListWebAuthnCredentials", {"AccessToken": token}), "TooManyRequestsException")
        self.start(WA, token)


class PersistenceTests(WebAuthnTestCase):
    def test_keep_passkeys_across_restart(self):
        pool = {"pool_id": "us-east-1_Keep", "clients": [{"client_id": PUBLIC}],
                "users": [{"username": "zoe", "email": "zoe@example.com", "email_verified": True}]}
        first = Standin("keep", pool)
        key = Authenticator(ES256)
        try:
            first.wait_ready()
            token = self.access_token(first, "zoe")
            self.complete_ok(first, token, key.register(self.start(first, token)))
            session, options = self.passkey_challenge(first, "zoe")
            self.assertTokens(self.answer(first, session, "zoe", key.assertion(options)))
        finally:
            self.assertEqual(first.stop(), 0)
        with open(os.path.join(first.state, "passkeys.json")) as f:
            snapshot = json.load(f)
        [entry] = snapshot["users"]["zoe"]
        self.assertEqual((snapshot["relying_party_id"], entry["credential_id"], entry["sign_count"]),
                         (DEFAULT_RP, key.id, key.sign_count))
        self.assertEqual(b64url_decode(entry["public_key_spki"]), key.spki())

        for extra, kept in (((), False), (("--keep-passkeys",), True)):
            # Without the option the pool file's passkeys (none) are used and passkeys.json is rewritten.
            if kept:
                with open(os.path.join(first.state, "passkeys.json"), "w") as f:
                    json.dump(snapshot, f)
            again = Standin("keep", pool, extra_args=extra, fresh=False)
            try:
                again.wait_ready()
                if kept:
                    session, options = self.passkey_challenge(again, "zoe")
                    self.assertTokens(self.answer(again, session, "zoe", key.assertion(options)))
                else:
                    self.assertEqual(again.initiate("zoe").json()["AvailableChallenges"], ["EMAIL_OTP"])
            finally:
                self.assertEqual(again.stop(), 0)

    def test_bad_pool_passkeys_are_refused(self):
        bad_entries = {
            "both key forms": {**PAT_ES.pool_entry(), "public_key_spki": b64url(PAT_ES.spki())},
            "no key": {"credential_id": PAT_ES.id},
            "padded id": {**PAT_ES.pool_entry(), "credential_id": PAT_ES.id + "="},
            "unknown key": {**PAT_ES.pool_entry(), "colour": "blue"},
            "not a key": {"credential_id": PAT_ES.id, "public_key_spki": b64url(b"nope")},
        }
        for name, entry in bad_entries.items():
            with self.subTest(name):
                pool = {"pool_id": "us-east-1_Bad", "clients": [{"client_id": PUBLIC}],
                        "users": [{"username": "a", "passkeys": [entry]}]}
                standin = Standin("bad-pool", pool)
                try:
                    self.assertEqual(standin.process.wait(timeout=20), 2)
                finally:
                    standin.stop()
                with open(os.path.join(standin.dir, "stderr.log")) as f:
                    self.assertIn("users[0].passkeys[0]", f.read())


# ---- the CBOR decoder ---------------------------------------------------------------------------------------

class CborDecoderTests(unittest.TestCase):
    def test_rfc8949_vectors(self):
        vectors = {"00": 0, "17": 23, "1818": 24, "1903e8": 1000, "1a000f4240": 1000000,
                   "1b000000e8d4a51000": 1000000000000, "20": -1, "3863": -100, "3903e7": -1000,
                   "f90000": 0.0, "f93c00": 1.0, "fa47c35000": 100000.0, "fb3ff199999999999a": 1.1,
                   "f4": False, "f5": True, "f6": None, "40": b"", "4401020304": b"\x01\x02\x03\x04",
                   "60": "", "6161": "a", "62c3bc": "\u00fc", "80": [], "83010203": [1, 2, 3],
                   "8301820203820405": [1, [2, 3], [4, 5]], "a0": {}, "a201020304": {1: 2, 3: 4},
                   "a26161016162820203": {"a": 1, "b": [2, 3]}}
        for hex_text, expected in vectors.items():
            with self.subTest(hex_text):
                self.assertEqual(standin_cbor.decode(bytes.fromhex(hex_text)), expected)
        tagged = standin_cbor.decode(bytes.fromhex("c11a514b67b0"))
        self.assertEqual((tagged.number, tagged.value), (1, 1363896240))
        self.assertIs(standin_cbor.decode(b"\xf7"), standin_cbor.UNDEFINED)
        value = {"fmt": "none", "attStmt": {}, "authData": os.urandom(100), -2: [1, {2: b"x"}]}
        self.assertEqual(standin_cbor.decode(cbor(value)), value)
        self.assertEqual(standin_cbor.decode_prefix(b"\x01\x02", 1), (2, 2))

    def test_refusals(self):
        refused = {"5f42010243030405ff": "indefinite", "9fff": "indefinite", "1c": "reserved", "ff": "break",
                   "1a0001": "truncated", "43aabb": "truncated", "62c3": "truncated", "0102": "after",
                   "a2010201 03".replace(" ", ""): "duplicate", "a1800102": "map key", "62c328": "UTF-8",
                   "f0": "simple", "9bffffffffffffffff": "truncated", "bbffffffffffffffff": "truncated"}
        for hex_text, fragment in refused.items():
            with self.subTest(hex_text):
                with self.assertRaises(standin_cbor.CborError) as caught:
                    standin_cbor.decode(bytes.fromhex(hex_text))
                self.assertIn(fragment, str(caught.exception))
        with self.assertRaises(standin_cbor.CborError) as caught:
            standin_cbor.decode(b"\x81" * 40 + b"\x00")
        self.assertIn("deeper", str(caught.exception))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--work-dir", required=True, help="directory for state and logs (created)")
    args, rest = parser.parse_known_args()
    harness.WORK_DIR = os.path.abspath(args.work_dir)
    os.makedirs(harness.WORK_DIR, exist_ok=True)
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


if __name__ == "__main__":
    main()
