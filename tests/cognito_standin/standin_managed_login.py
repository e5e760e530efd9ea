"""Managed login (the pool domain's hosted OAuth 2.0 / OIDC pages) for "sign in with your browser":
GET /oauth2/authorize, the /login page (passkey through WebAuthn, or an email code), the `cognito` session
cookie and `prompt`, the redirect to the callback with `code` and `state`, POST /oauth2/token (authorization-code
grant with PKCE), the /error page, and the callback page served from a second origin.
Spec: specs/cognito-managed-login.md §3–§7, §9, §10. Choices where the spec says UNVERIFIED: README.md."""

import base64
import hashlib
import hmac
import html
import http.server
import json
import os
import re
import secrets
import socket
import ssl
import sys
import urllib.parse
import uuid
from dataclasses import dataclass, field
from typing import Optional

from standin_control import ControlError
from standin_pool import PoolError
from standin_server import TOKEN_OPERATION
from standin_tokens import b64url
from standin_webauthn import WebAuthnError

CODE_TTL = 300  # authorization codes, §3
TRANSACTION_TTL = 300  # an authorize transaction not finished in 5 minutes is cancelled, §4.3
SESSION_TTL = 3600  # the `cognito` cookie: 1 h from the last interactive sign-in, not extended by use, §4.2
COOKIE = "cognito"
MAX_FORM = 16 * 1024
KNOWN_SCOPES = {"openid", "email", "phone", "profile", "aws.cognito.signin.user.admin"}
OAUTH_KEYS = {"allowed_oauth_flows_user_pool_client", "allowed_oauth_flows", "allowed_oauth_scopes", "callback_urls",
              "supported_identity_providers"}
# In a pool file's callback_urls, this stands for the callback page the stand-in serves itself (its port is
# known only once bound).
CALLBACK_PLACEHOLDER = "{callback_page}"
_PKCE_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
CALLBACK_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "callback"))
CALLBACK_FILES = {"index.html": "text/html; charset=utf-8", "callback.js": "text/javascript; charset=utf-8",
                  "callback.css": "text/css; charset=utf-8"}


def check_oauth_clients(pool):
    """Validates every client's `oauth` member (raises PoolError)."""
    for client in pool.clients.values():
        oauth = client.oauth
        if oauth is None:
            continue
        where = f"client {client.client_id}: oauth"
        unknown = sorted(set(oauth) - OAUTH_KEYS)
        if unknown:
            raise PoolError(f"{where}: unknown key(s) {', '.join(unknown)}")
        if not isinstance(oauth.get("allowed_oauth_flows_user_pool_client", False), bool):
            raise PoolError(f"{where}.allowed_oauth_flows_user_pool_client: expected bool")
        for key in ("allowed_oauth_flows", "allowed_oauth_scopes", "callback_urls", "supported_identity_providers"):
            value = oauth.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise PoolError(f"{where}.{key}: expected a list of strings")
        for flow in oauth.get("allowed_oauth_flows", []):
            if flow not in ("code", "implicit", "client_credentials"):
                raise PoolError(f"{where}.allowed_oauth_flows: unknown flow {flow!r}")
        for scope in oauth.get("allowed_oauth_scopes", []):
            if scope not in KNOWN_SCOPES:
                raise PoolError(f"{where}.allowed_oauth_scopes: unknown scope {scope!r}")


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    scopes: list
    challenge: Optional[str]
    nonce: Optional[str]
    user: object
    auth_time: int
    amr: list
    expires: float


@dataclass
class _Transaction:
    params: dict  # the validated authorize request
    client: object
    expires: float
    user: object = None
    passkey_state: Optional[dict] = None
    email_code: Optional[str] = None
    attempts: int = 0


@dataclass
class _Session:
    user: object
    auth_time: int
    amr: list
    expires: float


@dataclass
class _Answer:
    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: list = field(default_factory=list)


class _Redirect(Exception):
    def __init__(self, location: str):
        self.location = location


def _page(title: str, body: str, status: int = 200, headers=()) -> _Answer:
    text = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<meta name=\"viewport\" content=\"width=device-width\"></head><body>{body}</body></html>\n")
    return _Answer(status, text.encode(), headers=list(headers))


def _error_page(message: str, status: int = 400) -> _Answer:
    return _page("Error", f"<h1>An error was encountered</h1><p id=\"error\">{html.escape(message)}</p>", status)


def _passkey_amr(user, credential) -> str:
    """The `amr` value of a passkey sign-in (§7 [DG-ACR]): "hwk" for a roaming (cross-platform) authenticator,
    "swk" for a platform one. The attachment the browser reported for this assertion, else the one recorded at
    registration; neither known: "swk" (the spec's example)."""
    attachment = credential.get("authenticatorAttachment") if isinstance(credential, dict) else None
    if attachment not in ("platform", "cross-platform"):
        credential_id = credential.get("id") if isinstance(credential, dict) else None
        passkey = next((p for p in user.passkeys if p.credential_id == credential_id), None)
        attachment = passkey.authenticator_attachment if passkey is not None else None
    return "hwk" if attachment == "cross-platform" else "swk"


def _with_query(url: str, params: dict) -> str:
    query = urllib.parse.urlencode([(k, v) for k, v in params.items() if v is not None])
    return url + ("&" if "?" in url else "?") + query


class ManagedLogin:
    def __init__(self, server, origin: str, callback_page: str):
        self.server = server
        self.origin = origin  # https://localhost:<port>: the pages' origin, and the only WebAuthn origin
        self.callback_page = callback_page
        self._codes = {}
        self._transactions = {}
        self._sessions = {}

    # ---- plumbing ------------------------------------------------------------------------------------------

    @property
    def _service(self):
        return self.server.service

    def _now(self) -> float:
        return self.server.clock()

    def callback_urls(self, client) -> list:
        return [url.replace(CALLBACK_PLACEHOLDER, self.callback_page)
                for url in (client.oauth or {}).get("callback_urls", [])]

    def handles(self, method: str, path: str) -> bool:
        route = path.split("?", 1)[0]
        if method == "GET":
            return route in ("/oauth2/authorize", "/login", "/error", "/logout")
        return route in ("/oauth2/token", "/login/passkey/options", "/login/passkey", "/login/email",
                         "/login/email/verify")

    def handle(self, handler):
        """Answers one request on `handler` (a standin_server.Handler)."""
        route, _, query = handler.path.partition("?")
        handler._start("managed-login " + route)
        try:
            # Re-read on every request, as the API does: clock_offset_s applies to codes, sessions and tokens.
            # Its faults and errors do not apply here, but for a fault whose "ops" names the token endpoint
            # (OAuth2Token): "drop" closes the connection unanswered, "http_500" answers 500 (the pool down
            # while a browser sign-in waits for its code).
            control = self.server.control()
        except ControlError as e:
            print(f"cognito-standin: control.json: {e}", file=sys.stderr)
            self._send(handler, _error_page(f"stand-in control.json invalid: {e}", 500))
            return
        if (route == "/oauth2/token" and control.fault in ("drop", "http_500") and control.ops is not None
                and TOKEN_OPERATION in control.ops):
            if control.fault == "drop":
                handler.close_connection = True
                handler._log()
                return
            self._send(handler, _Answer(500, b'{"error":"server_error"}', "application/json"))
            return
        body = b""
        if handler.command == "POST":
            length = handler.headers.get("Content-Length", "")
            if not length.isdigit() or int(length) > MAX_FORM:
                handler.close_connection = True
                self._send(handler, _error_page("request body missing or too large", 413))
                return
            body = handler.rfile.read(int(length))
        try:
            # The service's lock: the passkeys' counters and the outbox are shared with the USER_AUTH API.
            with self._service._lock:
                answer = self._route(handler, route, query, body, control)
        except _Redirect as redirect:
            answer = _Answer(302, headers=[("Location", redirect.location)])
        except Exception as e:  # a stand-in bug must be loud
            print(f"cognito-standin: managed login {route} failed: {e!r}", file=sys.stderr)
            answer = _error_page("Something went wrong", 500)
            self._send(handler, answer)
            raise
        self._send(handler, answer)

    def _send(self, handler, answer: _Answer):
        handler._status = answer.status
        handler._log()
        handler.send_response(answer.status)
        handler.send_header("Content-Type", answer.content_type)
        handler.send_header("Content-Length", str(len(answer.body)))
        handler.send_header("Cache-Control", "no-store")
        handler.send_header("x-amz-cognito-request-id", str(uuid.uuid4()))
        for name, value in answer.headers:
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(answer.body)

    def _route(self, handler, route, query, body, control) -> _Answer:
        params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        if route == "/oauth2/authorize":
            return self._authorize(handler, params)
        if route == "/login":
            return self._login_page(handler, query, params)
        if route == "/error":
            return _error_page(f"error: {params.get('error', 'unknown')}")
        if route == "/logout":
            return self._logout(handler, params)
        if route == "/oauth2/token":
            return self._token(handler, body, control)
        return self._login_step(handler, route, body)

    # ---- /oauth2/authorize and /login ---------------------------------------------------------------------

    def _validate(self, params: dict):
        """§10 item 3. Returns (client, request) or raises _Redirect / returns an error page answer."""
        client = self._service.pool.clients.get(params.get("client_id", ""))
        if client is None or client.oauth is None:
            return None, _error_page("invalid client_id")
        redirect_uri = params.get("redirect_uri")
        if redirect_uri not in self.callback_urls(client):
            # Never a redirect to an unregistered target.
            raise _Redirect("/error?" + urllib.parse.urlencode({"error": "redirect_mismatch",
                                                                 "client_id": client.client_id}))
        state = params.get("state")

        def fail(error, description):
            raise _Redirect(_with_query(redirect_uri, {"error_description": description, "error": error,
                                                       "state": state}))

        oauth = client.oauth
        if params.get("response_type") not in ("code", "token"):
            fail("invalid_request", "response_type must be code or token")
        flow = "code" if params["response_type"] == "code" else "implicit"
        if not oauth.get("allowed_oauth_flows_user_pool_client") or flow not in oauth.get("allowed_oauth_flows", []):
            fail("unauthorized_client", "the client is not allowed this grant")
        if flow != "code":
            fail("unauthorized_client", "the stand-in implements only the code grant")
        allowed = oauth.get("allowed_oauth_scopes", [])
        if "scope" in params:
            requested = params["scope"].split()
            if not requested or any(s not in KNOWN_SCOPES for s in requested):
                fail("invalid_scope", "invalid scope")
            scopes = [s for s in requested if s in allowed]  # allowed-but-unassigned scopes are dropped
        else:
            scopes = list(allowed)
        challenge, method = params.get("code_challenge"), params.get("code_challenge_method")
        if challenge is not None or method is not None:
            if method != "S256" or not challenge:
                fail("invalid_request", "code_challenge_method must be S256")
        if "COGNITO" not in oauth.get("supported_identity_providers", []):
            fail("invalid_request", "no identity provider")
        request = {"client_id": client.client_id, "redirect_uri": redirect_uri, "state": state, "scopes": scopes,
                   "challenge": challenge, "nonce": params.get("nonce"), "prompt": params.get("prompt", "").split(),
                   "login_hint": params.get("login_hint", "")}
        return client, request

    def _session(self, handler):
        cookies = handler.headers.get("Cookie", "")
        for part in cookies.split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE:
                session = self._sessions.get(value)
                if session is not None and session.expires > self._now() and session.user.enabled:
                    return session
        return None

    def _authorize(self, handler, params) -> _Answer:
        client, request = self._validate(params)
        if client is None:
            return request
        session = self._session(handler)
        if "none" in request["prompt"]:
            if session is None:
                raise _Redirect(_with_query(request["redirect_uri"], {"error": "login_required",
                                                                      "state": request["state"]}))
            raise _Redirect(self._issue_code(request, session))
        if session is not None and "login" not in request["prompt"]:
            # A live session cookie and no prompt=login: a code at once, no page (§4.2). The session's
            # auth_time is the last interactive sign-in (UNVERIFIED on the live service; README).
            raise _Redirect(self._issue_code(request, session))
        return _Answer(302, headers=[("Location", "/login?" + urllib.parse.urlencode(params))])

    def _login_page(self, handler, query, params) -> _Answer:
        client, request = self._validate(params)
        if client is None:
            return request
        txn_id = b64url(secrets.token_bytes(24))
        self._forget_stale()
        self._transactions[txn_id] = _Transaction(request, client, self._now() + TRANSACTION_TTL)
        hint = html.escape(request["login_hint"], quote=True)
        return _page("Sign in", _LOGIN_BODY.replace("{txn}", txn_id).replace("{hint}", hint))

    def _forget_stale(self):
        now = self._now()
        for store in (self._transactions, self._codes, self._sessions):
            for key in [k for k, v in store.items() if v.expires <= now]:
                del store[key]

    def _transaction(self, txn_id) -> Optional[_Transaction]:
        txn = self._transactions.get(txn_id) if isinstance(txn_id, str) else None
        if txn is None or txn.expires <= self._now():
            return None
        return txn

    def _login_step(self, handler, route, body) -> _Answer:
        is_json = route.startswith("/login/passkey")
        try:
            form = json.loads(body) if is_json else dict(urllib.parse.parse_qsl(body.decode("utf-8")))
            if not isinstance(form, dict):
                raise ValueError
        except (ValueError, UnicodeError):
            return self._step_error(is_json, "malformed request")
        txn = self._transaction(form.get("txn"))
        if txn is None:
            return self._step_error(is_json, "Something went wrong. The sign-in has expired; start again.")
        pool = self._service.pool
        if route in ("/login/passkey/options", "/login/email"):
            name = form.get("username")
            user = pool.find_user(name) if isinstance(name, str) and name else None
            if user is None or not user.enabled or not user.confirmed:
                return self._step_error(is_json, "Incorrect username.")
            txn.user, txn.passkey_state, txn.email_code, txn.attempts = user, None, None, 0
            if route == "/login/passkey/options":
                if "WEB_AUTHN" not in pool.allowed_first_auth_factors or not user.passkeys:
                    return self._step_error(True, "No passkey is registered for this user.")
                options, txn.passkey_state = self._service.passkeys.request_options(user)
                return _Answer(200, json.dumps({"options": options}).encode(), "application/json")
            if "EMAIL_OTP" not in pool.allowed_first_auth_factors or not (user.email and user.email_verified):
                return self._step_error(False, "Email sign-in is not available for this user.")
            txn.email_code = "".join(secrets.choice("0123456789") for _ in range(pool.otp_length))
            self._service.outbox.deliver(user.username, "EMAIL", user.email, txn.email_code)
            return _page("Enter code", _EMAIL_BODY.replace("{txn}", form["txn"]))
        if route == "/login/passkey":
            if txn.user is None or txn.passkey_state is None:
                return self._step_error(True, "Start with the username.")
            state, txn.passkey_state = txn.passkey_state, None  # one assertion per challenge
            try:
                self._service.passkeys.verify_assertion(txn.user, state, json.dumps(form.get("credential")),
                                                        origins=[self.origin])
            except WebAuthnError as e:
                return self._step_error(True, f"The passkey was not accepted ({e.reason}).")
            location, cookie = self._signed_in(form["txn"], txn, [_passkey_amr(txn.user, form.get("credential"))])
            return _Answer(200, json.dumps({"location": location}).encode(), "application/json",
                           headers=[("Set-Cookie", cookie)])
        # /login/email/verify
        if txn.user is None or txn.email_code is None:
            return self._step_error(False, "Start with the username.")
        given = form.get("code", "").strip()
        if not hmac.compare_digest(given.encode(), txn.email_code.encode()):
            txn.attempts += 1
            if txn.attempts >= pool.max_code_attempts:
                del self._transactions[form["txn"]]
                return self._step_error(False, "Too many wrong codes. Start again.")
            return _page("Enter code", "<p id=\"error\">Incorrect code.</p>" +
                         _EMAIL_BODY.replace("{txn}", form["txn"]), 400)
        location, cookie = self._signed_in(form["txn"], txn, ["email_otp"])
        return _Answer(302, headers=[("Location", location), ("Set-Cookie", cookie)])

    def _step_error(self, is_json: bool, message: str) -> _Answer:
        if is_json:
            return _Answer(400, json.dumps({"message": message}).encode(), "application/json")
        return _error_page(message)

    def _signed_in(self, txn_id: str, txn: _Transaction, amr: list):
        """An interactive sign-in finished: a new session cookie (§4.2), and the redirect with a code."""
        del self._transactions[txn_id]
        now = self._now()
        session = _Session(txn.user, int(now), amr, now + SESSION_TTL)
        session_id = b64url(secrets.token_bytes(32))
        self._sessions[session_id] = session
        cookie = f"{COOKIE}={session_id}; Path=/; Max-Age={SESSION_TTL}; Secure; HttpOnly; SameSite=Lax"
        return self._issue_code(txn.params, session), cookie

    def _issue_code(self, request: dict, session: _Session) -> str:
        code = str(uuid.uuid4())  # §10 item 8: a random lowercase UUID v4
        self._codes[code] = _Code(request["client_id"], request["redirect_uri"], request["scopes"],
                                  request["challenge"], request["nonce"], session.user, session.auth_time,
                                  session.amr, self._now() + CODE_TTL)
        return _with_query(request["redirect_uri"], {"code": code, "state": request["state"]})

    def _logout(self, handler, params) -> _Answer:
        cookie = f"{COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax"
        session = self._session(handler)
        for key in [k for k, v in self._sessions.items() if v is session]:
            del self._sessions[key]
        return _page("Signed out", "<p id=\"signed-out\">Signed out.</p>", headers=[("Set-Cookie", cookie)])

    # ---- /oauth2/token ------------------------------------------------------------------------------------

    def _token(self, handler, body: bytes, control) -> _Answer:
        def error(name, description=None, status=400):
            value = {"error": name, **({"error_description": description} if description else {})}
            return _Answer(status, json.dumps(value).encode(), "application/json;charset=UTF-8",
                           [("Access-Control-Allow-Origin", "*")])

        content_type = handler.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return error("invalid_request", "Content-Type must be application/x-www-form-urlencoded")
        try:
            pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
        except (UnicodeError, ValueError):
            return error("invalid_request")
        names = [k for k, _ in pairs]
        if len(names) != len(set(names)):
            return error("invalid_request", "repeated parameter")
        form = dict(pairs)
        grant = form.get("grant_type")
        if grant is None:
            return error("invalid_request", "grant_type is required")
        if grant != "authorization_code":
            return error("unsupported_grant_type")
        # §6.2 client authentication: Basic or client_secret_post; a public client names itself in the body.
        client_id, secret = form.get("client_id"), form.get("client_secret")
        authorization = handler.headers.get("Authorization")
        if authorization is not None:
            scheme, _, credentials = authorization.partition(" ")
            try:
                basic_id, colon, basic_secret = base64.b64decode(credentials, validate=True).decode().partition(":")
            except (ValueError, UnicodeError):
                return error("invalid_client")
            if scheme.lower() != "basic" or not colon or (client_id is not None and client_id != basic_id):
                return error("invalid_client")
            client_id, secret = basic_id, basic_secret
        client = self._service.pool.clients.get(client_id or "")
        if client is None or client.oauth is None:
            return error("invalid_client")
        if client.client_secret is not None:
            if secret is None:
                return error("invalid_client", "invalid_client_secret")
            if not hmac.compare_digest(secret.encode(), client.client_secret.encode()):
                return error("invalid_client", "invalid_client_secret")
        elif secret is not None:
            return error("invalid_client")
        if not client.oauth.get("allowed_oauth_flows_user_pool_client") or \
                "code" not in client.oauth.get("allowed_oauth_flows", []):
            return error("unauthorized_client")
        code_value = form.get("code")
        if not code_value or "redirect_uri" not in form:
            return error("invalid_request", "code and redirect_uri are required")
        code = self._codes.get(code_value)
        if code is None or code.client_id != client.client_id:
            # Unknown, already used, or another client's code (which it does not spend).
            return error("invalid_grant")
        # Any redemption attempt by the code's own client spends it (fail closed; UNVERIFIED, README).
        del self._codes[code_value]
        if code.expires <= self._now():
            return error("invalid_grant")
        if form["redirect_uri"] != code.redirect_uri:
            return error("unauthorized_client", "invalid_redirect")
        verifier = form.get("code_verifier")
        if code.challenge is not None:
            if verifier is None or not _PKCE_VERIFIER.fullmatch(verifier):
                return error("invalid_grant")
            computed = b64url(hashlib.sha256(verifier.encode("ascii")).digest())
            if not hmac.compare_digest(computed, code.challenge):
                return error("invalid_grant")
        tokens = self._tokens(client.client_id, code, with_amr=control.id_token_amr == "factor")
        answer = json.dumps(tokens).encode()
        return _Answer(200, answer, "application/json;charset=UTF-8", [("Access-Control-Allow-Origin", "*")])

    def _tokens(self, client_id: str, code: _Code, with_amr: bool = True) -> dict:
        issuer = self._service.tokens
        now = int(self._now())
        user = code.user
        origin_jti, event_id = str(uuid.uuid4()), str(uuid.uuid4())
        id_key, access_key = issuer.keyring.keys()
        access_claims = {"sub": user.sub, "iss": issuer.issuer, "client_id": client_id, "origin_jti": origin_jti,
                         "event_id": event_id, "token_use": "access", "scope": " ".join(code.scopes),
                         "auth_time": code.auth_time, "iat": now, "exp": now + issuer.access_validity,
                         "jti": str(uuid.uuid4()), "username": user.username}
        access_token = access_key.sign_jwt(access_claims)
        result = {"access_token": access_token, "refresh_token": b64url(secrets.token_bytes(96)),
                  "expires_in": issuer.access_validity, "token_type": "Bearer"}
        if "openid" in code.scopes:
            claims = {"at_hash": b64url(hashlib.sha256(access_token.encode("ascii")).digest()[:16]),
                      "sub": user.sub, "aud": client_id, "token_use": "id", "iss": issuer.issuer,
                      "cognito:username": user.username, "auth_time": code.auth_time, "iat": now,
                      "exp": now + issuer.id_validity, "jti": str(uuid.uuid4()), "origin_jti": origin_jti,
                      "event_id": event_id}
            if code.nonce is not None:
                claims["nonce"] = code.nonce
            everything = code.scopes == ["openid"]  # openid alone: every readable attribute (§7)
            if user.email is not None and ("email" in code.scopes or everything):
                claims["email"] = user.email
                claims["email_verified"] = user.email_verified
            if user.phone_number is not None and ("phone" in code.scopes or everything):
                claims["phone_number"] = user.phone_number
                claims["phone_number_verified"] = user.phone_number_verified
            # `amr`: the factor of the interactive sign-in (§7, from the 2026 copy of the step-up page [DG-ACR]):
            # "swk" a platform passkey, "hwk" a roaming one, "email_otp" an email code. Whether the live service
            # puts it there without acr_values is UNVERIFIED (§11 item 3): control.json's id_token_amr "absent"
            # leaves it out. No `acr` (its levels depend on the pool's step-up set-up, which is not modelled).
            if with_amr and code.amr:
                claims["amr"] = list(code.amr)
            result["id_token"] = id_key.sign_jwt(claims)
        for kind, key in (("IdToken", "id_token"), ("AccessToken", "access_token"), ("RefreshToken", "refresh_token")):
            if key in result:
                self._service._record_issued(kind, result[key])
        return result


# ---- the callback page's own origin -------------------------------------------------------------------------


class _CallbackHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cognito-standin-callback"
    timeout = 60

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        name = "index.html" if path in ("/cb", "/cb/") else path[len("/cb/"):] if path.startswith("/cb/") else None
        body, status, content_type = b"not found\n", 404, "text/plain"
        if name == "pool.json" and self.server.pool_json:
            # The launcher's pool.json: the file the test wrote (none: 404, as a folder without it).
            try:
                with open(self.server.pool_json, "rb") as f:
                    body, status, content_type = f.read(), 200, "application/json"
            except OSError:
                pass
        elif name in CALLBACK_FILES:
            try:
                with open(os.path.join(CALLBACK_DIR, name), "rb") as f:
                    body, status, content_type = f.read(), 200, CALLBACK_FILES[name]
            except OSError:
                pass  # a copy of the stand-in without the source tree's callback/ folder
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


class CallbackServer(http.server.ThreadingHTTPServer):
    """Serves callback/ at https://localhost:<port>/cb/ (a second origin, as a real deployment's page is)."""
    daemon_threads = True

    def __init__(self, host: str, tls_context: ssl.SSLContext, pool_json: Optional[str] = None):
        super().__init__((host, 0), _CallbackHandler)
        self.tls_context = tls_context
        self.pool_json = pool_json  # served as /cb/pool.json when the file exists

    def finish_request(self, request, client_address):
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        request.settimeout(10)
        try:
            connection = self.tls_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(connection, client_address, self)
        finally:
            connection.close()

    def handle_error(self, request, client_address):
        pass


_LOGIN_BODY = """
<h1>Sign in</h1>
<p id="error" role="alert"></p>
<label>Username or email <input id="username" name="username" autocomplete="username webauthn" value="{hint}"></label>
<p><button id="passkey" type="button">Sign in with a passkey</button></p>
<form id="email-form" method="post" action="/login/email">
  <input type="hidden" name="txn" value="{txn}"><input type="hidden" name="username" id="email-username">
  <button id="email" type="submit">Email me a code</button>
</form>
<script>
const txn = "{txn}";
const b64d = s => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), c => c.charCodeAt(0));
const b64e = b => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\\+/g, "-").replace(/\\//g, "_")
                                                                  .replace(/=+$/, "");
const say = m => { document.getElementById("error").textContent = m; };
document.getElementById("email-form").addEventListener("submit", () => {
  document.getElementById("email-username").value = document.getElementById("username").value;
});
async function post(path, value) {
  const r = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"},
                               body: JSON.stringify(value)});
  const j = await r.json();
  if (!r.ok) throw new Error(j.message);
  return j;
}
document.getElementById("passkey").addEventListener("click", async () => {
  try {
    const username = document.getElementById("username").value;
    const o = (await post("/login/passkey/options", {txn, username})).options;
    const c = await navigator.credentials.get({publicKey: {
      challenge: b64d(o.challenge), rpId: o.rpId, timeout: o.timeout, userVerification: o.userVerification,
      allowCredentials: o.allowCredentials.map(a => ({type: a.type, id: b64d(a.id), transports: a.transports}))}});
    const r = c.response;
    const credential = {id: c.id, rawId: b64e(c.rawId), type: c.type, clientExtensionResults: {},
      authenticatorAttachment: c.authenticatorAttachment, response: {clientDataJSON: b64e(r.clientDataJSON),
      authenticatorData: b64e(r.authenticatorData), signature: b64e(r.signature),
      userHandle: r.userHandle ? b64e(r.userHandle) : null}};
    location.assign((await post("/login/passkey", {txn, credential})).location);
  } catch (e) { say(String(e.message || e)); }
});
</script>
"""

_EMAIL_BODY = """
<h1>Check your email</h1>
<form id="code-form" method="post" action="/login/email/verify">
  <input type="hidden" name="txn" value="{txn}">
  <label>Code <input id="code" name="code" autocomplete="one-time-code"></label>
  <button id="verify" type="submit">Sign in</button>
</form>
"""
