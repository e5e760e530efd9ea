"""JWT signing keys, the JWKS document, and the tokens a successful sign-in returns."""

import base64
import json
import secrets
import threading
import time
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _uint_b64url(number: int) -> str:
    return b64url(number.to_bytes((number.bit_length() + 7) // 8, "big"))


class _SigningKey:
    def __init__(self):
        self.kid = b64url(secrets.token_bytes(24))
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict:
        numbers = self.private.public_key().public_numbers()
        return {"alg": "RS256", "e": _uint_b64url(numbers.e), "kid": self.kid, "kty": "RSA",
                "n": _uint_b64url(numbers.n), "use": "sig"}

    def sign_jwt(self, claims: dict) -> str:
        header = {"kid": self.kid, "alg": "RS256"}
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(claims, separators=(",", ":")).encode()))
        signature = self.private.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64url(signature)


class KeyRing:
    """The pool's two signing keys. ID and access tokens use different keys, as in Cognito, so that a
    verifier that picks the key by position instead of by kid fails in tests."""

    def __init__(self):
        self._lock = threading.Lock()
        self._id_key = _SigningKey()
        self._access_key = _SigningKey()
        self._rotated = False

    def rotate_id_key_once(self) -> bool:
        """Replaces the ID-token key the first time it is asked to; later calls do nothing."""
        with self._lock:
            if self._rotated:
                return False
            self._id_key = _SigningKey()
            self._rotated = True
            return True

    def jwks(self) -> dict:
        with self._lock:
            return {"keys": [self._id_key.jwk(), self._access_key.jwk()]}

    def keys(self):
        with self._lock:
            return self._id_key, self._access_key


class TokenIssuer:
    def __init__(self, keyring: KeyRing, issuer: str, id_validity: int, access_validity: int):
        self.keyring = keyring
        self.issuer = issuer
        self.id_validity = id_validity
        self.access_validity = access_validity

    def authentication_result(self, user, client_id: str) -> dict:
        now = int(time.time())
        event_id = str(uuid.uuid4())
        origin_jti = str(uuid.uuid4())
        id_claims = {
            "sub": user.sub,
            "aud": client_id,
            "iss": self.issuer,
            "token_use": "id",
            "cognito:username": user.username,
            "auth_time": now,
            "iat": now,
            "exp": now + self.id_validity,
            "jti": str(uuid.uuid4()),
            "origin_jti": origin_jti,
            "event_id": event_id,
        }
        if user.email is not None:
            id_claims["email"] = user.email
            id_claims["email_verified"] = user.email_verified
        if user.phone_number is not None:
            id_claims["phone_number"] = user.phone_number
            id_claims["phone_number_verified"] = user.phone_number_verified
        access_claims = {
            "sub": user.sub,
            "iss": self.issuer,
            "client_id": client_id,
            "origin_jti": origin_jti,
            "event_id": event_id,
            "token_use": "access",
            "scope": "aws.cognito.signin.user.admin",
            "auth_time": now,
            "iat": now,
            "exp": now + self.access_validity,
            "jti": str(uuid.uuid4()),
            "username": user.username,
        }
        id_key, access_key = self.keyring.keys()
        return {
            "AccessToken": access_key.sign_jwt(access_claims),
            "ExpiresIn": self.access_validity,
            "IdToken": id_key.sign_jwt(id_claims),
            # Real refresh tokens are opaque to clients; nothing in the stand-in accepts them back.
            "RefreshToken": b64url(secrets.token_bytes(96)),
            "TokenType": "Bearer",
        }
