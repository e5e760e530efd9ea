"""WebAuthn relying-party checks, after Web Authentication Level 3 §7.1 (registering a new credential) and
§7.2 (verifying an authentication assertion): base64url, clientDataJSON, authenticator data, COSE and SPKI
public keys, ES256/RS256 signatures, and the "none" and "packed" attestation statement formats.

Everything raises WebAuthnError with a `reason` (which check failed) and a message for people. The callers
map reasons to the user pool's error names: the registration and the sign-in ceremonies map them differently.
"""

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Optional

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

import standin_cbor

ES256 = -7
RS256 = -257
SUPPORTED_ALGORITHMS = (ES256, RS256)
MIN_RSA_BITS = 2048
MAX_CREDENTIAL_ID_BYTES = 1023  # WebAuthn L3 §7.1 step 25

FLAG_UP = 0x01
FLAG_UV = 0x04
FLAG_BE = 0x08
FLAG_BS = 0x10
FLAG_AT = 0x40
FLAG_ED = 0x80

# Why a check failed. Registration maps them to distinct exceptions; sign-in answers NotAuthorized for all.
MALFORMED = "malformed"  # not the shape WebAuthn prescribes (JSON, base64url, CBOR, lengths)
WRONG_TYPE = "type"  # clientDataJSON.type
ORIGIN = "origin"  # clientDataJSON.origin or crossOrigin
RP_ID = "rp_id"  # rpIdHash
USER_PRESENCE = "user_presence"  # UP flag
USER_VERIFICATION = "user_verification"  # UV flag, when the pool requires it
UNSUPPORTED = "unsupported"  # key type or algorithm, attestation format
ATTESTATION = "attestation"  # the attestation statement does not verify
SIGNATURE = "signature"  # the assertion signature does not verify

_B64URL = re.compile(r"[A-Za-z0-9_-]*")


class WebAuthnError(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text, what: str) -> bytes:
    """Strict base64url without padding (RFC 4648 §5), as WebAuthn's JSON serialisation prescribes: no '=',
    no '+' or '/', no whitespace, and canonical (the unused bits of the last character are zero)."""
    if not isinstance(text, str):
        raise WebAuthnError(MALFORMED, f"{what} must be a base64url string")
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise WebAuthnError(MALFORMED, f"{what} is not base64url without padding")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url(data) != text:
        raise WebAuthnError(MALFORMED, f"{what} is not canonical base64url")
    return data


# ---- public keys ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PublicKey:
    alg: int  # COSE algorithm: ES256 or RS256
    key: object  # a cryptography EllipticCurvePublicKey or RSAPublicKey

    def spki(self) -> bytes:
        return self.key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            if self.alg == ES256:
                # DER-encoded ECDSA signature (WebAuthn §6.5.6); raw r||s is refused by the DER parser.
                self.key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
            else:
                self.key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
            return True
        except (InvalidSignature, ValueError):
            return False


def _checked_key(alg: int, key) -> PublicKey:
    if alg == ES256:
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
            raise WebAuthnError(UNSUPPORTED, "ES256 (-7) needs an EC key on P-256")
    elif alg == RS256:
        if not isinstance(key, rsa.RSAPublicKey):
            raise WebAuthnError(UNSUPPORTED, "RS256 (-257) needs an RSA key")
        if key.key_size < MIN_RSA_BITS:
            raise WebAuthnError(UNSUPPORTED, f"RSA keys must have at least {MIN_RSA_BITS} bits, "
                                             f"not {key.key_size}")
    else:
        raise WebAuthnError(UNSUPPORTED, f"public key algorithm {alg} is not supported; "
                                         f"only ES256 (-7) and RS256 (-257) are")
    return PublicKey(alg, key)


def public_key_from_cose(cose: dict) -> PublicKey:
    """A COSE_Key (RFC 9052 §7, RFC 9053): kty 2 (EC2) with crv 1 (P-256), or kty 3 (RSA); alg required."""
    if not isinstance(cose, dict):
        raise WebAuthnError(MALFORMED, "the credential public key is not a COSE_Key map")
    kty, alg = cose.get(1), cose.get(3)
    if not isinstance(alg, int) or isinstance(alg, bool):
        raise WebAuthnError(MALFORMED, "the COSE_Key has no alg (3)")
    if alg not in SUPPORTED_ALGORITHMS:
        raise WebAuthnError(UNSUPPORTED, f"public key algorithm {alg} is not supported; "
                                         f"only ES256 (-7) and RS256 (-257) are")
    if alg == ES256:
        if kty != 2 or cose.get(-1) != 1:
            raise WebAuthnError(UNSUPPORTED, "an ES256 COSE_Key must be kty 2 (EC2), crv 1 (P-256)")
        x, y = cose.get(-2), cose.get(-3)
        if not (isinstance(x, bytes) and isinstance(y, bytes) and len(x) == len(y) == 32):
            raise WebAuthnError(MALFORMED, "the EC2 COSE_Key needs 32-byte x (-2) and y (-3)")
        try:
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + x + y)
        except ValueError as e:
            raise WebAuthnError(MALFORMED, f"the EC2 COSE_Key is not a point on P-256: {e}") from e
    else:
        if kty != 3:
            raise WebAuthnError(UNSUPPORTED, "an RS256 COSE_Key must be kty 3 (RSA)")
        n, e = cose.get(-1), cose.get(-2)
        if not (isinstance(n, bytes) and isinstance(e, bytes) and n and e):
            raise WebAuthnError(MALFORMED, "the RSA COSE_Key needs n (-1) and e (-2)")
        try:
            key = rsa.RSAPublicNumbers(int.from_bytes(e, "big"), int.from_bytes(n, "big")).public_key()
        except ValueError as error:
            raise WebAuthnError(MALFORMED, f"the RSA COSE_Key is not usable: {error}") from error
    return _checked_key(alg, key)


def public_key_from_cose_bytes(data: bytes) -> PublicKey:
    try:
        cose = standin_cbor.decode(data)
    except standin_cbor.CborError as e:
        raise WebAuthnError(MALFORMED, f"the COSE_Key is not valid CBOR: {e}") from e
    return public_key_from_cose(cose)


def public_key_from_spki(der: bytes) -> PublicKey:
    """A DER SubjectPublicKeyInfo; the algorithm follows from the key: EC P-256 → ES256, RSA → RS256."""
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm) as e:
        raise WebAuthnError(MALFORMED, f"not a DER SubjectPublicKeyInfo: {e}") from e
    return _checked_key(RS256 if isinstance(key, rsa.RSAPublicKey) else ES256, key)


# ---- client data ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClientData:
    raw: bytes
    type: str
    challenge: str
    origin: str
    cross_origin: bool

    def hash(self) -> bytes:
        return hashlib.sha256(self.raw).digest()


def parse_client_data(raw: bytes) -> ClientData:
    """WebAuthn §7.1 steps 5–6 / §7.2 steps 9–10: UTF-8 JSON with string type, challenge and origin."""
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise WebAuthnError(MALFORMED, f"clientDataJSON is not UTF-8 JSON: {e}") from e
    if not isinstance(value, dict):
        raise WebAuthnError(MALFORMED, "clientDataJSON is not a JSON object")
    for key in ("type", "challenge", "origin"):
        if not isinstance(value.get(key), str):
            raise WebAuthnError(MALFORMED, f"clientDataJSON.{key} must be a string")
    cross_origin = value.get("crossOrigin", False)
    if not isinstance(cross_origin, bool):
        raise WebAuthnError(MALFORMED, "clientDataJSON.crossOrigin must be a boolean")
    return ClientData(raw, value["type"], value["challenge"], value["origin"], cross_origin)


def check_type(client_data: ClientData, expected: str):
    if client_data.type != expected:
        raise WebAuthnError(WRONG_TYPE, f"clientDataJSON.type is {client_data.type!r}, expected {expected!r}")


def origin_allowed(origin: str, allowed) -> bool:
    """Exact entries, or "<scheme>://*.<domain>" for any subdomain (at any depth) of <domain>."""
    for entry in allowed:
        if "://*." in entry:
            scheme, _, domain = entry.partition("://*.")
            prefix = scheme + "://"
            if origin.startswith(prefix):
                host = origin[len(prefix):]
                if host.endswith("." + domain) and re.fullmatch(r"[a-z0-9.-]+", host[:-len(domain) - 1]):
                    return True
        elif origin == entry:
            return True
    return False


def check_origin(client_data: ClientData, allowed):
    """§7.1 steps 9–10 / §7.2 steps 13–14: origin in the configured set, and not embedded cross-origin."""
    if not origin_allowed(client_data.origin, allowed):
        raise WebAuthnError(ORIGIN, f"origin {client_data.origin!r} is not allowed "
                                    f"(allowed: {', '.join(allowed)})")
    if client_data.cross_origin:
        raise WebAuthnError(ORIGIN, "clientDataJSON.crossOrigin is true; cross-origin ceremonies are not allowed")


# ---- authenticator data -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuthenticatorData:
    raw: bytes
    rp_id_hash: bytes
    flags: int
    sign_count: int
    aaguid: Optional[bytes] = None
    credential_id: Optional[bytes] = None
    credential_key: Optional[PublicKey] = None

    @property
    def user_present(self) -> bool:
        return bool(self.flags & FLAG_UP)

    @property
    def user_verified(self) -> bool:
        return bool(self.flags & FLAG_UV)


def parse_authenticator_data(raw: bytes) -> AuthenticatorData:
    """WebAuthn §6.1: rpIdHash(32) flags(1) signCount(4), then attested credential data when AT is set
    (aaguid(16) L(2) credentialId(L) credentialPublicKey(COSE_Key)), then an extensions map when ED is set;
    nothing may follow."""
    if len(raw) < 37:
        raise WebAuthnError(MALFORMED, f"authenticator data is {len(raw)} bytes, at least 37 are needed")
    rp_id_hash, flags, sign_count = raw[:32], raw[32], int.from_bytes(raw[33:37], "big")
    if flags & FLAG_BS and not flags & FLAG_BE:
        raise WebAuthnError(MALFORMED, "authenticator data flags: BS is set without BE")
    offset = 37
    aaguid = credential_id = credential_key = None
    if flags & FLAG_AT:
        if len(raw) < offset + 18:
            raise WebAuthnError(MALFORMED, "attested credential data is truncated")
        aaguid = raw[offset:offset + 16]
        length = int.from_bytes(raw[offset + 16:offset + 18], "big")
        offset += 18
        if length > MAX_CREDENTIAL_ID_BYTES:
            raise WebAuthnError(MALFORMED, f"credential id of {length} bytes is longer than "
                                           f"{MAX_CREDENTIAL_ID_BYTES}")
        if len(raw) < offset + length:
            raise WebAuthnError(MALFORMED, "credential id is truncated")
        credential_id = raw[offset:offset + length]
        offset += length
        try:
            cose, offset = standin_cbor.decode_prefix(raw, offset)
        except standin_cbor.CborError as e:
            raise WebAuthnError(MALFORMED, f"credential public key is not valid CBOR: {e}") from e
        credential_key = public_key_from_cose(cose)
    if flags & FLAG_ED:
        try:
            extensions, offset = standin_cbor.decode_prefix(raw, offset)
        except standin_cbor.CborError as e:
            raise WebAuthnError(MALFORMED, f"authenticator extensions are not valid CBOR: {e}") from e
        if not isinstance(extensions, dict):
            raise WebAuthnError(MALFORMED, "authenticator extensions are not a CBOR map")
    if offset != len(raw):
        raise WebAuthnError(MALFORMED, f"{len(raw) - offset} unexpected byte(s) after the authenticator data")
    return AuthenticatorData(raw, rp_id_hash, flags, sign_count, aaguid, credential_id, credential_key)


def check_authenticator_data(auth_data: AuthenticatorData, rp_id: str, require_uv: bool):
    """§7.1 steps 13–15 / §7.2 steps 15–17."""
    if auth_data.rp_id_hash != hashlib.sha256(rp_id.encode()).digest():
        raise WebAuthnError(RP_ID, f"rpIdHash is not SHA-256 of the relying party id {rp_id!r}")
    if not auth_data.user_present:
        raise WebAuthnError(USER_PRESENCE, "the user-present flag (UP) is not set")
    if require_uv and not auth_data.user_verified:
        raise WebAuthnError(USER_VERIFICATION,
                            "the user-verified flag (UV) is not set, and the user pool requires user verification")


# ---- attestation ------------------------------------------------------------------------------------------

def parse_attestation_object(raw: bytes):
    """§7.1 step 12: CBOR {fmt: text, attStmt: map, authData: bytes}; returns (fmt, attStmt, AuthenticatorData)."""
    try:
        value = standin_cbor.decode(raw)
    except standin_cbor.CborError as e:
        raise WebAuthnError(MALFORMED, f"attestationObject is not valid CBOR: {e}") from e
    if not isinstance(value, dict):
        raise WebAuthnError(MALFORMED, "attestationObject is not a CBOR map")
    fmt, statement, auth_data = value.get("fmt"), value.get("attStmt"), value.get("authData")
    if not isinstance(fmt, str) or not isinstance(statement, dict) or not isinstance(auth_data, bytes):
        raise WebAuthnError(MALFORMED, "attestationObject needs fmt (text), attStmt (map) and authData (bytes)")
    return fmt, statement, parse_authenticator_data(auth_data)


def verify_attestation(fmt: str, statement: dict, auth_data: AuthenticatorData, client_data_hash: bytes) -> str:
    """§7.1 steps 21–22 for "none" and "packed" (§8.2). Returns the attestation type ("None", "Self", "Basic").
    With x5c the signature is checked with the leaf certificate's key only: no chain, trust anchor or
    certificate-requirement checks (Cognito does not enforce attestation)."""
    if fmt == "none":
        if statement:
            raise WebAuthnError(ATTESTATION, "attestation format 'none' must have an empty attStmt")
        return "None"
    if fmt != "packed":
        raise WebAuthnError(UNSUPPORTED, f"attestation format {fmt!r} is not supported; only 'none' and 'packed' are")
    alg, signature = statement.get("alg"), statement.get("sig")
    if not isinstance(alg, int) or isinstance(alg, bool) or not isinstance(signature, bytes):
        raise WebAuthnError(MALFORMED, "packed attStmt needs alg (int) and sig (bytes)")
    if "ecdaaKeyId" in statement:
        raise WebAuthnError(UNSUPPORTED, "ECDAA attestation is not supported")
    signed = auth_data.raw + client_data_hash
    x5c = statement.get("x5c")
    if x5c is None:
        if alg != auth_data.credential_key.alg:
            raise WebAuthnError(ATTESTATION, f"packed self attestation: attStmt alg {alg} differs from the "
                                             f"credential's algorithm {auth_data.credential_key.alg}")
        if not auth_data.credential_key.verify(signature, signed):
            raise WebAuthnError(ATTESTATION, "packed self attestation: the signature does not verify with the "
                                             "credential public key")
        return "Self"
    if not isinstance(x5c, list) or not x5c or not all(isinstance(c, bytes) for c in x5c):
        raise WebAuthnError(MALFORMED, "packed attStmt x5c must be a non-empty array of DER certificates")
    try:
        leaf = x509.load_der_x509_certificate(x5c[0])
        leaf_key = _checked_key(alg, leaf.public_key())
    except ValueError as e:
        raise WebAuthnError(MALFORMED, f"packed attStmt x5c[0] is not a usable certificate: {e}") from e
    if not leaf_key.verify(signature, signed):
        raise WebAuthnError(ATTESTATION, "packed attestation: the signature does not verify with the key of x5c[0]")
    return "Basic"
