#!/usr/bin/python3
"""WebAuthn conformance of the passkey JSON the helper sends to the user pool, judged by an independent
relying party: Debian's python3-fido2 (Yubico's python-fido2), plus the steps it leaves out.

This script is the relying party. It issues registration and authentication options in the user pool's own
answer forms (StartWebAuthnRegistration's CredentialCreationOptions object; a WEB_AUTHN challenge whose
CREDENTIAL_REQUEST_OPTIONS is a JSON string), runs webauthn_conformance_client (the library, with a software
P-256 key in place of libfido2) and verifies what comes back, following WebAuthn Level 3:

  §7.1 registration: 3 response type and JSON members; 5-6 clientDataJSON is UTF-8 JSON; 7 type; 8 challenge;
    9 origin; 10 crossOrigin/topOrigin; 11 hash; 12 attestationObject is CBOR (and CTAP2 canonical, nothing
    after it); 13 rpIdHash; 14 UP; 15 UV when required; 16 BS only with BE; 19 alg among pubKeyCredParams;
    20 no extensions; 21-22 attestation statement ("packed" self and full, "none"); 23-24 the full
    attestation's certificate chain; 25 credentialId length; 26 not excluded / not registered;
    and the convenience members publicKey (SPKI = the COSE key), publicKeyAlgorithm, authenticatorData.
  §7.2 authentication: 5 credential in allowCredentials; 6 userHandle belongs to the user; 7 credential
    known; 9-10 clientDataJSON; 11 type; 12 challenge; 13 origin; 14 crossOrigin/topOrigin; 15 rpIdHash;
    16 UP; 17 UV when required; 18 BS only with BE; 20 no extensions; 21-22 signature over
    authData || SHA-256(clientDataJSON); 23 signCount increases.
  §5.8.1.3 the limited verification algorithm: clientDataJSON starts with exactly the CCDToString bytes.
  base64url without padding, canonical, everywhere.

Python-fido2's Fido2Server does type, challenge, origin, rpIdHash, UP, UV and the signature; its attestation
classes verify the statements; the rest is checked here. Each ceremony is also answered by a key or client
that misbehaves in one way, and each such answer must be refused by the check meant for it: that shows the
checks are live. Exit status 0 on success, 1 on a failure, 77 (skip) without python3-fido2.
"""

import argparse
import base64
import json
import os
import re
import subprocess
import sys

try:
    import fido2
    from fido2 import cbor
    from fido2.attestation import Attestation, AttestationType, verify_x509_chain
    from fido2.cose import ES256
    from fido2.server import Fido2Server
    from fido2.webauthn import PublicKeyCredentialRpEntity, PublicKeyCredentialUserEntity
    try:  # python-fido2 1.x
        from fido2.webauthn import AttestationObject, AuthenticatorData, CollectedClientData as ClientData
    except ImportError:  # 0.9 (Debian 12)
        from fido2.client import ClientData
        from fido2.ctap2 import AttestationObject, AuthenticatorData
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_der_public_key
except ImportError as e:
    print(f"SKIP: python3-fido2 is not usable: {e}")
    sys.exit(77)

RP_ID = "auth.example.com"
ORIGIN = "https://" + RP_ID
FLAG_BE, FLAG_BS, FLAG_AT, FLAG_ED = 0x08, 0x10, 0x40, 0x80


class Refused(Exception):
    """A check of this script failed (python-fido2 raises its own exceptions)."""


def require(condition, message):
    if not condition:
        raise Refused(message)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text, what) -> bytes:
    """RFC 4648 §5 without padding, and the one canonical spelling of the bytes."""
    require(isinstance(text, str) and re.fullmatch(r"[A-Za-z0-9_-]*", text) and len(text) % 4 != 1,
            f"{what} is not base64url without padding")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    require(b64url(data) == text, f"{what} is not canonical base64url")
    return data


def ccd_to_string(text: str) -> str:
    """WebAuthn L3 §5.8.1.2 CCDToString, written from the specification text."""
    out = ['"']
    for ch in text:
        cp = ord(ch)
        if cp in (0x20, 0x21) or 0x23 <= cp <= 0x5B or cp >= 0x5D:
            out.append(ch)
        elif cp == 0x22:
            out.append('\\"')
        elif cp == 0x5C:
            out.append("\\\\")
        else:
            out.append("\\u%04x" % cp)
    out.append('"')
    return "".join(out)


def check_client_data_members(raw: bytes):
    """§7.1 steps 5-6 and 10 / §7.2 steps 9-10 and 14: UTF-8 JSON, not a cross-origin ceremony."""
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise Refused(f"clientDataJSON is not UTF-8 JSON: {e}")
    require(isinstance(parsed, dict), "clientDataJSON is not an object")
    require(parsed.get("crossOrigin", False) is False, "clientDataJSON.crossOrigin is not false")
    require("topOrigin" not in parsed, "clientDataJSON has a topOrigin")
    return ClientData(raw)


def check_limited_verification(raw: bytes, expected_type: str, challenge: bytes):
    """§5.8.1.3: the bytes start exactly as CCDToString writes type, challenge, origin and crossOrigin."""
    prefix = ('{"type":' + ccd_to_string(expected_type) + ',"challenge":' + ccd_to_string(b64url(challenge)) +
              ',"origin":' + ccd_to_string(ORIGIN) + ',"crossOrigin":false').encode("utf-8")
    require(raw.startswith(prefix) and raw[len(prefix):len(prefix) + 1] in (b"}", b","),
            "clientDataJSON does not start as CCDToString writes it")


def check_flags(auth_data, attested: bool):
    """§7.1 steps 16, 20 / §7.2 steps 18, 20: BS only with BE, no extensions (none were asked for)."""
    flags = auth_data.flags
    require(flags & FLAG_BE or not flags & FLAG_BS, "BS flag set without BE")
    require(not flags & FLAG_ED, "extensions in authData that were not asked for")
    require(bool(flags & FLAG_AT) == attested,
            "attested credential data " + ("missing" if attested else "in an assertion"))


def check_credential_members(credential: dict, response_members: set, optional_members: set = frozenset()):
    """§7.1 step 3 / §7.2 step 3, and the JSON forms of WebAuthn L3 §5.1 (RegistrationResponseJSON,
    AuthenticationResponseJSON) as the user pool takes them (spec §3.3, §6.2)."""
    require(set(credential) == {"id", "rawId", "type", "response", "clientExtensionResults",
                                "authenticatorAttachment"}, f"unexpected members {sorted(credential)}")
    require(credential["type"] == "public-key", "type is not public-key")
    require(credential["id"] == credential["rawId"], "id and rawId differ")
    require(credential["clientExtensionResults"] == {}, "clientExtensionResults is not empty")
    require(credential["authenticatorAttachment"] == "cross-platform", "authenticatorAttachment")
    response = credential["response"]
    require(isinstance(response, dict) and response_members <= set(response) <= response_members | optional_members,
            f"unexpected response members {sorted(response)}")
    return from_b64url(credential["id"], "id"), response


class RelyingParty:
    def __init__(self):
        self.server = Fido2Server(PublicKeyCredentialRpEntity(id=RP_ID, name="Example"), attestation="direct",
                                  verify_attestation=self._verify_attestation)
        self.registered = {}  # credential id -> {"data": AttestedCredentialData, "counter": int, "user": bytes}
        self._attestation_type = None

    # §7.1 steps 21-24, called by Fido2Server.register_complete.
    def _verify_attestation(self, attestation_object, client_data_hash):
        verifier = Attestation.for_type(attestation_object.fmt)()
        result = verifier.verify(attestation_object.att_statement, attestation_object.auth_data, client_data_hash)
        if result.attestation_type == AttestationType.BASIC:
            # The software key's attestation certificate is its own root.
            verify_x509_chain(result.trust_path + result.trust_path[-1:])
        self._attestation_type = result.attestation_type

    def begin_registration(self, user_id: bytes, user_verification: str, exclude: list):
        challenge = os.urandom(16)
        _, state = self.server.register_begin(
            PublicKeyCredentialUserEntity(id=user_id, name="alice", display_name="Alice"),
            user_verification=user_verification, challenge=challenge)
        options = {  # the shape of the AWS StartWebAuthnRegistration example (spec §6.1)
            "authenticatorSelection": {"requireResidentKey": False, "residentKey": "discouraged",
                                       "userVerification": user_verification},
            "challenge": b64url(challenge),
            "excludeCredentials": [{"id": b64url(c), "type": "public-key"} for c in exclude],
            "pubKeyCredParams": [{"alg": -7, "type": "public-key"}, {"alg": -257, "type": "public-key"}],
            "rp": {"id": RP_ID, "name": RP_ID},
            "timeout": 60000,
            "user": {"displayName": "Alice", "id": b64url(user_id), "name": "alice"},
        }
        return {"CredentialCreationOptions": options}, (state, options, challenge)

    def complete_registration(self, pending, credential: dict, expected_type):
        state, options, challenge = pending
        cred_id, response = check_credential_members(
            credential, {"clientDataJSON", "attestationObject", "transports", "publicKeyAlgorithm", "publicKey",
                         "authenticatorData"})
        raw_client_data = from_b64url(response["clientDataJSON"], "clientDataJSON")
        client_data = check_client_data_members(raw_client_data)
        raw_object = from_b64url(response["attestationObject"], "attestationObject")
        attestation_object = AttestationObject(raw_object)  # §7.1 step 12; nothing may follow the map

        self._attestation_type = None
        auth_data = self.server.register_complete(state, client_data, attestation_object)  # steps 7-9, 13-15, 21-22
        require(self._attestation_type == expected_type,
                f"attestation type {self._attestation_type}, expected {expected_type}")

        check_limited_verification(raw_client_data, "webauthn.create", challenge)
        require(cbor.encode(cbor.decode(raw_object)) == raw_object, "attestationObject is not CTAP2 canonical CBOR")
        require(set(cbor.decode(raw_object)) == {"fmt", "attStmt", "authData"}, "attestationObject members")
        check_flags(auth_data, attested=True)
        data = auth_data.credential_data
        allowed = [p["alg"] for p in options["pubKeyCredParams"]]
        require(data.public_key[3] in allowed, "credential algorithm not among pubKeyCredParams")  # step 19
        require(data.credential_id == cred_id, "id is not the attested credential id")
        require(len(cred_id) <= 1023, "credentialId longer than 1023 bytes")  # step 25
        excluded = {from_b64url(c["id"], "excluded id") for c in options["excludeCredentials"]}
        require(cred_id not in excluded and cred_id not in self.registered, "credential already registered")  # 26

        # The convenience members must say what the attestation object says.
        require(response["transports"] == ["usb"], "transports")
        require(response["publicKeyAlgorithm"] == data.public_key[3], "publicKeyAlgorithm")
        spki = load_der_public_key(from_b64url(response["publicKey"], "publicKey"))
        require(dict(ES256.from_cryptography_key(spki)) == dict(data.public_key), "publicKey is another key")
        require(from_b64url(response["authenticatorData"], "authenticatorData") == bytes(auth_data),
                "authenticatorData differs from the attestation object's")
        return cred_id, data, auth_data.counter

    def begin_authentication(self, user_verification: str, allow: list):
        challenge = os.urandom(16)
        _, state = self.server.authenticate_begin(user_verification=user_verification, challenge=challenge)
        options = {  # the shape of the AWS InitiateAuth example (spec §2.5)
            "challenge": b64url(challenge), "timeout": 180000, "rpId": RP_ID,
            "allowCredentials": [{"type": "public-key", "id": b64url(c), "transports": ["usb"]} for c in allow],
            "userVerification": user_verification,
        }
        answer = {"ChallengeName": "WEB_AUTHN", "Session": "AYABconformance-session",
                  "ChallengeParameters": {"CREDENTIAL_REQUEST_OPTIONS": json.dumps(options)},
                  "AvailableChallenges": ["WEB_AUTHN", "EMAIL_OTP"]}
        return answer, (state, options, challenge)

    def complete_authentication(self, pending, credential: dict, user_id: bytes):
        state, options, challenge = pending
        cred_id, response = check_credential_members(
            credential, {"clientDataJSON", "authenticatorData", "signature"}, {"userHandle"})
        allowed = {from_b64url(c["id"], "allowed id") for c in options["allowCredentials"]}
        require(cred_id in allowed, "credential is not in allowCredentials")  # step 5
        if "userHandle" in response:  # step 6
            require(from_b64url(response["userHandle"], "userHandle") == user_id, "userHandle is another user's")
        raw_client_data = from_b64url(response["clientDataJSON"], "clientDataJSON")
        client_data = check_client_data_members(raw_client_data)
        auth_data = AuthenticatorData(from_b64url(response["authenticatorData"], "authenticatorData"))
        signature = from_b64url(response["signature"], "signature")
        record = self.registered.get(cred_id)
        credentials = [r["data"] for r in self.registered.values()]
        self.server.authenticate_complete(state, credentials, cred_id, client_data, auth_data,
                                          signature)  # steps 7, 11-13, 15-17, 21-22
        check_limited_verification(raw_client_data, "webauthn.get", challenge)
        check_flags(auth_data, attested=False)
        if auth_data.counter or record["counter"]:  # step 23
            require(auth_data.counter > record["counter"], "signCount did not increase")
        return auth_data.counter


class Run:
    def __init__(self, client, work_dir):
        self.client, self.work_dir = client, work_dir
        self.failures, self.checks = [], 0

    def answer(self, kind, answer, *args):
        path = os.path.join(self.work_dir, f"{kind}-answer.json")
        with open(path, "w") as f:
            json.dump(answer, f)
        done = subprocess.run([self.client, kind, path, *args], capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise SystemExit(f"FAIL: {self.client} {kind}: {done.stderr.strip()}")
        return json.loads(done.stdout)

    def expect(self, label, action, refusal=None):
        """refusal: None when the answer must pass, else text the refusal must contain."""
        self.checks += 1
        try:
            result = action()
        except Exception as e:  # python-fido2 refuses with ValueError and its own exception classes
            message = f"{type(e).__name__}: {e}"
            if refusal is not None and refusal in message:
                print(f"ok   {label}: refused ({message})")
                return None
            self.failures.append(f"{label}: {message}")
            print(f"FAIL {label}: {message}")
            return None
        if refusal is None:
            print(f"ok   {label}")
            return result
        self.failures.append(f"{label}: accepted, expected a refusal mentioning {refusal!r}")
        print(f"FAIL {label}: accepted")
        return None


def mutated(credential, change):
    copy = json.loads(json.dumps(credential))
    change(copy)
    return copy


def client_data_with(credential, **members):
    """The same clientDataJSON with members replaced, re-serialised as CCDToString would."""
    def change(c):
        data = json.loads(from_b64url(c["response"]["clientDataJSON"], "clientDataJSON"))
        data.update(members)
        c["response"]["clientDataJSON"] = b64url(json.dumps(data, separators=(",", ":")).encode())
    return mutated(credential, change)


def non_canonical_attestation_object(credential):
    def change(c):
        value = cbor.decode(from_b64url(c["response"]["attestationObject"], "attestationObject"))
        # The same map with authData first: valid CBOR, not CTAP2 canonical.
        reordered = b"\xa3" + b"".join(cbor.encode(k) + cbor.encode(value[k]) for k in ("authData", "fmt", "attStmt"))
        c["response"]["attestationObject"] = b64url(reordered)
    return mutated(credential, change)


def registration(run, rp, attestation, user_verification, expected_type, exclude):
    user_id = b"3c46320b-c60e-4a21-9d64-5829bfede1c4"
    answer, pending = rp.begin_registration(user_id, user_verification, exclude)
    state_file = os.path.join(run.work_dir, f"key-{attestation}.state")
    variants = run.answer("register", answer, ORIGIN, attestation, state_file)
    label = f"register {attestation} uv={user_verification}"
    ok = variants["ok"]

    def attempt(credential):
        return lambda: rp.complete_registration(pending, credential, expected_type)

    refusals = {
        "wrong_challenge": "Wrong challenge",
        "wrong_origin": "Invalid origin",
        "wrong_rp": "Wrong RP ID hash",
        "no_up": "User Present flag not set",
        "no_uv": "User verification required" if user_verification == "required" else None,
        "bad_signature": "InvalidSignature",
    }
    for name, refusal in refusals.items():
        if name in variants:
            run.expect(f"{label}: {name}", attempt(variants[name]), refusal)
    run.expect(f"{label}: type webauthn.get", attempt(client_data_with(ok, type="webauthn.get")), "Incorrect type")
    run.expect(f"{label}: crossOrigin true", attempt(client_data_with(ok, crossOrigin=True)), "crossOrigin")
    run.expect(f"{label}: id padded", attempt(mutated(ok, lambda c: c.update(id=c["id"] + "=", rawId=c["id"] + "="))),
               "base64url")
    run.expect(f"{label}: rawId of another credential",
               attempt(mutated(ok, lambda c: c.update(rawId=b64url(os.urandom(32))))), "id and rawId differ")
    run.expect(f"{label}: attestationObject not canonical", attempt(non_canonical_attestation_object(ok)),
               "canonical")
    run.expect(f"{label}: publicKey of another key",
               attempt(mutated(ok, lambda c: c["response"].update(publicKey=fresh_spki()))), "publicKey is another key")
    result = run.expect(label, attempt(ok))
    if result is None:
        return None
    cred_id, data, counter = result
    rp.registered[cred_id] = {"data": data, "counter": counter, "user": user_id}
    run.expect(f"{label}: the same credential again", attempt(ok), "already registered")
    return cred_id, state_file, user_id


def fresh_spki():
    """A valid P-256 SubjectPublicKeyInfo that is not the credential's key."""
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return b64url(key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))


def authentication(run, rp, registered, user_verification):
    cred_id, state_file, user_id = registered
    stored = rp.registered[cred_id]["counter"]
    counter = stored + 1  # the client's stale_counter answer carries counter - 1, i.e. the stored one
    answer, pending = rp.begin_authentication(user_verification, [os.urandom(40), cred_id])
    variants = run.answer("authenticate", answer, ORIGIN, state_file, str(counter))
    label = f"authenticate uv={user_verification} counter={counter}"

    def attempt(credential):
        return lambda: rp.complete_authentication(pending, credential, user_id)

    refusals = {
        "wrong_challenge": "Wrong challenge",
        "wrong_origin": "Invalid origin",
        "wrong_rp": "Wrong RP ID hash",
        "no_up": "User Present flag not set",
        "no_uv": "User verification required" if user_verification == "required" else None,
        "bad_signature": "Invalid signature",
        "unknown_credential": "not in allowCredentials",
        # Both zero means a key without a counter, which §7.2 step 23 lets pass.
        "stale_counter": "signCount did not increase" if stored else None,
        "wrong_user_handle": "userHandle is another user's",
    }
    for name, refusal in refusals.items():
        run.expect(f"{label}: {name}", attempt(variants[name]), refusal)
    ok = variants["ok"]
    run.expect(f"{label}: type webauthn.create", attempt(client_data_with(ok, type="webauthn.create")),
               "Incorrect type")
    run.expect(f"{label}: topOrigin", attempt(client_data_with(ok, topOrigin="https://frame.example")),
               "topOrigin")
    run.expect(f"{label}: signature padded",
               attempt(mutated(ok, lambda c: c["response"].update(signature=c["response"]["signature"] + "=="))),
               "base64url")
    run.expect(f"{label}: without userHandle", attempt(variants["ok_without_user_handle"]))
    new_counter = run.expect(label, attempt(ok))
    if new_counter is not None:
        rp.registered[cred_id]["counter"] = new_counter


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client", required=True, help="the webauthn_conformance_client program")
    parser.add_argument("--work-dir", required=True, help="a directory for the exchanged files")
    args = parser.parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    print(f"relying party: python-fido2 {fido2.__version__}")

    run = Run(args.client, args.work_dir)
    rp = RelyingParty()
    self_attested = registration(run, rp, "packed-self", "required", AttestationType.SELF, [])
    none = registration(run, rp, "none", "preferred", AttestationType.NONE, [])
    full = registration(run, rp, "packed-full", "discouraged", AttestationType.BASIC,
                        [self_attested[0]] if self_attested else [])
    if self_attested:
        authentication(run, rp, self_attested, "required")
        authentication(run, rp, self_attested, "preferred")
    if none:
        authentication(run, rp, none, "preferred")
    if full:
        authentication(run, rp, full, "discouraged")

    if run.failures:
        print(f"\n{len(run.failures)} of {run.checks} checks FAILED:")
        for failure in run.failures:
            print("  " + failure)
        return 1
    print(f"\nall {run.checks} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
