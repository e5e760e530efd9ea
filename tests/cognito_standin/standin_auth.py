"""The user pool's sign-in API: InitiateAuth (USER_AUTH) and RespondToAuthChallenge.

Structure:
- a Session remembers who is signing in, through which client, which challenge must be answered next and the
  challenge's private state (the code sent, the WebAuthn challenge and allowed credentials);
- each first factor is a Factor object that knows when a user is eligible, what happens when it is chosen
  (send a code, check a password, build CREDENTIAL_REQUEST_OPTIONS) and how its challenge is answered;
- AuthService does the checks common to every step (client, SECRET_HASH, session validity, attempt counting),
  and also serves the passkey credential operations of standin_passkeys (under the same lock).
PASSWORD_SRP is registered as a factor that is offered when eligible but not implemented.
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field

from standin_errors import ApiError, invalid, member, not_authorized, validation
from standin_passkeys import PasskeyService
from standin_pool import Pool, User
from standin_webauthn import WebAuthnError

AUTH_FLOWS = ("USER_SRP_AUTH", "REFRESH_TOKEN_AUTH", "REFRESH_TOKEN", "CUSTOM_AUTH", "ADMIN_NO_SRP_AUTH",
              "USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH", "USER_AUTH")
CHALLENGE_NAMES = ("SMS_MFA", "EMAIL_OTP", "SOFTWARE_TOKEN_MFA", "SELECT_MFA_TYPE", "MFA_SETUP",
                   "PASSWORD_VERIFIER", "CUSTOM_CHALLENGE", "SELECT_CHALLENGE", "DEVICE_SRP_AUTH",
                   "DEVICE_PASSWORD_VERIFIER", "ADMIN_NO_SRP_AUTH", "NEW_PASSWORD_REQUIRED", "SMS_OTP",
                   "PASSWORD", "WEB_AUTHN", "PASSWORD_SRP")

INVALID_SESSION = "Invalid session for the user."
SESSION_EXPIRED = "Invalid session for the user, session is expired."
SESSION_USED = "Invalid session for the user, session can only be used once."
WRONG_CODE = "Invalid code or auth state for the user."
WRONG_PASSWORD = "Incorrect username or password."

_CLIENT_ID = re.compile(r"[\w+]{1,128}")


def _string_map(body: dict, key: str) -> dict:
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ApiError("SerializationException", f"{key} must be a map of strings to strings")
    return value


def user_context_data(body: dict):
    """UserContextData as the model types it (UserContextDataType: IpAddress, EncodedData, both strings), or
    None. Anything else is refused as the service's deserializer would."""
    value = body.get("UserContextData")
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"IpAddress", "EncodedData"} or \
            not all(isinstance(v, str) for v in value.values()):
        raise ApiError("SerializationException",
                       "UserContextData must be an object with the string members IpAddress and EncodedData")
    return value


def secret_hash(client_secret: str, username: str, client_id: str) -> str:
    digest = hmac.new(client_secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain[:1]}***"


def mask_phone(phone: str) -> str:
    digits = phone.lstrip("+")
    return "+" + "*" * max(len(digits) - 4, 0) + digits[-4:]


class JsonLog:
    """An append-only JSON-lines file shared by all connection threads."""

    def __init__(self, path: str):
        self._lock = threading.Lock()
        self._file = open(path, "a", encoding="utf-8")

    def append(self, record: dict):
        line = json.dumps(record)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()



class Outbox:
    """Where "sent" codes go, one JSON line each, flushed at once: a test or the demo can read a code as soon
    as the API answer that announced it has arrived."""

    def __init__(self, path: str):
        self._log = JsonLog(path)

    def deliver(self, username: str, medium: str, destination: str, code: str):
        self._log.append({"time": time.time(), "username": username, "medium": medium,
                          "destination": destination, "code": code})


@dataclass
class SignIn:
    """Who is signing in and through which client: fixed by InitiateAuth, carried by every session."""
    client_id: str
    user: User
    sign_in_name: str  # USERNAME exactly as sent to InitiateAuth (may be an alias)


@dataclass
class Challenge:
    """A factor's answer to being chosen: the next challenge, and its private state for the session."""
    name: str
    parameters: dict
    state: dict = field(default_factory=dict)


class Authenticated:
    """A factor's verdict that the sign-in is complete."""


class WrongAnswer(Exception):
    """A wrong code or password: counted against the session's attempts, then answered with `error`."""

    def __init__(self, error: ApiError):
        super().__init__(error.message)
        self.error = error


@dataclass
class Session:
    token: str
    sign_in: SignIn
    challenge: str  # the ChallengeName the next RespondToAuthChallenge must answer
    available: tuple  # AvailableChallenges of the sign-in, for SELECT_CHALLENGE answers
    state: dict
    created: float
    failed_attempts: int = 0
    used: bool = False
    dead: bool = False


class SessionStore:
    def __init__(self, validity: float, clock):
        self._sessions = {}
        self._validity = validity
        self._clock = clock

    def create(self, sign_in: SignIn, challenge: Challenge, available: tuple) -> Session:
        self._forget_stale()
        token = "AYAB" + base64.urlsafe_b64encode(secrets.token_bytes(96)).rstrip(b"=").decode("ascii")
        session = Session(token, sign_in, challenge.name, available, challenge.state, self._clock())
        self._sessions[token] = session
        return session

    def live(self, token: str, client_id: str) -> Session:
        session = self._sessions.get(token)
        if session is None or session.sign_in.client_id != client_id or session.dead:
            raise not_authorized(INVALID_SESSION)
        if session.used:
            raise not_authorized(SESSION_USED)
        if self._clock() - session.created > self._validity:
            raise not_authorized(SESSION_EXPIRED)
        return session

    def _forget_stale(self):
        # Keeps memory bounded in a long-running demo while still recognising recently used or expired
        # sessions, which answer with their specific messages.
        horizon = self._clock() - self._validity - 3600
        for token in [t for t, s in self._sessions.items() if s.created < horizon]:
            del self._sessions[token]


class Factor:
    name = ""  # the ChallengeName (also the AvailableChallenges entry)
    first_factor = ""  # the pool's AllowedFirstAuthFactors value that enables it

    def eligible(self, user: User) -> bool:
        raise NotImplementedError

    def choose(self, service: "AuthService", sign_in: SignIn, params: dict):
        """Chosen by PREFERRED_CHALLENGE or a SELECT_CHALLENGE answer; `params` are that request's
        AuthParameters or ChallengeResponses. Returns a Challenge or Authenticated, or raises."""
        raise NotImplementedError

    def respond(self, service: "AuthService", session: Session, responses: dict):
        """Answers the challenge this factor issued. Returns a Challenge or Authenticated, or raises
        WrongAnswer (counted) or ApiError (not counted)."""
        raise invalid(f"Challenge {self.name} cannot be answered directly")


class OtpFactor(Factor):
    def __init__(self, name: str, medium: str, code_key: str, attribute: str, mask):
        self.name = self.first_factor = name
        self.medium = medium
        self.code_key = code_key
        self.attribute = attribute
        self.mask = mask

    def eligible(self, user: User) -> bool:
        return bool(getattr(user, self.attribute)) and getattr(user, self.attribute + "_verified")

    def choose(self, service, sign_in, params):
        user = sign_in.user
        destination = getattr(user, self.attribute)
        code = None
        # A phantom (masked unknown user) gets the same answer as a real one, but nothing is sent and no
        # code exists, so the challenge can never be passed.
        if not user.phantom:
            code = "".join(secrets.choice("0123456789") for _ in range(service.pool.otp_length))
            service.outbox.deliver(user.username, self.medium, destination, code)
        return Challenge(self.name, {"CODE_DELIVERY_DELIVERY_MEDIUM": self.medium,
                                     "CODE_DELIVERY_DESTINATION": self.mask(destination)}, {"code": code})

    def respond(self, service, session, responses):
        given = responses.get(self.code_key)
        if given is None:
            raise invalid(f"Missing required parameter {self.code_key}")
        expected = session.state["code"]
        if expected is None or not hmac.compare_digest(given.encode(), expected.encode()):
            raise WrongAnswer(ApiError("CodeMismatchException", WRONG_CODE))
        return Authenticated()


class PasswordFactor(Factor):
    name = first_factor = "PASSWORD"

    def eligible(self, user):
        return user.password is not None

    def choose(self, service, sign_in, params):
        given = params.get("PASSWORD")
        if given is None:
            raise invalid("Missing required parameter PASSWORD")
        expected = sign_in.user.password
        if expected is None or not hmac.compare_digest(given.encode(), expected.encode()):
            raise WrongAnswer(not_authorized(WRONG_PASSWORD))
        return Authenticated()


class WebAuthnFactor(Factor):
    """Passkey sign-in: the challenge carries CREDENTIAL_REQUEST_OPTIONS (a JSON string); the answer's CREDENTIAL
    (an AuthenticationResponseJSON string) is checked by standin_passkeys. Every refusal is a wrong answer:
    NotAuthorizedException, counted against the session's attempts like a wrong code."""
    name = first_factor = "WEB_AUTHN"

    def eligible(self, user):
        return len(user.passkeys) > 0

    def choose(self, service, sign_in, params):
        # A CREDENTIAL sent along with ANSWER=WEB_AUTHN is ignored: no challenge has been issued yet that it
        # could answer.
        options, state = service.passkeys.request_options(sign_in.user)
        return Challenge(self.name, {"CREDENTIAL_REQUEST_OPTIONS": json.dumps(options, separators=(",", ":"))},
                         state)

    def respond(self, service, session, responses):
        credential = responses.get("CREDENTIAL")
        if credential is None:
            raise invalid("Missing required parameter CREDENTIAL")
        try:
            service.passkeys.verify_assertion(session.sign_in.user, session.state, credential)
        except WebAuthnError as e:
            raise WrongAnswer(not_authorized(f"Passkey not accepted: {e.message}")) from e
        return Authenticated()


class NotImplementedFactor(Factor):
    """Offered to eligible users so AvailableChallenges is faithful, but refused when chosen."""

    def __init__(self, name: str, first_factor: str, eligible):
        self.name = name
        self.first_factor = first_factor
        self._eligible = eligible

    def eligible(self, user):
        return self._eligible(user)

    def choose(self, service, sign_in, params):
        raise invalid(f"{self.name} is not implemented by the Cognito stand-in")


# In the order Cognito lists AvailableChallenges.
FACTORS = {factor.name: factor for factor in (
    NotImplementedFactor("PASSWORD_SRP", "PASSWORD", lambda user: user.password is not None),
    PasswordFactor(),
    OtpFactor("EMAIL_OTP", "EMAIL", "EMAIL_OTP_CODE", "email", mask_email),
    OtpFactor("SMS_OTP", "SMS", "SMS_OTP_CODE", "phone_number", mask_phone),
    WebAuthnFactor(),
)}


class AuthService:
    def __init__(self, pool: Pool, tokens, outbox: Outbox, clock=time.time, passkey_file: str = None,
                 issued: JsonLog = None):
        self.pool = pool
        self.tokens = tokens
        self.outbox = outbox
        # Every Session and token handed out, so that a test can look for them in a client's memory.
        self._issued = issued
        self._clock = clock
        self.passkeys = PasskeyService(pool, tokens, clock, passkey_file)
        self._sessions = SessionStore(pool.session_validity_seconds, clock)
        # Everything below mutates shared sessions; one lock keeps concurrent answers to the same session
        # from both succeeding.
        self._lock = threading.Lock()
        self._phantom_key = secrets.token_bytes(32)
        # Set from control.json before each request (standin_server): see standin_control.Control.
        self.withdrawn_factors = {}
        self.ineligible_preferred_error = None
        self.one_factor_skips_select = False
        self.one_factor_skips_preference = False
        self.operations = {
            "InitiateAuth": self.initiate_auth,
            "RespondToAuthChallenge": self.respond_to_auth_challenge,
            **self.passkeys.operations,
        }

    def call(self, operation: str, body: dict) -> dict:
        handler = self.operations.get(operation)
        if handler is None:
            raise ApiError("UnknownOperationException", "")
        with self._lock:
            return handler(body)

    def initiate_auth(self, body: dict) -> dict:
        flow = member(body, "AuthFlow", required=True)
        client = self._client(body)
        params = _string_map(body, "AuthParameters")
        user_context_data(body)
        if flow not in AUTH_FLOWS:
            raise validation(flow, "authFlow", f"Member must satisfy enum value set: [{', '.join(AUTH_FLOWS)}]")
        if flow != "USER_AUTH":
            raise invalid("Initiate Auth method not supported.")
        if "ALLOW_USER_AUTH" not in client.explicit_auth_flows:
            raise not_authorized("USER_AUTH flow not enabled for this client")
        if body.get("Session") is not None:
            # Only ConfirmSignUp issues sessions for InitiateAuth, and the stand-in has no sign-up.
            raise not_authorized(INVALID_SESSION)
        name = params.get("USERNAME")
        if name is None:
            raise invalid("Missing required parameter USERNAME")
        self._check_secret_hash(client, name, params)

        sign_in = SignIn(client.client_id, self._resolve_user(name), name)
        withdrawn = self.withdrawn_factors.get(sign_in.user.username.casefold(), frozenset())
        available = tuple(f.name for f in FACTORS.values()
                          if f.first_factor in self.pool.allowed_first_auth_factors and f.eligible(sign_in.user)
                          and f.first_factor not in withdrawn)
        if not available:
            raise not_authorized("User has no sign-in method available.")

        preferred = params.get("PREFERRED_CHALLENGE")
        if preferred is not None and preferred not in FACTORS:
            raise invalid(f"Invalid PREFERRED_CHALLENGE {preferred}")
        if preferred is not None and preferred not in available and self.ineligible_preferred_error:
            error = self.ineligible_preferred_error
            raise ApiError(error.name, error.message, error.status)
        # The observed exception (specs/cognito-user-auth.md §3, "OBSERVED exception"): a user with exactly one
        # eligible factor and no PREFERRED_CHALLENGE goes straight to it (a code is sent), when control.json
        # says so; the documented answer is SELECT_CHALLENGE.
        if len(available) == 1 and ((preferred is None and self.one_factor_skips_select) or
                                    (preferred not in available and self.one_factor_skips_preference)):
            preferred = available[0]
        if preferred in available:
            try:
                step = FACTORS[preferred].choose(self, sign_in, params)
            except WrongAnswer as wrong:
                raise wrong.error
            return self._answer(step, sign_in, available, with_available=True)
        return self._answer(Challenge("SELECT_CHALLENGE", {}), sign_in, available, with_available=True)

    def respond_to_auth_challenge(self, body: dict) -> dict:
        client = self._client(body)
        challenge_name = member(body, "ChallengeName", required=True)
        if challenge_name not in CHALLENGE_NAMES:
            raise validation(challenge_name, "challengeName",
                             f"Member must satisfy enum value set: [{', '.join(CHALLENGE_NAMES)}]")
        responses = _string_map(body, "ChallengeResponses")
        user_context_data(body)
        token = member(body, "Session")
        if token is None:
            raise invalid("Missing required parameter Session")
        if not 20 <= len(token) <= 4096:
            raise validation("***", "session", "Member must have length between 20 and 4096")
        name = responses.get("USERNAME")
        if name is None:
            raise invalid("Missing required parameter USERNAME")

        session = self._sessions.live(token, client.client_id)
        # Spec §4 ("Which username"): signed in with an alias, the pool verifies a challenge response's
        # SECRET_HASH against its internal user name, the USERNAME it announced in ChallengeParameters, not
        # against the alias given to InitiateAuth.
        self._check_secret_hash(client, session.sign_in.user.username, responses)
        if not self._names_session_user(session, name):
            raise not_authorized(INVALID_SESSION)
        if challenge_name != session.challenge:
            raise invalid(f"Challenge {challenge_name} does not match the session's challenge {session.challenge}")

        try:
            if session.challenge == "SELECT_CHALLENGE":
                answer = responses.get("ANSWER")
                if answer is None:
                    raise invalid("Missing required parameter ANSWER")
                if answer not in session.available:
                    raise invalid(f"ANSWER {answer} is not one of the available challenges")
                step = FACTORS[answer].choose(self, session.sign_in, responses)
            else:
                step = FACTORS[session.challenge].respond(self, session, responses)
        except WrongAnswer as wrong:
            session.failed_attempts += 1
            if session.failed_attempts >= self.pool.max_code_attempts:
                session.dead = True
            raise wrong.error
        session.used = True
        return self._answer(step, session.sign_in, session.available, with_available=False)

    def _answer(self, step, sign_in: SignIn, available: tuple, with_available: bool) -> dict:
        if isinstance(step, Authenticated):
            if sign_in.user.phantom:
                raise ApiError("InternalErrorException", "stand-in bug: a phantom user passed a challenge", 500)
            result = self.tokens.authentication_result(sign_in.user, sign_in.client_id)
            for kind in ("IdToken", "AccessToken", "RefreshToken"):
                self._record_issued(kind, result[kind])
            return {"AuthenticationResult": result, "ChallengeParameters": {}}
        session = self._sessions.create(sign_in, step, available)
        self._record_issued("Session", session.token)
        # Every challenge announces the pool's internal user name (spec §4): the name a challenge response's
        # SECRET_HASH is computed over.
        parameters = {**step.parameters, "USERNAME": sign_in.user.username}
        reply = {"ChallengeName": step.name, "Session": session.token, "ChallengeParameters": parameters}
        if with_available:
            reply["AvailableChallenges"] = list(available)
        return reply

    def _record_issued(self, kind: str, value: str):
        if self._issued is not None:
            self._issued.append({"time": time.time(), "kind": kind, "value": value})

    def _client(self, body: dict):
        client_id = member(body, "ClientId", required=True)
        if not _CLIENT_ID.fullmatch(client_id):
            raise validation(client_id, "clientId", r"Member must satisfy regular expression pattern: [\w+]+")
        client = self.pool.clients.get(client_id)
        if client is None:
            raise ApiError("ResourceNotFoundException", f"User pool client {client_id} does not exist.")
        return client

    @staticmethod
    def _check_secret_hash(client, name: str, params: dict):
        if client.client_secret is None:
            return
        given = params.get("SECRET_HASH")
        if not given:
            raise not_authorized(
                f"Client {client.client_id} is configured with secret but SECRET_HASH was not received")
        expected = secret_hash(client.client_secret, name, client.client_id)
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise not_authorized(f"Unable to verify secret hash for client {client.client_id}")

    def _resolve_user(self, name: str) -> User:
        user = self.pool.find_user(name)
        if user is None:
            if self.pool.prevent_user_existence_errors == "LEGACY":
                raise ApiError("UserNotFoundException", "User does not exist.")
            return self._phantom(name)
        if not user.enabled:
            raise not_authorized("User is disabled.")
        if not user.confirmed:
            raise ApiError("UserNotConfirmedException", "User is not confirmed.")
        return user

    def _phantom(self, name: str) -> User:
        """A made-up user for an unknown sign-in name: verified email and phone so it is offered the OTP factors,
        with destinations derived from the name (the same name always shows the same masked destination)."""
        digest = hmac.new(self._phantom_key, name.casefold().encode(), hashlib.sha256).digest()
        email = name if "@" in name else f"{name}@{'abcdefghijklmnopqrstuvwxyz'[digest[0] % 26]}.invalid"
        phone = name if re.fullmatch(r"\+\d{8,15}", name) else "+1555" + "".join(str(b % 10) for b in digest[1:8])
        # Its internal name is announced like a real user's: made up like a sub, so that it does not echo
        # the name that was typed (which a real user's announced name would not).
        internal = str(uuid.UUID(bytes=digest[16:32], version=4))
        return User(username=internal, sub="", email=email, email_verified=True, phone_number=phone,
                    phone_number_verified=True, phantom=True)

    def _names_session_user(self, session: Session, name: str) -> bool:
        sign_in = session.sign_in
        if name in (sign_in.sign_in_name, sign_in.user.username):
            return True
        return not sign_in.user.phantom and self.pool.find_user(name) is sign_in.user
