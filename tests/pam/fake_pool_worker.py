#!/usr/bin/python3
"""A compromised network worker: speaks the helper's side of pool_worker/protocol/pool_protocol.hpp on a Unix
socket (the helper's --pool-socket) and answers as whoever controls the worker would. It signs ID tokens with
a key of its own and serves a key set of its own; what it answers is read from MODE_FILE at each request, so a
test can change it between two logins.

Modes: good (a sign-in the pool would have made, claims taken from the request and the identity given), other-user
(the token names another identity), other-aud, other-iss, expired, wrong-key (signed by a key that is not in the
key set it serves, under that key's id), garbage (a frame of random bytes), too-long (a length past the limit), too-long-for-a-sign-in (a length
within the limit of any frame, past that of a sign-in's reply),
silent (reads the request and never answers), escape (a failure whose text carries terminal control
sequences), kept-forged (says it keeps the connection after a sign-in's first step, and writes on it at once,
unasked, a reply with a token for another identity, for the root side to read as its next request's answer).

Tokens a worker taken over holds, for a helper that trusts the fake's key set as the pool's (the key set is
written to SOCKET.jwks, for a test to pin): stale (a sign-in ten minutes old, its token still valid), refreshed
(minted now from that sign-in's refresh token: new iat and jti, the sign-in's auth_time and origin_jti),
no-auth-time (a token that says not when the person signed in), replay (the token of the last replay or
same-sign-in answer again; a fresh one when there is none yet), same-sign-in (a token minted now from the
sign-in of the last replay answer: new jti, its origin_jti and auth_time). Every token carries a jti and an
origin_jti, as a pool's app client with token revocation on issues them.

usage: fake_pool_worker.py SOCKET MODE_FILE LOG EMAIL
"""

import base64
import json
import os
import secrets
import socket
import struct
import sys
import threading
import time
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# The wire's tags, in pool_protocol.cpp's order from 1.
TAGS = """op api_url jwks_url issuer client_id ca_pem proxy request_timeout debugging time_left username
preferred_challenge ip_address challenge session answer secret_hash access_token credential_json credential_id
name value contact answered why debug_line failure error_name error_message http_status step parameter available
id_token request_options request_options_error rp_id allow_credential user_verification timeout_ms document
openid_issuer openid_jwks_uri registration options_json rp_name user_id user_name display_name algorithm
exclude_credential resident_key credential friendly_name attachment transport created_at kept_for oauth_domain
form_body openid_authorization_endpoint openid_token_endpoint callback_url page_status page_is_callback
pool_json_status pool_json_domain pool_json_client_id pool_json_scope pool_json_error pause_us""".split()
T = {name: i + 1 for i, name in enumerate(TAGS)}
VERSION, REQUEST, REPLY, NESTED = 1, 1, 2, 3
OPS = {1: "InitiateAuth", 2: "Respond", 3: "FetchJwks", 4: "FetchOpenIdConfiguration", 11: "Pause"}
MAX_FRAME = 6 * 1024 * 1024


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def uint_b64url(n: int) -> str:
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def record(kind, fields):
    out = bytes([VERSION, kind])
    for tag, value in fields:
        if isinstance(value, str):
            value = value.encode()
        out += bytes([T[tag]]) + struct.pack(">I", len(value)) + value
    return out


def u32(v):
    return struct.pack(">I", v)


def parse(data):
    if len(data) < 2 or data[0] != VERSION:
        raise ValueError("not a record")
    fields, pos = [], 2
    while pos < len(data):
        tag, length = data[pos], struct.unpack(">I", data[pos + 1:pos + 5])[0]
        fields.append((TAGS[tag - 1], data[pos + 5:pos + 5 + length]))
        pos += 5 + length
    return fields


def first(fields, name, default=b""):
    return next((v for t, v in fields if t == name), default)


class Keys:
    def __init__(self):
        self.kid = b64url(secrets.token_bytes(16))
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        # Another key under the same id: a token it signs does not verify against the key set served.
        self.other = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self):
        n = self.key.public_key().public_numbers()
        return json.dumps({"keys": [{"alg": "RS256", "e": uint_b64url(n.e), "kid": self.kid, "kty": "RSA",
                                     "n": uint_b64url(n.n), "use": "sig"}]})

    def sign(self, claims, key=None):
        head = b64url(json.dumps({"kid": self.kid, "alg": "RS256"}).encode())
        body = b64url(json.dumps(claims).encode())
        sig = (key or self.key).sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{head}.{body}.{b64url(sig)}"


class Worker:
    def __init__(self, mode_file, log, email):
        self.mode_file, self.log_path, self.email = mode_file, log, email
        self.keys = Keys()
        self.lock = threading.Lock()
        self.held = []  # connections the silent mode never answers
        self.last = None  # the claims of the last replay or same-sign-in token, and the token

    def mode(self):
        with open(self.mode_file) as f:
            return f.read().strip()

    def log(self, line):
        with self.lock, open(self.log_path, "a") as f:
            f.write(line + "\n")

    def token(self, mode, settings, username):
        now = int(time.time())
        claims = {"sub": "fake-sub-" + username, "aud": settings["client_id"], "iss": settings["issuer"],
                  "token_use": "id", "cognito:username": username, "auth_time": now, "iat": now,
                  "exp": now + 3600, "email": self.email, "email_verified": True, "jti": str(uuid.uuid4()),
                  "origin_jti": str(uuid.uuid4())}
        if mode == "replay" and self.last:
            return self.last[1]
        if mode == "same-sign-in" and self.last:
            claims["auth_time"], claims["origin_jti"] = self.last[0]["auth_time"], self.last[0]["origin_jti"]
        if mode in ("replay", "same-sign-in"):
            token = self.keys.sign(claims)
            self.last = (claims, token)
            return token
        if mode == "stale":
            claims["auth_time"], claims["iat"], claims["exp"] = now - 600, now - 600, now + 3000
        elif mode == "refreshed":
            claims["auth_time"] = now - 600
        elif mode == "no-auth-time":
            del claims["auth_time"]
        elif mode == "other-user":
            claims["email"], claims["cognito:username"], claims["sub"] = "bob@example.com", "bob", "fake-sub-bob"
        elif mode == "other-aud":
            claims["aud"] = "another-app-client"
        elif mode == "other-iss":
            claims["iss"] = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_another"
        elif mode == "expired":
            claims["iat"], claims["auth_time"], claims["exp"] = now - 7200, now - 7200, now - 3600
        return self.keys.sign(claims, self.keys.other if mode == "wrong-key" else None)

    def answer(self, mode, fields):
        op = struct.unpack(">I", first(fields, "op"))[0]
        settings = {"client_id": first(fields, "client_id").decode(), "issuer": first(fields, "issuer").decode()}
        username = first(fields, "username").decode()
        contact = ("contact", record(NESTED, [("answered", u32(1)), ("why", "")]))
        self.log(f"op={OPS.get(op, op)} mode={mode}")
        if mode == "escape":
            # A failure told with terminal control sequences (a window title, a screen clear, a bell), as a
            # worker taken over would, hoping root's terminal shows them through `status` or the log.
            why = "\x1b]0;owned\x07\x1b[2Jpool down"
            return record(REPLY, [("contact", record(NESTED, [("answered", u32(0)), ("why", why)])),
                                  ("failure", u32(0)), ("error_message", why)])
        if op == 11:
            # A decoy's pause, kept as asked: nothing reaches a pool.
            time.sleep(struct.unpack(">I", first(fields, "pause_us", b"\0\0\0\0"))[0] / 1e6)
            return record(REPLY, [])
        if op == 3:
            return record(REPLY, [contact, ("document", self.keys.jwks())])
        if op == 1:
            step = [("challenge", "EMAIL_OTP"), ("session", "fake-session-" + secrets.token_hex(16)),
                    ("parameter", record(NESTED, [("name", "CODE_DELIVERY_DELIVERY_MEDIUM"), ("value", "EMAIL")])),
                    ("parameter", record(NESTED, [("name", "CODE_DELIVERY_DESTINATION"), ("value", "a***@e***")])),
                    ("parameter", record(NESTED, [("name", "USERNAME"), ("value", username)])),
                    ("available", "EMAIL_OTP")]
            return record(REPLY, [contact, ("step", record(NESTED, step))])
        if op == 2:
            token = self.token(mode, settings, username)
            step = [("id_token", token), ("access_token", "fake-access")]
            return record(REPLY, [contact, ("step", record(NESTED, step))])
        return record(REPLY, [contact, ("failure", u32(4)), ("error_name", "NotSupported"),
                              ("error_message", "the fake worker does not do this"), ("http_status", u32(400))])

    def serve(self, conn):
        try:
            head = conn.recv(4, socket.MSG_WAITALL)
            size = struct.unpack(">I", head)[0]
            data = conn.recv(size, socket.MSG_WAITALL)
            mode = self.mode()
            fields = parse(data)
            if mode == "silent":
                self.log(f"op={OPS.get(struct.unpack('>I', first(fields, 'op'))[0])} mode=silent")
                self.held.append(conn)
                return
            if mode == "garbage":
                self.log("mode=garbage")
                junk = secrets.token_bytes(64)
                conn.sendall(struct.pack(">I", len(junk)) + junk)
            elif mode in ("too-long", "too-long-for-a-sign-in"):
                self.log(f"mode={mode}")
                # Past every frame's limit, or within it but past a sign-in reply's.
                size = MAX_FRAME + 1 if mode == "too-long" else MAX_FRAME - 1
                conn.sendall(struct.pack(">I", size) + b"\x01\x02")
                self.held.append(conn)  # the rest never comes: root must not wait for it
                return
            elif mode == "kept-forged" and struct.unpack(">I", first(fields, "op"))[0] == 1:
                reply = self.answer("good", fields)
                reply += record(REPLY, [("kept_for", u32(30000))])[2:]  # the field, appended to the reply
                forged = self.answer("other-user", [("op", u32(2))] + fields)
                self.log("mode=kept-forged")
                conn.sendall(struct.pack(">I", len(reply)) + reply + struct.pack(">I", len(forged)) + forged)
                self.held.append(conn)  # kept open, as a worker that keeps it would
                return
            else:
                reply = self.answer(mode, fields)
                conn.sendall(struct.pack(">I", len(reply)) + reply)
        except Exception as e:  # a test helper: say what went wrong and go on serving
            self.log(f"error: {e!r}")
        conn.close()


def main():
    path, mode_file, log, email = sys.argv[1:5]
    worker = Worker(mode_file, log, email)
    with open(path + ".jwks.tmp", "w") as f:
        f.write(worker.keys.jwks())
    os.rename(path + ".jwks.tmp", path + ".jwks")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    tmp = path + ".tmp"
    if os.path.exists(tmp):
        os.unlink(tmp)
    listener.bind(tmp)
    listener.listen(64)
    os.rename(tmp, path)  # the socket appears ready to take connections
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=worker.serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
