"""Plays the person's browser for the PAM tests of "Sign in with your browser": opens the link the module
showed at the stand-in's managed login, signs in with an email code (read from the stand-in's outbox), or
with --passkey with the test passkey of the pool user frank (tests/pam/test_pool.json), and prints what the
callback address carries: the code on the first line (or "error=<error>"), then the state.

  browser_play.py --url URL --ca CA_FILE --outbox OUTBOX --user NAME --email ADDRESS --cookies FILE
                  [--drop-prompt] [--set-param NAME=VALUE ...] [--set-challenge CHALLENGE]
                  [--passkey platform|cross-platform]

A short link (the callback page with a #fragment, `[browser] link = short`) is followed as the page's launcher
does it (callback/callback.js, whose JavaScript the Chromium tests in tests/browser run): the page and its
pool.json are fetched from the page's folder, and the authorize request is built from pool.json and the
fragment. This script cannot run JavaScript, so the request is built here by the README's rules; a missing
pool.json or an unreadable fragment prints "launch-error=..." (the page's error) and goes nowhere.
--set-challenge replaces the fragment's PKCE challenge (a short link tampered with on the way).

--passkey signs the page's WebAuthn challenge as a browser would (clientDataJSON for the page's origin,
authenticator data for the options' rpId, UP and UV set) and reports the authenticator's attachment as given.

--drop-prompt sends the link without prompt=login (a phishing page's or a stale bookmark's): with a live
session cookie the stand-in then hands out a code at once, for the session's old sign-in. --set-param
replaces a query parameter of the link (a tampered nonce or code_challenge). The session cookie is read from
and written to --cookies.
"""
import argparse
import base64
import hashlib
import http.client
import json
import os
import re
import ssl
import sys
import urllib.parse


def request(ctx, origin, method, path, cookie=None, form=None):
    parsed = urllib.parse.urlsplit(origin)
    conn = http.client.HTTPSConnection(parsed.hostname, parsed.port, context=ctx, timeout=20)
    headers = {}
    body = None
    if cookie:
        headers["Cookie"] = cookie
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    text = response.read().decode("utf-8", "replace")
    answer = (response.status, response.getheader("Location"), response.getheader("Set-Cookie"), text)
    conn.close()
    return answer


# The test passkey of the pool user frank (tests/pam/test_pool.json holds its credential id and public key): a
# private key made from a fixed string, for these tests only.
PASSKEY_CREDENTIAL_ID = "a9QlVy7TWtrl378qgrLkyA"
PASSKEY_SEED = b"pam_passwordless tests: frank's passkey (browser_play.py)"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def passkey_assertion(options: dict, origin: str, attachment: str) -> dict:
    """The PublicKeyCredential a browser sends for `options` (WebAuthn L3 §7.2's inputs), signed with the test
    passkey. The signature counter stays 0 (an authenticator without a counter)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    if PASSKEY_CREDENTIAL_ID not in [c.get("id") for c in options.get("allowCredentials", [])]:
        sys.exit("browser_play: the test passkey is not in allowCredentials")
    key = ec.derive_private_key(int.from_bytes(hashlib.sha256(PASSKEY_SEED).digest(), "big"), ec.SECP256R1())
    client_data = json.dumps({"type": "webauthn.get", "challenge": options["challenge"], "origin": origin,
                              "crossOrigin": False}).encode()
    auth_data = hashlib.sha256(options["rpId"].encode()).digest() + bytes([0x05]) + (0).to_bytes(4, "big")
    signature = key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
    return {"id": PASSKEY_CREDENTIAL_ID, "rawId": PASSKEY_CREDENTIAL_ID, "type": "public-key",
            "clientExtensionResults": {}, "authenticatorAttachment": attachment,
            "response": {"clientDataJSON": b64url(client_data), "authenticatorData": b64url(auth_data),
                         "signature": b64url(signature), "userHandle": None}}


def post_json(ctx, origin, path, cookie, value):
    parsed = urllib.parse.urlsplit(origin)
    conn = http.client.HTTPSConnection(parsed.hostname, parsed.port, context=ctx, timeout=20)
    headers = {"Content-Type": "application/json"}
    if cookie:
        headers["Cookie"] = cookie
    conn.request("POST", path, body=json.dumps(value), headers=headers)
    response = conn.getresponse()
    answer = (response.status, response.getheader("Set-Cookie"), json.loads(response.read() or b"{}"))
    conn.close()
    return answer


def latest_code(outbox, email):
    code = None
    with open(outbox, encoding="utf-8") as f:
        for line in f:
            entry = json.loads(line)
            if entry.get("destination") == email and entry.get("code"):
                code = entry["code"]
    return code


def callback_result(location):
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    if "code" in query:
        return query["code"], query.get("state", "")
    return "error=" + query.get("error", "unknown"), query.get("state", "")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def launch(ctx, link, set_challenge):
    """The launcher's work (callback/README.md): the authorize URL for a short link, or None (and the page's
    error printed) when it cannot start a sign-in."""
    origin = f"{link.scheme}://{link.netloc}"
    status, _, _, page = request(ctx, origin, "GET", link.path)
    if status != 200 or "callback.js" not in page:
        sys.exit(f"browser_play: the callback page answered {status}")
    fields = link.fragment.split(".")
    if len(fields) != 5 or fields[0] != "1" or not re.fullmatch(r"[A-Za-z0-9_-]{43}", fields[1]) \
            or not re.fullmatch(r"[0-9a-z]{1,10}", fields[2]):
        print("launch-error=fragment")
        return None
    if set_challenge:
        fields[1] = set_challenge
    try:
        user, host = b64url_decode(fields[3]), b64url_decode(fields[4])
    except ValueError:
        print("launch-error=fragment")
        return None
    folder = link.path[:link.path.rfind("/") + 1]
    status, _, _, text = request(ctx, origin, "GET", folder + "pool.json")
    if status != 200:
        print("launch-error=pool.json")
        return None
    pool = json.loads(text)
    state = "1" + base64.urlsafe_b64encode(fields[2].encode() + b"\n" + user + b"\n" + host) \
        .rstrip(b"=").decode("ascii")
    params = [("response_type", "code"), ("client_id", pool["client_id"]), ("redirect_uri", origin + link.path),
              ("scope", " ".join(pool["scopes"])), ("state", state), ("nonce", fields[1]),
              ("code_challenge", fields[1]), ("code_challenge_method", "S256"), ("prompt", "login")]
    return "https://" + pool["domain"] + "/oauth2/authorize?" + urllib.parse.urlencode(
        params, quote_via=lambda value, *_: urllib.parse.quote(value, safe=""))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--outbox", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--cookies", required=True)
    parser.add_argument("--drop-prompt", action="store_true")
    parser.add_argument("--set-param", action="append", default=[])
    parser.add_argument("--set-challenge")
    parser.add_argument("--passkey", choices=("platform", "cross-platform"))
    args = parser.parse_args()

    ctx = ssl.create_default_context(cafile=args.ca)
    link = urllib.parse.urlsplit(args.url)
    if link.fragment:
        authorize = launch(ctx, link, args.set_challenge)
        if authorize is None:
            return
        link = urllib.parse.urlsplit(authorize)
    elif args.set_challenge:
        sys.exit("browser_play: --set-challenge needs a short link")
    origin = f"{link.scheme}://{link.netloc}"
    params = urllib.parse.parse_qsl(link.query, keep_blank_values=True)
    if args.drop_prompt:
        params = [(k, v) for k, v in params if k != "prompt"]
    for setting in args.set_param:
        name, _, value = setting.partition("=")
        if name not in {k for k, _ in params}:
            sys.exit(f"browser_play: the link has no parameter {name}")
        params = [(k, value if k == name else v) for k, v in params]
    cookie = None
    if os.path.exists(args.cookies):
        with open(args.cookies, encoding="utf-8") as f:
            cookie = f.read().strip() or None

    status, location, _, _ = request(ctx, origin, "GET", link.path + "?" + urllib.parse.urlencode(params), cookie)
    if status != 302 or not location:
        sys.exit(f"browser_play: authorize answered {status}")
    if not location.startswith("/login?"):
        # A code at once (a live session), or an error sent to the callback.
        print("\n".join(callback_result(location)))
        return
    status, _, _, page = request(ctx, origin, "GET", location, cookie)
    txn = re.search(r'name="txn" value="([^"]+)"', page)
    if status != 200 or not txn:
        sys.exit(f"browser_play: the login page answered {status}")
    if args.passkey:
        status, _, answer = post_json(ctx, origin, "/login/passkey/options", cookie,
                                      {"txn": txn.group(1), "username": args.user})
        if status != 200:
            sys.exit(f"browser_play: no passkey options ({status}: {answer})")
        credential = passkey_assertion(answer["options"], origin, args.passkey)
        status, set_cookie, answer = post_json(ctx, origin, "/login/passkey", cookie,
                                               {"txn": txn.group(1), "credential": credential})
        if status != 200 or "location" not in answer:
            sys.exit(f"browser_play: the passkey was not accepted ({status}: {answer})")
        if set_cookie:
            with open(args.cookies, "w", encoding="utf-8") as f:
                f.write(set_cookie.split(";", 1)[0])
        print("\n".join(callback_result(answer["location"])))
        return
    before = latest_code(args.outbox, args.email)
    status, _, _, _ = request(ctx, origin, "POST", "/login/email", cookie,
                              {"txn": txn.group(1), "username": args.user})
    code = latest_code(args.outbox, args.email)
    if status != 200 or not code or code == before:
        sys.exit(f"browser_play: no email code was sent ({status})")
    status, location, set_cookie, _ = request(ctx, origin, "POST", "/login/email/verify", cookie,
                                              {"txn": txn.group(1), "code": code})
    if status != 302 or not location:
        sys.exit(f"browser_play: the code was not accepted ({status})")
    if set_cookie:
        with open(args.cookies, "w", encoding="utf-8") as f:
            f.write(set_cookie.split(";", 1)[0])
    print("\n".join(callback_result(location)))


if __name__ == "__main__":
    main()
