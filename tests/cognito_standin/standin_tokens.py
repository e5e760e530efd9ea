"""JWT signing keys, the JWKS document, the tokens a successful sign-in returns, and the check of the access
tokens that authorize the WebAuthn credential operations."""

import base64
import binascii
import json
import secrets
import threading
import time
import uuid

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    if not text or "=" in text:
        raise ValueError("not base64url without padding")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


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

    def verified_claims(self, token: str) -> dict:
        """The claims of a JWT this key signed; raises ValueError for anything else."""
        parts = token.split(".")
        if len(parts) != 3:
            raise ValueError("not a JWT")
        try:
            header = json.loads(_b64url_decode(parts[0]))
            signature = _b64url_decode(parts[2])
            if not isinstance(header, dict) or header.get("alg") != "RS256" or header.get("kid") != self.kid:
                raise ValueError("not signed with this key")
            self.private.public_key().verify(signature, (parts[0] + "." + parts[1]).encode("ascii"),
                                             padding.PKCS1v15(), hashes.SHA256())
            claims = json.loads(_b64url_decode(parts[1]))
        except (binascii.Error, UnicodeError, InvalidSignature) as e:
            raise ValueError(str(e) or type(e).__name__) from e
        if not isinstance(claims, dict):
            raise ValueError("claims are not an object")
        return claims


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


INVALID_ACCESS_TOKEN = "Invalid Access Token"
EXPIRED_ACCESS_TOKEN = "Access Token has expired"
USER_ADMIN_SCOPE = "aws.cognito.signin.user.admin"


class AccessTokenError(ValueError):
    """An access token that does not authorize anything; the message is the one to answer with."""


class TokenIssuer:
    def __init__(self, keyring: KeyRing, issuer: str, id_validity: int, access_validity: int, clock=time.time):
        self.keyring = keyring
        self.issuer = issuer
        self.id_validity = id_validity
        self.access_validity = access_validity
        self._clock = clock

    def access_claims(self, token: str) -> dict:
        """The claims of an access token this pool issued that is still valid: signed with the access-token
        key (an ID token is refused by its kid), this issuer, token_use "access", the user-admin scope, and
        not expired by the pool's clock. Raises AccessTokenError."""
        _, access_key = self.keyring.keys()
        try:
            claims = access_key.verified_claims(token)
        except ValueError as e:
            raise AccessTokenError(INVALID_ACCESS_TOKEN) from e
        scopes = claims.get("scope", "").split() if isinstance(claims.get("scope"), str) else []
        if (claims.get("iss") != self.issuer or claims.get("token_use") != "access" or USER_ADMIN_SCOPE not in scopes
                or not isinstance(claims.get("exp"), int) or not isinstance(claims.get("client_id"), str)
                or not isinstance(claims.get("username"), str) or not isinstance(claims.get("sub"), str)):
            raise AccessTokenError(INVALID_ACCESS_TOKEN)
        if claims["exp"] <= self._clock():
            raise AccessTokenError(EXPIRED_ACCESS_TOKEN)
        return claims

    def authentication_result(self, user, client_id: str) -> dict:
        now = int(self._clock())
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
            "scope": USER_ADMIN_SCOPE,
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
