#!/usr/bin/python3
"""Local stand-in for the subset of an Amazon Cognito user pool that pam_passwordless uses: passwordless
USER_AUTH sign-in with email/SMS one-time codes and passkeys (WebAuthn), and passkey registration and
management, over real HTTPS on the loopback interface.

  cognito_standin.py serve --state-dir DIR --pool POOL.json [--host 127.0.0.1] [--port 0] [--keep-passkeys]
  cognito_standin.py latest-code --state-dir DIR --to DESTINATION [--after-line N]

`serve` writes DIR/ready.json once it accepts connections; "sent" codes go to DIR/outbox.jsonl, every request
to DIR/requests.jsonl, registered passkeys to DIR/passkeys.json, and DIR/control.json steers TLS modes and
faults (see README.md in this folder).
"""

import argparse
import ipaddress
import json
import os
import signal
import sys
import threading

# The stand-in runs from the source tree during builds: keep that tree free of bytecode caches.
sys.dont_write_bytecode = True

from standin_auth import AuthService, JsonLog, Outbox  # noqa: E402
from standin_managed_login import CallbackServer, ManagedLogin, check_oauth_clients  # noqa: E402
from standin_passkeys import load_kept_passkeys  # noqa: E402
from standin_pool import PoolError, load_pool  # noqa: E402
from standin_server import StandinServer  # noqa: E402
from standin_tls import generate_certificates, server_contexts  # noqa: E402
from standin_tokens import KeyRing, TokenIssuer  # noqa: E402


def _write_json_atomically(path: str, value: dict):
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _remove(path: str):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def serve(state_dir: str, pool_path: str, host: str, port: int, keep_passkeys: bool = False) -> int:
    try:
        if ipaddress.ip_address(host).version != 4 or not ipaddress.ip_address(host).is_loopback:
            raise ValueError
    except ValueError:
        print(f"cognito-standin: --host must be an IPv4 loopback address, not {host!r}", file=sys.stderr)
        return 2
    passkey_file = os.path.join(os.path.abspath(state_dir), "passkeys.json")
    try:
        pool = load_pool(pool_path)
        check_oauth_clients(pool)
        if keep_passkeys:
            load_kept_passkeys(pool, passkey_file)
    except PoolError as e:
        print(f"cognito-standin: {e}", file=sys.stderr)
        return 2

    # Signals are taken synchronously by the main thread (sigwait below); blocking them before any thread
    # exists makes every connection thread inherit the mask.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)

    state_dir = os.path.abspath(state_dir)
    os.makedirs(state_dir, exist_ok=True)
    ready_path = os.path.join(state_dir, "ready.json")
    _remove(ready_path)
    tls_contexts = server_contexts(generate_certificates(state_dir))
    keyring = KeyRing()
    # The key set as published at start, as an admin downloads it for [pool] jwks_file: tests pin it
    # without a request the request log would show.
    _write_json_atomically(os.path.join(state_dir, "jwks.json"), keyring.jwks())
    # A new instance starts with empty logs: codes and requests of an earlier run mean nothing to this one.
    for name in ("outbox.jsonl", "requests.jsonl", "issued.jsonl"):
        open(os.path.join(state_dir, name), "w").close()
    outbox = Outbox(os.path.join(state_dir, "outbox.jsonl"))
    request_log = JsonLog(os.path.join(state_dir, "requests.jsonl"))
    issued = JsonLog(os.path.join(state_dir, "issued.jsonl"))

    server = StandinServer((host, port), state_dir, tls_contexts, keyring, pool.pool_id, request_log)
    # The issuer, and so the tokens, name the port, which is known only now that the socket is bound.
    port = server.server_address[1]
    url = f"https://{host}:{port}/"
    server.issuer = url + pool.pool_id
    tokens = TokenIssuer(keyring, server.issuer, pool.id_token_validity_seconds, pool.access_token_validity_seconds,
                         clock=server.clock)
    server.service = AuthService(pool, tokens, outbox, clock=server.clock, passkey_file=passkey_file,
                                 issued=issued)

    # Managed login lives on https://localhost:<port> (WebAuthn refuses IP-address origins); the callback page
    # on a second origin, https://localhost:<callback port>/cb/.
    # Its /cb/pool.json (the launcher's) is DIR/callback-pool.json, written by a test: none at start.
    pool_json = os.path.join(state_dir, "callback-pool.json")
    _remove(pool_json)
    callback_server = CallbackServer(host, tls_contexts["ok"], pool_json)
    callback_page = f"https://localhost:{callback_server.server_address[1]}/cb/"
    server.managed_login = ManagedLogin(server, f"https://localhost:{port}", callback_page)

    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="accept")
    serving.start()
    callback_serving = threading.Thread(target=callback_server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="callback")
    callback_serving.start()
    _write_json_atomically(ready_path, {
        "port": port,
        "pid": os.getpid(),
        "url": url,
        "issuer": server.issuer,
        "jwks_url": server.issuer + "/.well-known/jwks.json",
        "ca_file": os.path.join(state_dir, "ca.pem"),
        "pool_id": pool.pool_id,
        "login_url": f"https://localhost:{port}",
        "callback_page": callback_page,
    })

    signal.sigwait(stop_signals)
    _remove(ready_path)
    server.shutdown()
    callback_server.shutdown()
    serving.join()
    callback_serving.join()
    server.server_close()
    callback_server.server_close()
    return 0


def latest_code(state_dir: str, destination: str, after_line: int) -> int:
    path = os.path.join(state_dir, "outbox.jsonl")
    wanted = destination.casefold() if "@" in destination else destination
    code = None
    try:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if number <= after_line or not line.endswith("\n"):
                    continue  # skipped on request, or still being written
                record = json.loads(line)
                sent_to = record["destination"]
                if (sent_to.casefold() if "@" in sent_to else sent_to) == wanted:
                    code = record["code"]
    except FileNotFoundError:
        pass
    if code is None:
        after = f" after line {after_line}" if after_line else ""
        print(f"cognito-standin: no code sent to {destination}{after} in {path}", file=sys.stderr)
        return 1
    print(code)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="cognito_standin.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    serve_cmd = commands.add_parser("serve", help="run the stand-in until SIGTERM/SIGINT")
    serve_cmd.add_argument("--state-dir", required=True)
    serve_cmd.add_argument("--pool", required=True, help="pool file (JSON)")
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int, default=0, help="0: a free port chosen by the kernel")
    serve_cmd.add_argument("--keep-passkeys", action="store_true",
                           help="start with the passkeys DIR/passkeys.json holds from an earlier run")

    code_cmd = commands.add_parser("latest-code", help="print the newest code sent to a destination")
    code_cmd.add_argument("--state-dir", required=True)
    code_cmd.add_argument("--to", required=True, help="full email address or E.164 phone number")
    code_cmd.add_argument("--after-line", type=int, default=0,
                          help="ignore the first N lines of the outbox (codes sent before a known point)")

    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args.state_dir, args.pool, args.host, args.port, args.keep_passkeys)
    return latest_code(args.state_dir, args.to, args.after_line)


if __name__ == "__main__":
    sys.exit(main())
