"""The control file (DIR/control.json) through which a test changes the stand-in's behaviour while it runs.

It is re-read on every accepted connection and every request, so a test changes behaviour by rewriting it
(atomically: write a temporary file and rename it). Absent or empty means normal behaviour. Unknown keys and
bad values are errors, so that a typo cannot silently leave a fault test testing the normal path.
"""

import json
from dataclasses import dataclass, field
from typing import Optional

from standin_tls import TLS_MODES

FAULTS = ("http_500", "malformed", "drop", "truncated", "huge", "invalid_utf8", "empty", "duplicate_member")
# Faults that change how the real answer is written rather than replacing it (the operation still runs).
ANSWER_FAULTS = ("duplicate_member",)
JWKS_MODES = ("ok", "down", "rotated")
# Whether the managed login's ID tokens carry `amr` (specs/cognito-managed-login.md §7; whether the live
# service puts it there without acr_values is UNVERIFIED, §11 item 3): "factor" = the factor used, "absent" = none.
AMR_MODES = ("factor", "absent")
_KEYS = {"tls", "delay_ms", "fault", "error", "ops", "jwks", "clock_offset_s", "withdrawn_factors",
         "ineligible_preferred_error", "id_token_amr", "one_factor_skips_select",
         "one_factor_skips_preference", "signed_in_delay_ms",
         "code_sent_delay_ms"}
# AllowedFirstAuthFactors values: what withdrawn_factors may take away from a user.
FIRST_FACTORS = ("PASSWORD", "EMAIL_OTP", "SMS_OTP", "WEB_AUTHN")


class ControlError(ValueError):
    pass


@dataclass(frozen=True)
class InjectedError:
    name: str
    message: str
    status: int


@dataclass(frozen=True)
class Control:
    tls: str = "ok"
    delay_ms: int = 0
    fault: Optional[str] = None
    error: Optional[InjectedError] = None
    ops: Optional[frozenset] = None  # None: delay, fault and error apply to every operation
    jwks: str = "ok"
    # Moves the pool's clock (sessions, codes, tokens) forward, so a test can let a session expire without waiting.
    clock_offset_s: float = 0
    # A user's factors taken away since the pool file was read (an attribute unverified, a passkey deleted):
    # casefolded pool user name -> frozenset of AllowedFirstAuthFactors values.
    withdrawn_factors: dict = field(default_factory=dict)
    # What an InitiateAuth whose PREFERRED_CHALLENGE the user is not eligible for answers instead of
    # SELECT_CHALLENGE (the spec allows either, §2.4).
    ineligible_preferred_error: Optional[InjectedError] = None
    # "absent": the managed login's ID tokens carry no `amr` (a pool that does not put it there).
    id_token_amr: str = "factor"
    # An InitiateAuth without PREFERRED_CHALLENGE for a user with one eligible factor answers that factor's
    # challenge (a code is sent) instead of SELECT_CHALLENGE: the behaviour observed on the live service.
    one_factor_skips_select: bool = False
    # Further: even an InitiateAuth whose PREFERRED_CHALLENGE the user cannot use answers that one factor's
    # challenge, sending the code. Documented nowhere (a pool answers such a preference with
    # SELECT_CHALLENGE, §2.4); modelled so that the helper's count of a code it did not ask for stays tested.
    one_factor_skips_preference: bool = False
    # A further sleep before an answer that signs the person in (AuthenticationResult): issuing the tokens
    # makes the pool's acceptance of a code or passkey slower than its refusal.
    signed_in_delay_ms: int = 0
    # A further sleep before an answer that sent a code (ChallengeName EMAIL_OTP or SMS_OTP): sending may make
    # the pool's answer slower than one that sends nothing (the method menu, a passkey's options).
    code_sent_delay_ms: int = 0

    def targets(self, operation: Optional[str]) -> bool:
        return self.ops is None or operation in self.ops


def _one_of(key: str, value, allowed):
    if value not in allowed:
        raise ControlError(f"{key}: {value!r} is not one of {', '.join(allowed)}")
    return value


def _flag(key: str, value) -> bool:
    if not isinstance(value, bool):
        raise ControlError(f"{key}: must be true or false")
    return value


def _error(value) -> Optional[InjectedError]:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"name", "message", "status"}:
        raise ControlError("error: expected {\"name\": ..., \"message\": ..., \"status\": ...}")
    name, message, status = value.get("name"), value.get("message", ""), value.get("status", 400)
    if not isinstance(name, str) or not name:
        raise ControlError("error.name: a non-empty string is required")
    if not isinstance(message, str):
        raise ControlError("error.message: must be a string")
    if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
        raise ControlError("error.status: must be an HTTP error status (400-599)")
    return InjectedError(name, message, status)


def _withdrawn(value) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ControlError("withdrawn_factors: expected {\"<pool user name>\": [\"EMAIL_OTP\", ...]}")
    out = {}
    for name, factors in value.items():
        if not isinstance(factors, list):
            raise ControlError(f"withdrawn_factors.{name}: expected a list of factors")
        for f in factors:
            _one_of(f"withdrawn_factors.{name}", f, FIRST_FACTORS)
        out[name.casefold()] = frozenset(factors)
    return out


def read_control(path: str, operations: set) -> Control:
    """`operations`: the names "ops" may list, so that a misspelt one is an error rather than a no-op."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return Control()
    except (OSError, UnicodeDecodeError) as e:
        raise ControlError(f"cannot read {path}: {e}") from e
    if not text.strip():
        return Control()
    try:
        raw = json.loads(text)
    except ValueError as e:
        raise ControlError(f"not JSON: {e}") from e
    if not isinstance(raw, dict):
        raise ControlError("must be a JSON object")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise ControlError(f"unknown key(s) {', '.join(unknown)}")

    delay = raw.get("delay_ms", 0)
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
        raise ControlError("delay_ms: must be a non-negative number")
    extra_delays = {}
    for key in ("signed_in_delay_ms", "code_sent_delay_ms"):
        value = raw.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ControlError(f"{key}: must be a non-negative number")
        extra_delays[key] = value
    ops = raw.get("ops")
    if ops is not None:
        if not isinstance(ops, list) or not all(isinstance(op, str) for op in ops):
            raise ControlError("ops: must be a list of operation names")
        unknown = sorted(set(ops) - operations)
        if unknown:
            raise ControlError(f"ops: unknown operation(s) {', '.join(unknown)}; "
                               f"known: {', '.join(sorted(operations))}")
        ops = frozenset(ops)
    offset = raw.get("clock_offset_s", 0)
    if isinstance(offset, bool) or not isinstance(offset, (int, float)):
        raise ControlError("clock_offset_s: must be a number of seconds")
    fault = raw.get("fault")
    return Control(
        tls=_one_of("tls", raw.get("tls", "ok"), TLS_MODES),
        delay_ms=delay,
        fault=None if fault is None else _one_of("fault", fault, FAULTS),
        error=_error(raw.get("error")),
        ops=ops,
        jwks=_one_of("jwks", raw.get("jwks", "ok"), JWKS_MODES),
        clock_offset_s=offset,
        withdrawn_factors=_withdrawn(raw.get("withdrawn_factors")),
        ineligible_preferred_error=_error(raw.get("ineligible_preferred_error")),
        id_token_amr=_one_of("id_token_amr", raw.get("id_token_amr", "factor"), AMR_MODES),
        one_factor_skips_select=_flag("one_factor_skips_select", raw.get("one_factor_skips_select", False)),
        one_factor_skips_preference=_flag("one_factor_skips_preference",
                                          raw.get("one_factor_skips_preference", False)),
        **extra_delays,
    )
