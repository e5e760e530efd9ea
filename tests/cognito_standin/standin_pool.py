"""The user pool the stand-in serves: pool file loading, defaults, validation and user lookup.

The pool file is read once at start. It is validated strictly (unknown keys are errors) so that a typo in a
test's pool file fails the test loudly instead of silently testing the defaults.
"""

import json
import uuid
from dataclasses import dataclass, field
from typing import Optional

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
_POOL_KEYS = set(_POOL_DEFAULTS) | {"clients", "users"}
_CLIENT_KEYS = {"client_id", "client_secret", "explicit_auth_flows"}
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
    # Registered WebAuthn credentials. Only their number matters until WebAuthn is implemented.
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
    return Client(client_id, secret or None, tuple(flows))


def _load_user(index: int, raw, pool_id: str) -> User:
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
        passkeys=list(_check_type(f"{where}.passkeys", raw.get("passkeys", []), list)),
    )
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

    raw_users = _check_type("users", raw.get("users", []), list)
    users = [_load_user(index, raw_user, pool_id) for index, raw_user in enumerate(raw_users)]
    _check_aliases_unique(users)

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
    )
