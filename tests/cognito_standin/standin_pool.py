"""The user pool the stand-in serves: pool file loading, defaults, validation and user lookup.

The pool file is read once at start. It is validated strictly (unknown keys are errors) so that a typo in a
test's pool file fails the test loudly instead of silently testing the defaults.
"""

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Optional

import standin_webauthn
from standin_webauthn import PublicKey, WebAuthnError

FIRST_FACTORS = ("EMAIL_OTP", "SMS_OTP", "WEB_AUTHN", "PASSWORD")
EXISTENCE_ERROR_MODES = ("LEGACY", "ENABLED")

_POOL_DEFAULTS = {
    "pool_id": "us-east-1_TestPool",
    "allowed_first_auth_factors": list(FIRST_FACTORS),
    "session_validity_seconds": 180,
    "otp_length": 8,
    "max_code_attempts": 3,
    # The service model documents LEGACY as the default of PreventUserExistenceErrors.
    "prevent_user_existence_errors": "LEGACY",
    "id_token_validity_seconds": 3600,
    "access_token_validity_seconds": 3600,
}
_POOL_KEYS = set(_POOL_DEFAULTS) | {"clients", "users", "webauthn"}
_WEBAUTHN_DEFAULTS = {
    "relying_party_id": "auth.example.test",
    "user_verification": "preferred",
    "origins": None,  # None: ["https://<relying_party_id>"]
    "registration_timeout_ms": 60000,
}
USER_VERIFICATION = ("preferred", "required")
AUTHENTICATOR_ATTACHMENTS = ("platform", "cross-platform")
MAX_PASSKEYS_PER_USER = 20
_PASSKEY_KEYS = {"credential_id", "public_key_cose", "public_key_spki", "sign_count", "transports",
                 "authenticator_attachment", "friendly_name", "created_at"}
_RP_ID = re.compile(r"(?=.{1,127}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")
_CLIENT_KEYS = {"client_id", "client_secret", "explicit_auth_flows", "oauth"}
_USER_KEYS = {
    "username", "sub", "email", "email_verified", "phone_number", "phone_number_verified",
    "enabled", "confirmed", "password", "passkeys",
}


class PoolError(ValueError):
    """The pool file is unusable; the message names the offending key."""


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: Optional[str]
    explicit_auth_flows: tuple
    # The client's managed-login (OAuth 2.0) settings, checked by standin_managed_login; None: no OAuth.
    oauth: Optional[dict] = None


@dataclass(frozen=True)
class WebAuthnConfig:
    relying_party_id: str
    user_verification: str  # "preferred" or "required"
    origins: tuple  # exact origins, or "<scheme>://*.<domain>" for any subdomain of <domain>
    registration_timeout_ms: int

    @property
    def require_uv(self) -> bool:
        return self.user_verification == "required"


@dataclass
class Passkey:
    """A registered WebAuthn credential. The same record is a pool file "passkeys" entry and a line of the
    state directory's passkeys.json (which always writes the key as SPKI)."""
    credential_id: str  # base64url without padding: as listed, deleted, and sent in allowCredentials
    public_key: PublicKey
    sign_count: int
    transports: list
    authenticator_attachment: Optional[str]
    friendly_name: str
    relying_party_id: str
    created_at: float
    seq: int = 0  # registration order within the running stand-in; paging follows it

    def to_json(self) -> dict:
        return {"credential_id": self.credential_id,
                "public_key_spki": standin_webauthn.b64url(self.public_key.spki()),
                "sign_count": self.sign_count, "transports": list(self.transports),
                "authenticator_attachment": self.authenticator_attachment,
                "friendly_name": self.friendly_name, "created_at": self.created_at}


def default_friendly_name(attachment: Optional[str]) -> str:
    return {"cross-platform": "Roaming passkey", "platform": "Platform passkey"}.get(attachment, "Passkey")


@dataclass
class User:
    username: str
    sub: str
    email: Optional[str] = None
    email_verified: bool = False
    phone_number: Optional[str] = None
    phone_number_verified: bool = False
    enabled: bool = True
    confirmed: bool = True
    password: Optional[str] = None
    # Registered WebAuthn credentials (Passkey), in registration order.
    passkeys: list = field(default_factory=list)
    # A stand-in for a user who does not exist, used to mask non-existence (PreventUserExistenceErrors=ENABLED).
    phantom: bool = False


@dataclass
class Pool:
    pool_id: str
    clients: dict
    users: list
    allowed_first_auth_factors: tuple
    session_validity_seconds: float
    otp_length: int
    max_code_attempts: int
    prevent_user_existence_errors: str
    id_token_validity_seconds: int
    access_token_validity_seconds: int
    webauthn: WebAuthnConfig

    def user_by_username(self, username: str) -> Optional[User]:
        """Exactly this username (case-insensitively), no aliases: what an access token names."""
        folded = username.casefold()
        return next((user for user in self.users if user.username.casefold() == folded), None)

    def find_user(self, name: str) -> Optional[User]:
        """Resolves a sign-in name: the username, or a verified email / phone number alias."""
        # Usernames and email aliases compare case-insensitively, as in pools created with the default
        # (case-insensitive) username configuration.
        folded = name.casefold()
        for user in self.users:
            if user.username.casefold() == folded:
                return user
        for user in self.users:
            if user.email_verified and user.email and user.email.casefold() == folded:
                return user
            if user.phone_number_verified and user.phone_number == name:
                return user
        return None


def _check_type(where: str, value, kinds, allow_none=False):
    if value is None and allow_none:
        return value
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    # bool is an int subclass, but a boolean where a number belongs is a mistake in the pool file.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        expected = " or ".join(kind.__name__ for kind in kinds)
        raise PoolError(f"{where}: expected {expected}, got {type(value).__name__}")
    return value


def _reject_unknown(where: str, obj: dict, allowed: set):
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise PoolError(f"{where}: unknown key(s) {', '.join(unknown)}")


def _load_client(index: int, raw) -> Client:
    where = f"clients[{index}]"
    _check_type(where, raw, dict)
    _reject_unknown(where, raw, _CLIENT_KEYS)
    if "client_id" not in raw:
        raise PoolError(f"{where}: client_id is required")
    client_id = _check_type(f"{where}.client_id", raw["client_id"], str)
    secret = _check_type(f"{where}.client_secret", raw.get("client_secret"), str, allow_none=True)
    flows = _check_type(f"{where}.explicit_auth_flows", raw.get("explicit_auth_flows", ["ALLOW_USER_AUTH"]), list)
    for flow in flows:
        _check_type(f"{where}.explicit_auth_flows[]", flow, str)
    oauth = _check_type(f"{where}.oauth", raw.get("oauth"), dict, allow_none=True)
    return Client(client_id, secret or None, tuple(flows), oauth)


def _load_webauthn(raw) -> WebAuthnConfig:
    raw = {} if raw is None else _check_type("webauthn", raw, dict)
    _reject_unknown("webauthn", raw, set(_WEBAUTHN_DEFAULTS))
    values = {key: raw.get(key, default) for key, default in _WEBAUTHN_DEFAULTS.items()}
    rp_id = _check_type("webauthn.relying_party_id", values["relying_party_id"], str)
    if not _RP_ID.fullmatch(rp_id):
        raise PoolError("webauthn.relying_party_id: must be a lower-case host name of 1-127 characters")
    uv = values["user_verification"]
    if uv not in USER_VERIFICATION:
        raise PoolError(f"webauthn.user_verification: must be one of {USER_VERIFICATION}")
    origins = values["origins"]
    if origins is None:
        origins = [f"https://{rp_id}"]
    _check_type("webauthn.origins", origins, list)
    if not origins:
        raise PoolError("webauthn.origins: at least one origin is required")
    for origin in origins:
        _check_type("webauthn.origins[]", origin, str)
    timeout = _check_type("webauthn.registration_timeout_ms", values["registration_timeout_ms"], int)
    if timeout <= 0:
        raise PoolError("webauthn.registration_timeout_ms: must be positive")
    return WebAuthnConfig(rp_id, uv, tuple(origins), timeout)


def load_passkey(where: str, raw, rp_id: str, now: float) -> Passkey:
    """One "passkeys" entry (pool file or passkeys.json); raises PoolError naming the bad key."""
    _check_type(where, raw, dict)
    _reject_unknown(where, raw, _PASSKEY_KEYS)
    try:
        if "credential_id" not in raw:
            raise PoolError(f"{where}: credential_id is required")
        credential_id = standin_webauthn.b64url_decode(raw["credential_id"], f"{where}.credential_id")
        if not 1 <= len(credential_id) <= standin_webauthn.MAX_CREDENTIAL_ID_BYTES:
            raise PoolError(f"{where}.credential_id: must be 1-1023 bytes")
        if ("public_key_cose" in raw) == ("public_key_spki" in raw):
            raise PoolError(f"{where}: exactly one of public_key_cose and public_key_spki is required")
        if "public_key_cose" in raw:
            key = standin_webauthn.public_key_from_cose_bytes(
                standin_webauthn.b64url_decode(raw["public_key_cose"], f"{where}.public_key_cose"))
        else:
            key = standin_webauthn.public_key_from_spki(
                standin_webauthn.b64url_decode(raw["public_key_spki"], f"{where}.public_key_spki"))
    except WebAuthnError as e:
        raise PoolError(f"{where}: {e.message}") from e
    sign_count = _check_type(f"{where}.sign_count", raw.get("sign_count", 0), int)
    if not 0 <= sign_count < 2 ** 32:
        raise PoolError(f"{where}.sign_count: must be a 32-bit unsigned number")
    transports = _check_type(f"{where}.transports", raw.get("transports", []), list)
    for transport in transports:
        _check_type(f"{where}.transports[]", transport, str)
    attachment = raw.get("authenticator_attachment", "cross-platform")
    if attachment is not None and attachment not in AUTHENTICATOR_ATTACHMENTS:
        raise PoolError(f"{where}.authenticator_attachment: must be null or one of {AUTHENTICATOR_ATTACHMENTS}")
    name = _check_type(f"{where}.friendly_name", raw.get("friendly_name", default_friendly_name(attachment)), str)
    created = _check_type(f"{where}.created_at", raw.get("created_at", now), (int, float))
    return Passkey(raw["credential_id"], key, sign_count, list(transports), attachment, name, rp_id, float(created))


def _load_user(index: int, raw, pool_id: str, webauthn: WebAuthnConfig, now: float) -> User:
    where = f"users[{index}]"
    _check_type(where, raw, dict)
    _reject_unknown(where, raw, _USER_KEYS)
    if "username" not in raw:
        raise PoolError(f"{where}: username is required")
    username = _check_type(f"{where}.username", raw["username"], str)
    # A stable default sub keeps tokens comparable across stand-in restarts with the same pool file.
    default_sub = str(uuid.uuid5(uuid.NAMESPACE_URL, f"cognito-standin:{pool_id}:{username}"))
    user = User(
        username=username,
        sub=_check_type(f"{where}.sub", raw.get("sub", default_sub), str),
        email=_check_type(f"{where}.email", raw.get("email"), str, allow_none=True),
        # Cognito treats an attribute as unverified unless it was verified; so does the stand-in.
        email_verified=_check_type(f"{where}.email_verified", raw.get("email_verified", False), bool),
        phone_number=_check_type(f"{where}.phone_number", raw.get("phone_number"), str, allow_none=True),
        phone_number_verified=_check_type(
            f"{where}.phone_number_verified", raw.get("phone_number_verified", False), bool),
        enabled=_check_type(f"{where}.enabled", raw.get("enabled", True), bool),
        confirmed=_check_type(f"{where}.confirmed", raw.get("confirmed", True), bool),
        password=_check_type(f"{where}.password", raw.get("password"), str, allow_none=True),
        passkeys=[load_passkey(f"{where}.passkeys[{number}]", entry, webauthn.relying_party_id, now)
                  for number, entry in enumerate(_check_type(f"{where}.passkeys", raw.get("passkeys", []), list))],
    )
    if len(user.passkeys) > MAX_PASSKEYS_PER_USER:
        raise PoolError(f"{where}.passkeys: at most {MAX_PASSKEYS_PER_USER} passkeys per user")
    if user.phone_number is not None and not (
            user.phone_number.startswith("+") and user.phone_number[1:].isdigit()):
        raise PoolError(f"{where}.phone_number: must be E.164 (+ and digits)")
    return user


def _check_aliases_unique(users: list):
    seen = {}
    for user in users:
        names = [("username", user.username.casefold())]
        if user.email_verified and user.email:
            names.append(("email", user.email.casefold()))
        if user.phone_number_verified and user.phone_number:
            names.append(("phone_number", user.phone_number))
        for kind, name in names:
            if name in seen and seen[name] is not user:
                raise PoolError(f"sign-in name {name!r} ({kind} of {user.username}) is already used by "
                                f"{seen[name].username}")
            seen[name] = user


def check_credential_ids_unique(users: list):
    seen = {}
    for user in users:
        for passkey in user.passkeys:
            if passkey.credential_id in seen:
                raise PoolError(f"passkey {passkey.credential_id} of {user.username} is already registered to "
                                f"{seen[passkey.credential_id].username}")
            seen[passkey.credential_id] = user


def load_pool(path: str) -> Pool:
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except (OSError, ValueError) as e:
        raise PoolError(f"cannot read pool file {path}: {e}") from e
    _check_type("pool", raw, dict)
    _reject_unknown("pool", raw, _POOL_KEYS)
    values = {key: raw.get(key, default) for key, default in _POOL_DEFAULTS.items()}

    pool_id = _check_type("pool_id", values["pool_id"], str)
    if "_" not in pool_id:
        raise PoolError("pool_id: must look like <region>_<id>")
    factors = _check_type("allowed_first_auth_factors", values["allowed_first_auth_factors"], list)
    for factor in factors:
        if factor not in FIRST_FACTORS:
            raise PoolError(f"allowed_first_auth_factors: unknown factor {factor!r}")
    validity = _check_type("session_validity_seconds", values["session_validity_seconds"], (int, float))
    if validity <= 0:
        raise PoolError("session_validity_seconds: must be positive")
    otp_length = _check_type("otp_length", values["otp_length"], int)
    if not 4 <= otp_length <= 10:
        raise PoolError("otp_length: must be between 4 and 10")
    max_attempts = _check_type("max_code_attempts", values["max_code_attempts"], int)
    if max_attempts < 1:
        raise PoolError("max_code_attempts: must be at least 1")
    mode = values["prevent_user_existence_errors"]
    if mode not in EXISTENCE_ERROR_MODES:
        raise PoolError(f"prevent_user_existence_errors: must be one of {EXISTENCE_ERROR_MODES}")
    for key in ("id_token_validity_seconds", "access_token_validity_seconds"):
        if _check_type(key, values[key], int) <= 0:
            raise PoolError(f"{key}: must be positive")

    raw_clients = _check_type("clients", raw.get("clients", []), list)
    if not raw_clients:
        raise PoolError("clients: at least one app client is required")
    clients = {}
    for index, raw_client in enumerate(raw_clients):
        client = _load_client(index, raw_client)
        if client.client_id in clients:
            raise PoolError(f"clients[{index}]: duplicate client_id {client.client_id}")
        clients[client.client_id] = client

    webauthn = _load_webauthn(raw.get("webauthn"))
    raw_users = _check_type("users", raw.get("users", []), list)
    now = time.time()
    users = [_load_user(index, raw_user, pool_id, webauthn, now) for index, raw_user in enumerate(raw_users)]
    _check_aliases_unique(users)
    check_credential_ids_unique(users)

    return Pool(
        pool_id=pool_id,
        clients=clients,
        users=users,
        allowed_first_auth_factors=tuple(factors),
        session_validity_seconds=validity,
        otp_length=otp_length,
        max_code_attempts=max_attempts,
        prevent_user_existence_errors=mode,
        id_token_validity_seconds=values["id_token_validity_seconds"],
        access_token_validity_seconds=values["access_token_validity_seconds"],
        webauthn=webauthn,
    )
