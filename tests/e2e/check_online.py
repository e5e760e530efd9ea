#!/usr/bin/python3
"""`pam-passwordless-helper check-config [--online]` against the user-pool stand-in (issue #11): each
misconfiguration an admin can make on the AWS side or in [pool] is found and named with its fix, and no code
is ever sent.

    check_online.py --build-dir BUILD --work-dir DIR --helper HELPER --scenario NAME

Every scenario starts the stand-in (tests/cognito_standin) with a pool of its own, writes a root-owned
configuration under DIR, runs the real helper binary's check-config (offline, then --online) and asserts
the exit status, the named fix and that the stand-in's outbox.jsonl stayed empty. Needs root (the helper
trusts only root-owned files); exits 77 otherwise.
"""

import argparse
import json
import os
import re
import socket
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cognito_standin"))
import test_cognito_standin as standin_harness  # noqa: E402  (the stand-in's own harness: start, ready, stop)

POOL_ID = "us-east-1_TestPool"
PUBLIC = "checkpublic0000000000000000"
SECRET_CLIENT = "checksecret0000000000000000"
NO_USER_AUTH = "checkpasswordonly000000000"
BROWSER = "checkbrowser000000000000000"  # public, with the code grant: browser sign-in's client
NO_CODE_GRANT = "checknocodegrant0000000000"  # public, OAuth on but only the implicit grant
OAUTH = {"allowed_oauth_flows_user_pool_client": True, "allowed_oauth_flows": ["code"],
         "allowed_oauth_scopes": ["openid", "email", "phone"], "callback_urls": ["{callback_page}"],
         "supported_identity_providers": ["COGNITO"]}
SECRET = "check-online-secret-0123456789abcdefghijklmnopqrstuv"
PLACEHOLDER_POOL = "eu-west-1_AbCdEf123"
PLACEHOLDER_CLIENT = "1example23456789abcdefghij"

SCENARIOS = [
    "good", "good-secret", "placeholder", "secret-not-set", "secret-file-missing", "secret-file-empty",
    "wrong-secret", "no-user-auth", "unknown-client", "factor-missing", "ca-missing", "tls-untrusted",
    "tls-wrong-host", "tls-expired", "unreachable", "issuer-mismatch", "issuer-other-pool", "jwks-down",
    "jwks-invalid", "masked-by-error",
    # [browser] (issue #13): the managed login's endpoints and the token endpoint's view of the app client.
    "browser-good", "browser-secret-client", "browser-no-code-grant", "browser-not-oauth", "browser-wrong-domain",
    "browser-offline",
    # [browser] redirect_uri: the callback page served there and the pool.json beside it (issue #13).
    "callback-good", "callback-no-pool-json", "callback-other-client", "callback-other-domain",
    "callback-not-the-page",
]


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--helper", required=True)
    ap.add_argument("--module")  # passed to every e2e test; not used here
    ap.add_argument("--scenario", required=True, choices=SCENARIOS)
    return ap.parse_args()


class Failed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failed(message)


def pool(prevent="ENABLED", factors=("EMAIL_OTP", "SMS_OTP", "WEB_AUTHN", "PASSWORD"), pool_id=POOL_ID,
         public=PUBLIC):
    return {
        "pool_id": pool_id,
        "clients": [
            {"client_id": public, "client_secret": None,
             "explicit_auth_flows": ["ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]},
            {"client_id": SECRET_CLIENT, "client_secret": SECRET,
             "explicit_auth_flows": ["ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"], "oauth": OAUTH},
            {"client_id": NO_USER_AUTH, "client_secret": None,
             "explicit_auth_flows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]},
            {"client_id": BROWSER, "client_secret": None, "explicit_auth_flows": ["ALLOW_USER_AUTH"],
             "oauth": OAUTH},
            {"client_id": NO_CODE_GRANT, "client_secret": None, "explicit_auth_flows": ["ALLOW_USER_AUTH"],
             "oauth": dict(OAUTH, allowed_oauth_flows=["implicit"])},
        ],
        "allowed_first_auth_factors": list(factors),
        "prevent_user_existence_errors": prevent,
        "users": [{"username": "alice", "email": "alice@example.com", "email_verified": True,
                   "phone_number": "+15555550123", "phone_number_verified": True}],
    }


def write(path, text, mode=0o644):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


class Run:
    def __init__(self, args):
        self.helper = os.path.abspath(args.helper)
        self.dir = os.path.abspath(args.work_dir)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.standin = None

    def start(self, pool_spec):
        self.standin = standin_harness.Standin("standin", pool_spec, work_dir=self.dir)
        self.standin.wait_ready()
        self.ready = self.standin.ready
        self.state = self.standin.state

    def control(self, spec):
        standin_harness.write_atomically(os.path.join(self.state, "control.json"), json.dumps(spec))

    def config(self, client=PUBLIC, pool_id=POOL_ID, secret_file=None, methods="email_otp sms_otp", browser=None,
               **pool_keys):
        keys = {"endpoint": self.ready["url"], "issuer": self.ready["issuer"], "jwks_url": self.ready["jwks_url"],
                "ca_file": self.ready["ca_file"]}
        keys.update(pool_keys)
        lines = ["[pool]", f"pool_id = {pool_id}", f"client_id = {client}"]
        if secret_file:
            lines.append(f"client_secret_file = {secret_file}")
        lines += [f"{k} = {v}" for k, v in keys.items() if v is not None]
        lines += ["[login]", f"methods = {methods}", "[binding]",
                  "claim = cognito:username", "[limits]", f"state_file = {self.dir}/limits"]
        if browser is not None:
            lines += ["[browser]"] + [f"{k} = {v}" for k, v in browser.items() if v is not None]
        path = os.path.join(self.dir, "helper.conf")
        write(path, "\n".join(lines) + "\n")
        return path

    def secret_file(self, text):
        path = os.path.join(self.dir, "client-secret")
        write(path, text, 0o600)
        return path

    def check_config(self, config, online):
        argv = [self.helper, "check-config", "--config", config] + (["--online"] if online else [])
        r = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False,
                           env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"})
        print(f"$ {' '.join(argv)}  -> exit {r.returncode}")
        print("\n".join("    " + l for l in (r.stdout + r.stderr).splitlines()))
        return r.returncode, r.stdout, r.stderr

    def outbox_empty(self):
        path = os.path.join(self.state, "outbox.jsonl")
        text = open(path).read() if os.path.exists(path) else ""
        check(text == "", f"a code was sent during the check: {text!r}")

    def requests(self):
        with open(os.path.join(self.state, "requests.jsonl")) as f:
            return [json.loads(l) for l in f if l.strip()]

    def stop(self):
        if self.standin:
            code = self.standin.stop()
            check(code == 0, f"the stand-in exited with {code}")


def lines_with(out, status, *needles):
    """The lines of `out` that start with `status` and hold every needle."""
    return [l for l in out.splitlines() if l.startswith(status + " ") and all(n in l for n in needles)]


def expect_line(out, status, *needles):
    found = lines_with(out, status, *needles)
    check(found, f"no line '{status} ...' holding {needles!r} in:\n{out}")
    return found[0]


def expect_online_failure(run, config, *needles):
    """check-config --online exits 1 with a FAIL line holding every needle, says no code was sent, and none
    was."""
    code, out, err = run.check_config(config, online=True)
    check(code == 1, f"check-config --online must exit 1 on a failed check, not {code}")
    expect_line(out, "FAIL", *needles)
    check(re.search(r"^No code was sent: ", out, re.M), "the output does not say that no code was sent")
    run.outbox_empty()
    return out


def expect_offline_refusal(run, config, *needles):
    """Both check-config and check-config --online refuse the file (exit 1) with an error holding every
    needle, before anything is sent anywhere."""
    for online in (False, True):
        code, out, err = run.check_config(config, online=online)
        check(code == 1, f"check-config{' --online' if online else ''} must refuse the file (exit 1), not {code}")
        check(all(n in err for n in needles), f"the error does not name {needles!r}:\n{err}")
        check("configuration OK" not in out, "a refused file must not print 'configuration OK'")
    run.outbox_empty()
    check(run.requests() == [], "a refused configuration must not reach the pool")


def browser_keys(run, client=BROWSER, domain=None):
    """A [browser] section for the stand-in's managed login (its pages are on login_url, https://localhost:PORT)
    and its callback page."""
    return {"domain": domain or run.ready["login_url"][len("https://"):], "client_id": client,
            "redirect_uri": run.ready["callback_page"]}


def write_pool_json(run, domain=None, client=BROWSER, scopes=("openid", "email", "phone")):
    """The callback page's pool.json (the stand-in serves DIR/callback-pool.json as /cb/pool.json)."""
    write(os.path.join(run.state, "callback-pool.json"), json.dumps(
        {"domain": domain or run.ready["login_url"][len("https://"):], "client_id": client, "scopes": list(scopes)}))


def browser_scenario(run, name):
    run.start(pool())
    domain = run.ready["login_url"][len("https://"):]
    # The admin wrote the page's pool.json for [browser] (checked by the callback-* scenarios).
    write_pool_json(run)
    if name == "browser-good":
        config = run.config(methods="email_otp browser", browser=browser_keys(run))
        code, out, _ = run.check_config(config, online=False)
        check(code == 0 and "configuration OK" in out, "offline check-config must accept the good file")
        expect_line(out, "browser sign-in:", f"https://{domain}", f"public app client {BROWSER}")
        code, out, _ = run.check_config(config, online=True)
        check(code == 0, f"a good [browser] must pass check-config --online (exit 0), not {code}")
        check(not lines_with(out, "FAIL"), "a good [browser] has a FAIL line")
        expect_line(out, "ok", "authorization_endpoint", f"https://{domain}/oauth2/authorize", "[browser] domain")
        expect_line(out, "ok", "token_endpoint", f"https://{domain}/oauth2/token")
        expect_line(out, "ok", "token endpoint", "verified TLS")
        expect_line(out, "ok", f"[browser] app client {BROWSER} is public")
        expect_line(out, "not checked:", "redirect_uri", "callback URL")
        check(re.search(r"^No code was sent: .*made-up authorization code", out, re.M),
              "the output does not say the token endpoint was asked about a made-up code")
        tokens = [r for r in run.requests() if r["op"] == "managed-login /oauth2/token"]
        check(len(tokens) == 1, f"expected exactly one token request, got {tokens}")
        run.outbox_empty()
        issued = os.path.join(run.state, "issued.jsonl")
        kinds = [json.loads(l)["kind"] for l in open(issued) if l.strip()] if os.path.exists(issued) else []
        check(not {"IdToken", "AccessToken", "RefreshToken"} & set(kinds), f"the check was issued tokens: {kinds}")
    elif name == "browser-secret-client":
        # [pool] has no secret, so naming the secret client in [browser] passes the offline rules: the
        # token endpoint tells.
        out = expect_online_failure(run, run.config(browser=browser_keys(run, client=SECRET_CLIENT)),
                                    f"[browser] app client {SECRET_CLIENT} has a client secret",
                                    "never leaves root", "--no-generate-secret")
        expect_line(out, "ok", "token endpoint", "verified TLS")
    elif name == "browser-no-code-grant":
        expect_online_failure(run, run.config(browser=browser_keys(run, client=NO_CODE_GRANT)),
                              f"[browser] app client {NO_CODE_GRANT} may not use the authorization code grant",
                              "--allowed-o-auth-flows code")
    elif name == "browser-not-oauth":
        expect_online_failure(run, run.config(browser=browser_keys(run, client=PUBLIC)),
                              f"[browser] app client {PUBLIC} is unknown to the managed login, or not enabled "
                              "for OAuth", "--allowed-o-auth-flows-user-pool-client")
    elif name == "browser-wrong-domain":
        # The certificate names 127.0.0.1 too, and the stand-in answers there: only discovery tells.
        wrong = domain.replace("localhost", "127.0.0.1")
        expect_online_failure(run, run.config(browser=browser_keys(run, domain=wrong)),
                              "the pool's authorization_endpoint is", f"not on [browser] domain {wrong}",
                              f"set [browser] domain = {domain}")
    elif name == "browser-offline":
        # The loader's own rules, before anything is sent: the secret client of [pool] is never the
        # browser's, and browser in methods needs the section.
        secret = run.secret_file(SECRET + "\n")
        expect_offline_refusal(run, run.config(client=SECRET_CLIENT, secret_file=secret, browser=browser_keys(
            run, client=SECRET_CLIENT)), "[browser] client_id", "needs a public app client")
        expect_offline_refusal(run, run.config(methods="email_otp browser"), "methods lists browser")
        expect_offline_refusal(run, run.config(browser=dict(browser_keys(run), domain=f"https://{domain}")),
                               "no https://")


def callback_scenario(run, name):
    run.start(pool())
    domain = run.ready["login_url"][len("https://"):]
    page = run.ready["callback_page"]
    pool_json = page + "pool.json"
    if name == "callback-good":
        # Scopes in another order are the same scopes.
        write_pool_json(run, scopes=("phone", "openid", "email"))
        code, out, _ = run.check_config(run.config(methods="email_otp browser", browser=browser_keys(run)),
                                        online=True)
        check(code == 0, f"a good callback page and pool.json must pass check-config --online (exit 0), not {code}")
        check(not lines_with(out, "FAIL"), "a good callback page has a FAIL line")
        expect_line(out, "ok", f"callback page [browser] redirect_uri {page}", "is pam_passwordless's callback page")
        expect_line(out, "ok", f"pool.json {pool_json}", f"[browser] domain {domain}", f"client_id {BROWSER}",
                    "scopes openid email phone")
        check(re.search(r"^No code was sent: .*the callback page and its pool\.json", out, re.M),
              "the output does not say the callback page and its pool.json were read")
        run.outbox_empty()
    elif name == "callback-no-pool-json":
        # No DIR/callback-pool.json: the page's folder answers 404 for it.
        out = expect_online_failure(run, run.config(browser=browser_keys(run)), f"pool.json {pool_json}",
                                    "HTTP 404", "link = short", f'"client_id": "{BROWSER}"',
                                    "set [browser] link = full")
        expect_line(out, "ok", f"callback page [browser] redirect_uri {page}", "is pam_passwordless's callback page")
        # With the whole authorize link the page never reads pool.json: its absence is no failure.
        code, out, _ = run.check_config(run.config(browser=dict(browser_keys(run), link="full")), online=True)
        check(code == 0, f"link = full without pool.json must pass check-config --online (exit 0), not {code}")
        check(not lines_with(out, "FAIL"), "link = full without pool.json has a FAIL line")
        expect_line(out, "ok", f"pool.json {pool_json}", "HTTP 404", "not needed with [browser] link = full")
        run.outbox_empty()
    elif name == "callback-other-client":
        write_pool_json(run, client=PUBLIC)
        for link in ("short", "full"):
            out = expect_online_failure(run, run.config(browser=dict(browser_keys(run), link=link)),
                                        f"pool.json {pool_json} names client_id {PUBLIC}",
                                        f"[browser] client_id is {BROWSER}", f"write {pool_json}")
            check(not lines_with(out, "FAIL", "names domain"), "the right domain was reported as wrong")
    elif name == "callback-other-domain":
        write_pool_json(run, domain="other.auth.example.org")
        expect_online_failure(run, run.config(browser=browser_keys(run)),
                              f"pool.json {pool_json} names domain other.auth.example.org",
                              f"[browser] domain is {domain}", f'"domain": "{domain}"')
        # One the page itself would refuse (checkPool): not JSON, or scopes without openid.
        write(os.path.join(run.state, "callback-pool.json"), "{not json")
        expect_online_failure(run, run.config(browser=browser_keys(run)), f"pool.json {pool_json} is not usable",
                              f"write {pool_json}")
        write_pool_json(run, scopes=("email", "phone"))
        expect_online_failure(run, run.config(browser=browser_keys(run)), f"pool.json {pool_json} is not usable",
                              "no openid scope")
    elif name == "callback-not-the-page":
        write_pool_json(run)
        # A file of the page's folder that is not the page: HTTP 200 without the marker.
        css = page + "callback.css"
        out = expect_online_failure(run, run.config(browser=dict(browser_keys(run), redirect_uri=css)),
                                    f"[browser] redirect_uri {css} is not pam_passwordless's callback page",
                                    "pam-passwordless-callback", "serve the callback folder")
        check(not lines_with(out, "ok", "callback page"), "a page without the marker was taken for the callback page")
        # A path where nothing is served: HTTP 404, named with the URL.
        origin = page[:page.index("/", len("https://"))]
        elsewhere = origin + "/elsewhere/"
        expect_online_failure(run, run.config(browser=dict(browser_keys(run), redirect_uri=elsewhere)),
                              f"callback page [browser] redirect_uri {elsewhere} answered HTTP 404",
                              "serve the callback folder")


def scenario(run, name):
    if name.startswith("callback-"):
        callback_scenario(run, name)
        return
    if name.startswith("browser-"):
        browser_scenario(run, name)
        return
    if name in ("good", "good-secret"):
        run.start(pool(prevent="ENABLED" if name == "good" else "LEGACY"))
        config = (run.config() if name == "good"
                  else run.config(client=SECRET_CLIENT, secret_file=run.secret_file(SECRET + "\n")))
        code, out, _ = run.check_config(config, online=False)
        check(code == 0 and "configuration OK" in out, "offline check-config must accept the good file")
        code, out, _ = run.check_config(config, online=True)
        check(code == 0, f"a good configuration must pass check-config --online (exit 0), not {code}")
        check(not lines_with(out, "FAIL"), "a good configuration has a FAIL line")
        for needles in (("endpoint", "verified TLS"), ("app client", "exists"), ("USER_AUTH", "allowed"),
                        ("issuer",), ("JWKS", "signing key")):
            expect_line(out, "ok", *needles)
        if name == "good":
            expect_line(out, "ok", "first factors", "EMAIL_OTP", "email_otp")
            expect_line(out, "ok", "first factors", "SMS_OTP", "sms_otp")
        else:
            expect_line(out, "ok", "client secret", "SECRET_HASH accepted")
            # A LEGACY pool answers UserNotFoundException: nothing is learnt of its factors, and it says so.
            expect_line(out, "not checked:", "first factors")
            expect_line(out, "warn", "PreventUserExistenceErrors", "ENABLED")
        check(re.search(r"^No code was sent: ", out, re.M), "the output does not say that no code was sent")
        check(re.search(r"^online check OK", out, re.M), "no final 'online check OK'")
        probes = [r for r in run.requests() if r["op"] == "InitiateAuth"]
        check(len(probes) == 1, f"expected exactly one InitiateAuth, got {probes}")
        check(not any(r["op"] == "RespondToAuthChallenge" for r in run.requests()),
              "the check answered a challenge")
        check(probes[0]["username"].startswith("pam-passwordless-check-"), f"probe name {probes[0]['username']}")
        run.outbox_empty()
    elif name == "placeholder":
        run.start(pool(pool_id=PLACEHOLDER_POOL, public=PLACEHOLDER_CLIENT))
        config = run.config(client=PLACEHOLDER_CLIENT, pool_id=PLACEHOLDER_POOL)
        code, out, _ = run.check_config(config, online=False)
        check(code == 0, "the shipped example must still pass the offline check (the package's unit runs it)")
        expect_line(out, "warning:", "placeholder", PLACEHOLDER_POOL)
        expect_online_failure(run, config, "placeholder", "pool_id", "client_id")
    elif name == "secret-not-set":
        run.start(pool())
        expect_online_failure(run, run.config(client=SECRET_CLIENT),
                              "the app client has a secret but client_secret_file is not set")
    elif name == "secret-file-missing":
        run.start(pool())
        expect_offline_refusal(run, run.config(client=SECRET_CLIENT, secret_file=f"{run.dir}/no-such-secret"),
                               "no-such-secret", "client_secret_file")
    elif name == "secret-file-empty":
        run.start(pool())
        expect_offline_refusal(run, run.config(client=SECRET_CLIENT, secret_file=run.secret_file("")),
                               "client secret is empty")
    elif name == "wrong-secret":
        run.start(pool())
        expect_online_failure(run, run.config(client=SECRET_CLIENT, secret_file=run.secret_file("not-it\n")),
                              "client secret refused (SECRET_HASH)", "holds the wrong secret")
    elif name == "no-user-auth":
        run.start(pool())
        expect_online_failure(run, run.config(client=NO_USER_AUTH), f"app client {NO_USER_AUTH}",
                              "enable ALLOW_USER_AUTH in ExplicitAuthFlows",
                              "aws cognito-idp update-user-pool-client")
    elif name == "unknown-client":
        run.start(pool())
        expect_online_failure(run, run.config(client="nosuchclient000000000000000"),
                              "app client nosuchclient000000000000000 does not exist",
                              "list-user-pool-clients")
    elif name == "factor-missing":
        run.start(pool(factors=("SMS_OTP", "PASSWORD")))
        out = expect_online_failure(run, run.config(),
                                    "user pool has no EMAIL_OTP in SignInPolicy.AllowedFirstAuthFactors "
                                    "but methods has email_otp", "update-user-pool")
        expect_line(out, "ok", "first factors", "SMS_OTP")
    elif name == "ca-missing":
        run.start(pool())
        expect_offline_refusal(run, run.config(ca_file=f"{run.dir}/no-such-ca.pem"), "no-such-ca.pem",
                               "ca_file")
    elif name.startswith("tls-"):
        run.start(pool())
        mode = {"tls-untrusted": "untrusted", "tls-wrong-host": "wrong_host", "tls-expired": "expired"}[name]
        run.control({"tls": mode})
        want = {"untrusted": "certificate not trusted by ca_file " + run.ready["ca_file"],
                "wrong_host": "certificate does not name the host 127.0.0.1",
                "expired": "certificate has expired"}[mode]
        out = expect_online_failure(run, run.config(), "endpoint", "TLS: " + want)
        expect_line(out, "FAIL", "JWKS", "TLS: " + want)
        expect_line(out, "not checked:", "app client")
    elif name == "unreachable":
        run.start(pool())
        # A bound socket that never listens: connections to it are refused, for as long as it is held.
        closed = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        closed.bind(("127.0.0.1", 0))
        url = f"https://127.0.0.1:{closed.getsockname()[1]}/"
        try:
            out = expect_online_failure(run, run.config(endpoint=url), "endpoint unreachable", url)
        finally:
            closed.close()
        expect_line(out, "not checked:", "app client")
        expect_line(out, "ok", "JWKS")  # still at the stand-in: later checks that mean something still run
    elif name == "issuer-mismatch":
        run.start(pool())
        # The certificate names localhost too, so TLS passes; the pool's tokens name 127.0.0.1.
        wrong = run.ready["issuer"].replace("127.0.0.1", "localhost")
        expect_online_failure(run, run.config(issuer=wrong),
                              f"issuer in the pool's openid-configuration is {run.ready['issuer']}, "
                              f"configured issuer is {wrong}")
    elif name == "issuer-other-pool":
        run.start(pool())
        wrong = run.ready["issuer"].replace(POOL_ID, "us-east-1_OtherPool")
        expect_online_failure(run, run.config(issuer=wrong), "issuer", "openid-configuration", "HTTP 404")
    elif name == "masked-by-error":
        # The service model says a pool with PreventUserExistenceErrors ENABLED refuses an unknown name as a
        # wrong sign-in; the stand-in masks with a challenge instead (its README), so the answer is injected:
        # the client counts as accepted, and the first factors are reported unchecked rather than guessed.
        run.start(pool())
        run.control({"ops": ["InitiateAuth"],
                     "error": {"name": "NotAuthorizedException", "message": "Incorrect username or password."}})
        code, out, _ = run.check_config(run.config(), online=True)
        check(code == 0, f"a pool hiding unknown names this way is no failure (exit 0), not {code}")
        expect_line(out, "ok", "USER_AUTH", "allowed")
        expect_line(out, "not checked:", "first factors", "Incorrect username or password")
        check(not lines_with(out, "FAIL"), "a FAIL line for a pool that hides unknown names")
        run.outbox_empty()
    elif name == "jwks-down":
        run.start(pool())
        run.control({"jwks": "down"})
        expect_online_failure(run, run.config(), "JWKS", run.ready["jwks_url"], "HTTP 500")
    elif name == "jwks-invalid":
        run.start(pool())
        # A JSON document that is no key set: the pool's openid-configuration.
        url = run.ready["issuer"] + "/.well-known/openid-configuration"
        expect_online_failure(run, run.config(jwks_url=url), "JWKS", url, "not a key set")


def main():
    args = parse_args()
    if os.geteuid() != 0:
        print("check_online.py needs root: the helper trusts only root-owned files; skipped")
        return 77
    run = Run(args)
    try:
        scenario(run, args.scenario)
    except Failed as e:
        print(f"FAILED: {e}")
        return 1
    finally:
        run.stop()
    print(f"PASSED: {args.scenario}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
