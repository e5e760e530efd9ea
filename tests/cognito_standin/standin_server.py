"""HTTPS transport of the stand-in: AWS JSON 1.1 framing, the JWKS endpoints, the control file's faults, and the
request log."""

import base64
import http.server
import itertools
import json
import os
import socket
import ssl
import sys
import time
import uuid

from standin_auth import ApiError
from standin_control import ANSWER_FAULTS, ControlError, read_control

AMZ_JSON = "application/x-amz-json-1.1"
TARGET_PREFIX = "AWSCognitoIdentityProviderService."
MAX_BODY = 64 * 1024
DRAIN_LIMIT = 1024 * 1024
HANDSHAKE_TIMEOUT = 10
# Idle keep-alive connections are closed after this long; clients reconnect transparently.
IDLE_TIMEOUT = 60

# Documents under /<pool_id>/.well-known/, and their operation names in control.json and requests.jsonl.
GET_OPERATIONS = {"jwks.json": "jwks", "openid-configuration": "openid-configuration"}
# The managed login's token endpoint, as control.json's "ops" names it (standin_managed_login.py).
TOKEN_OPERATION = "OAuth2Token"

_HUGE_SIZE = 10 * 1024 * 1024
_MALFORMED_BODY = b"<html><body><h1>502 Bad Gateway</h1></body></html>\n"
_PLAUSIBLE_API_BODY = json.dumps({
    "ChallengeName": "EMAIL_OTP",
    "Session": "AYAB" + "x" * 60,
    "ChallengeParameters": {"CODE_DELIVERY_DELIVERY_MEDIUM": "EMAIL", "CODE_DELIVERY_DESTINATION": "a***@e***"},
    "AvailableChallenges": ["EMAIL_OTP"],
}).encode()
_INVALID_UTF8_API_BODY = (
    b'{"ChallengeName":"EMAIL_OTP","Session":"AYAB\xff\xfe\xfd\xc3\x28xxxxxxxxxxxxxxxxxxxx",'
    b'"ChallengeParameters":{"CODE_DELIVERY_DELIVERY_MEDIUM":"EMAIL","CODE_DELIVERY_DESTINATION":"a\xc0\xaf***@e***"},'
    b'"AvailableChallenges":["EMAIL_OTP"]}')
_INVALID_UTF8_JWKS_BODY = (
    b'{"keys":[{"alg":"RS256","e":"AQAB","kid":"\xff\xfe\xfd","kty":"RSA","n":"\xc3\x28\xa0\xa1","use":"sig"}]}')


def _header_safe(text: str) -> str:
    return "".join(c if " " <= c <= "~" else "?" for c in text)


class StandinServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default accept queue is 5. With 200 logins connecting at once and this one accept thread
    # slowed by the GIL, the kernel dropped handshakes and clients retried after 1, 2, 4, 8, 16 s: a connect
    # could take 31 s and a request with a 30 s limit failed (load.two_hundred_logins, now and then). The real
    # service does not drop connections at that rate, so neither does its stand-in.
    request_queue_size = socket.SOMAXCONN

    def __init__(self, address, state_dir: str, tls_contexts: dict, keyring, pool_id: str, request_log):
        super().__init__(address, Handler)
        self.control_path = os.path.join(state_dir, "control.json")
        self.tls_contexts = tls_contexts
        self.keyring = keyring
        self.pool_id = pool_id
        self.request_log = request_log
        # Both name the port, known only once bound: the caller sets them before serving.
        self.service = None
        self.issuer = None
        # The managed-login pages and /oauth2/ endpoints (standin_managed_login.ManagedLogin), set by the caller.
        self.managed_login = None
        self._connection_ids = itertools.count(1)
        self.clock_offset = 0.0

    def clock(self) -> float:
        """The pool's idea of now: the real time plus control.json's clock_offset_s."""
        return time.time() + self.clock_offset

    def control(self):
        """The current control settings; raises ControlError if the file is invalid."""
        control = read_control(self.control_path, set(self.service.operations) | set(GET_OPERATIONS.values()) |
                               {TOKEN_OPERATION})
        if control.jwks == "rotated":
            self.keyring.rotate_id_key_once()
        self.clock_offset = control.clock_offset_s
        self.service.withdrawn_factors = control.withdrawn_factors
        self.service.ineligible_preferred_error = control.ineligible_preferred_error
        self.service.one_factor_skips_select = control.one_factor_skips_select
        self.service.one_factor_skips_preference = control.one_factor_skips_preference
        return control

    def finish_request(self, request, client_address):
        # Runs in the connection's own thread, so a slow or failing handshake never blocks accept().
        connection_id = next(self._connection_ids)
        # Without this, Nagle's algorithm and the client's delayed ACK would hold back any answer written in
        # more than one piece (the stand-in's faults do) by about 40 ms.
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls_mode = self.control().tls
        except ControlError as e:
            print(f"cognito-standin: control.json ignored for TLS: {e}", file=sys.stderr)
            tls_mode = "ok"
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            # Chosen per connection, not by SNI: clients connect to an IP literal and send no server name.
            connection = self.tls_contexts[tls_mode].wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # the client refused our certificate (the point of the non-ok modes) or went away
        try:
            self.RequestHandlerClass(connection, client_address, self, connection_id=connection_id)
        finally:
            connection.close()

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError, ssl.SSLError)):
            return  # clients hanging up mid-answer are expected (huge bodies, timeouts), not stand-in bugs
        super().handle_error(request, client_address)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every answer carries Content-Length
    server_version = "cognito-standin"
    timeout = IDLE_TIMEOUT

    def __init__(self, request, client_address, server, connection_id: int):
        self.connection_id = connection_id
        super().__init__(request, client_address, server)

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):
        pass  # requests.jsonl is the log

    # ---- answers ----------------------------------------------------------------------------------------

    def _reply(self, status: int, body: bytes, content_type: str = AMZ_JSON, headers=(),
               declared_length: int = None):
        self._status = status
        # Logged before any byte of the answer leaves, so a client that has its answer finds the line.
        self._log()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if declared_length is None else declared_length))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for name, value in headers:
            self.send_header(name, value)
        # Headers and body leave in one write, as a real service's do: two writes make the client wake (and,
        # over TLS, decrypt a record) twice per answer.
        self._headers_buffer.append(b"\r\n")
        self.wfile.write(b"".join(self._headers_buffer) + body)
        self._headers_buffer = []

    def _reply_json(self, value: dict, content_type: str = AMZ_JSON):
        self._reply(200, json.dumps(value).encode(), content_type)

    def _reply_document(self, value: dict):
        if self._fault == "duplicate_member":
            self._reply(200, _with_duplicates(value).encode(), "application/json")
        else:
            self._reply_json(value, "application/json")

    def _reply_error(self, error: ApiError, headers=()):
        body = json.dumps({"__type": error.name, "message": error.message}).encode()
        self._reply(error.status, body, headers=[
            ("x-amzn-ErrorType", f"{error.name}:"),
            ("x-amzn-ErrorMessage", _header_safe(error.message)),
            *headers,
        ])

    def _reply_fault(self, fault: str, operation: str):
        jwks = operation == "jwks"
        if fault == "http_500":
            self._reply_error(ApiError("InternalErrorException", "Internal server error.", 500))
        elif fault == "malformed":
            self._reply(200, _MALFORMED_BODY)
        elif fault == "drop":
            self.close_connection = True
        elif fault == "truncated":
            body = json.dumps(self.server.keyring.jwks()).encode() if jwks else _PLAUSIBLE_API_BODY
            self._reply(200, body[:len(body) // 2], declared_length=len(body))
            self.close_connection = True
        elif fault == "huge":
            padding = b"A" * _HUGE_SIZE
            self._reply(200, b'{"ChallengeName":"SELECT_CHALLENGE","Padding":"' + padding + b'"}')
        elif fault == "invalid_utf8":
            self._reply(200, _INVALID_UTF8_JWKS_BODY if jwks else _INVALID_UTF8_API_BODY)
        elif fault == "empty":
            self._reply(200, b"")

    def _injected(self, control, operation: str) -> bool:
        """Applies the control file's delay, fault and error to this request; True if it answered."""
        if not control.targets(operation):
            return False
        if control.delay_ms:
            time.sleep(control.delay_ms / 1000)
        if control.fault in ANSWER_FAULTS:
            self._fault = control.fault
            return False
        if control.fault is not None:
            self._fault = control.fault
            self._reply_fault(control.fault, operation)
            return True
        if control.error is not None:
            error = control.error
            self._fault = "error"
            self._reply_error(ApiError(error.name, error.message, error.status))
            return True
        return False

    # ---- requests -----------------------------------------------------------------------------------------

    def _log(self):
        """Writes this request's line to requests.jsonl, once."""
        if self._logged:
            return
        self._logged = True
        self.server.request_log.append({
            "time": time.time(), "op": self._operation, "client_id": self._client_id, "username": self._username,
            "connection": self.connection_id, "status": self._status,
            **({"fault": self._fault} if self._fault else {}),
            # The person's address as the client reported it (UserContextData.IpAddress), so that a test can
            # see what the pool's threat protection would see.
            **({"ip_address": self._ip_address} if self._ip_address is not None else {}),
        })

    def _start(self, operation):
        self._operation = operation
        self._client_id = self._username = self._ip_address = None
        self._status = None  # stays None when the connection is dropped without an answer
        self._fault = None
        self._logged = False

    def do_POST(self):
        managed_login = self.server.managed_login
        if managed_login is not None and managed_login.handles("POST", self.path):
            return managed_login.handle(self)
        target = self.headers.get("X-Amz-Target", "")
        operation = target[len(TARGET_PREFIX):] if target.startswith(TARGET_PREFIX) else None
        self._start(operation)
        try:
            body = self._read_body()
            if body is None:
                return
            try:
                request = json.loads(body)
            except ValueError:
                request = None
            if isinstance(request, dict):
                self._client_id, self._username = _log_identity(request)
                self._ip_address = _log_ip_address(request)
            try:
                control = self.server.control()
            except ControlError as e:
                print(f"cognito-standin: control.json: {e}", file=sys.stderr)
                self._reply_error(ApiError("InternalErrorException", f"stand-in control.json invalid: {e}", 500))
                return
            if self._injected(control, operation):
                return
            self._answer_api(operation, request, duplicate=self._fault == "duplicate_member", control=control)
        finally:
            self._log()  # a dropped connection (no answer) is logged here

    def _read_body(self):
        """The request body, or None after refusing it (and closing the connection)."""
        length = self.headers.get("Content-Length", "")
        length = int(length) if length.isdigit() else None
        if length is None:
            refusal = ApiError("SerializationException", "Content-Length is required", 411)
        elif self.path != "/":
            refusal = ApiError("UnknownOperationException", f"No operation at {self.path}", 404)
        elif length > MAX_BODY:
            refusal = ApiError("SerializationException", f"Request body larger than {MAX_BODY} bytes", 413)
        else:
            return self.rfile.read(length)
        # Taking in (a bounded amount of) what the client is still sending lets it read the refusal instead
        # of failing its upload on a closed connection.
        if length is not None and length <= DRAIN_LIMIT:
            self.rfile.read(length)
        self.close_connection = True
        self._reply_error(refusal)
        return None

    def _answer_api(self, operation, request, duplicate: bool = False, control=None):
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if operation is None or operation not in self.server.service.operations:
            self._reply_error(ApiError("UnknownOperationException", ""))
        elif content_type != AMZ_JSON:
            self._reply_error(ApiError("SerializationException", f"Content-Type must be {AMZ_JSON}"))
        elif not isinstance(request, dict):
            self._reply_error(ApiError("SerializationException", "Request body is not a JSON object"))
        else:
            try:
                result = self.server.service.call(operation, request)
            except ApiError as error:
                self._reply_error(error)
                return
            except Exception as e:  # a stand-in bug must be loud, but still look like a service fault
                print(f"cognito-standin: {operation} failed: {e!r}", file=sys.stderr)
                self._reply_error(ApiError("InternalErrorException", "Internal server error.", 500))
                raise
            if control is not None and isinstance(result, dict):
                if control.signed_in_delay_ms and "AuthenticationResult" in result:
                    time.sleep(control.signed_in_delay_ms / 1000)
                if control.code_sent_delay_ms and result.get("ChallengeName") in ("EMAIL_OTP", "SMS_OTP"):
                    time.sleep(control.code_sent_delay_ms / 1000)
            if result is None:
                self._reply(200, b"")  # an operation whose answer is an empty body
            elif duplicate:
                self._reply(200, _with_duplicates(result).encode())
            else:
                self._reply_json(result)

    def do_GET(self):
        managed_login = self.server.managed_login
        if managed_login is not None and managed_login.handles("GET", self.path):
            return managed_login.handle(self)
        prefix = f"/{self.server.pool_id}/.well-known/"
        document = self.path[len(prefix):] if self.path.startswith(prefix) else None
        operation = GET_OPERATIONS.get(document)
        self._start(operation)
        try:
            try:
                control = self.server.control()
            except ControlError as e:
                print(f"cognito-standin: control.json: {e}", file=sys.stderr)
                self._reply_error(ApiError("InternalErrorException", f"stand-in control.json invalid: {e}", 500))
                return
            if operation is None:
                self._reply(404, b'{"message":"Not Found"}', "application/json")
            elif self._injected(control, operation):
                return
            elif operation == "jwks":
                if control.jwks == "down":
                    self._reply_error(ApiError("InternalErrorException", "Internal server error.", 500))
                else:
                    self._reply_document(self.server.keyring.jwks())
            else:
                self._reply_document(_openid_configuration(self.server.issuer, self.server.managed_login))
        finally:
            self._log()


def _log_identity(request: dict):
    """ClientId and USERNAME for the request log; never anything secret. For the operations authorized by an
    access token: its client_id and username claims, read without checking the token."""
    client_id = request.get("ClientId") if isinstance(request.get("ClientId"), str) else None
    for key in ("AuthParameters", "ChallengeResponses"):
        params = request.get(key)
        if isinstance(params, dict) and isinstance(params.get("USERNAME"), str):
            return client_id, params["USERNAME"]
    token = request.get("AccessToken")
    if isinstance(token, str) and token.count(".") == 2:
        try:
            payload = token.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except ValueError:
            return client_id, None
        if isinstance(claims, dict):
            return (claims.get("client_id") if isinstance(claims.get("client_id"), str) else None,
                    claims.get("username") if isinstance(claims.get("username"), str) else None)
    return client_id, None


def _with_duplicates(value) -> str:
    """The answer as JSON in which every object repeats its first member: first with a decoy value, then with
    the real one, so that a parser keeping the last of duplicate members reads the real answer (fault
    "duplicate_member")."""
    if isinstance(value, dict):
        members = [json.dumps(k) + ":" + _with_duplicates(v) for k, v in value.items()]
        if members:
            first = next(iter(value))
            members.insert(0, json.dumps(first) + ":" + json.dumps("duplicate"))
        return "{" + ",".join(members) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_with_duplicates(v) for v in value) + "]"
    return json.dumps(value)


def _log_ip_address(request: dict):
    context = request.get("UserContextData")
    if isinstance(context, dict) and isinstance(context.get("IpAddress"), str):
        return context["IpAddress"]
    return None


def _openid_configuration(issuer: str, managed_login=None) -> dict:
    endpoints = {}
    if managed_login is not None:
        # The pool domain's endpoints (spec cognito-managed-login.md §8.4); no code_challenge_methods_supported.
        base = managed_login.origin
        endpoints = {"authorization_endpoint": base + "/oauth2/authorize", "token_endpoint": base + "/oauth2/token",
                     "end_session_endpoint": base + "/logout"}
    return {
        **endpoints,
        "issuer": issuer,
        "jwks_uri": issuer + "/.well-known/jwks.json",
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "token"],
        "scopes_supported": ["openid", "email", "phone", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "token_use", "cognito:username",
                             "email", "email_verified", "phone_number", "phone_number_verified"],
    }
