"""A headless Chromium driven through the DevTools protocol over --remote-debugging-pipe: commands go in on the
browser's fd 3 and answers and events come out of its fd 4, each a JSON message ended by a NUL byte. Standard
library only. One browser per test file; each case opens a fresh, isolated browser context (its own cookies and
storage) with one page in it.

    with Browser(profile_dir, trusted_spki=[...]) as browser:
        page = browser.new_page()
        page.navigate(url)
        page.wait_for("document.readyState === 'complete'")

TLS: the stand-in's certificate is trusted through --ignore-certificate-errors-spki-list with the SHA-256 hash of
that certificate's public key. Only that key is exempted from chain checks (Chromium requires an explicit
--user-data-dir for the flag to apply); every other site is still checked normally, and no system or NSS trust
store is touched.
"""

import base64
import ctypes
import fcntl
import hashlib
import json
import os
import queue
import shutil
import signal
import subprocess
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import serialization

# The binary itself: Debian's /usr/bin/chromium is a shell wrapper that only adds desktop defaults.
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")


class CdpError(RuntimeError):
    pass


def spki_hash(cert_pem_path: str) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)) of a PEM certificate: the form --ignore-certificate-errors-spki-list
    takes."""
    with open(cert_pem_path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    der = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode("ascii")


def chromium_path() -> str:
    for path in CHROMIUM_CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    found = shutil.which("chromium")
    if found is None:
        raise CdpError("chromium is not installed (scripts/install-deps.sh installs it)")
    return found


def _high_pipe():
    """A pipe whose ends are above 4 (close-on-exec), so that dup2 onto 3 and 4 in the child never hits an end
    that is already there (dup2 onto itself would keep close-on-exec) or another end still needed."""
    ends = []
    for fd in os.pipe():
        ends.append(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 5))
        os.close(fd)
    return tuple(ends)


class Browser:
    def __init__(self, profile_dir: str, trusted_spki=(), timeout: float = 20, log_path: str = None):
        self.timeout = timeout
        shutil.rmtree(profile_dir, ignore_errors=True)
        os.makedirs(profile_dir)
        # Browser reads commands from fd 3 and writes messages to fd 4.
        to_browser_r, self._to_browser = _high_pipe()
        self._from_browser, from_browser_w = _high_pipe()
        self._log = open(log_path or os.path.join(profile_dir, "chromium.log"), "ab")
        args = [chromium_path(), "--headless=new", "--remote-debugging-pipe", f"--user-data-dir={profile_dir}",
                "--no-first-run", "--no-default-browser-check", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--password-store=basic", "--use-mock-keychain", "--mute-audio",
                # No sandbox: Chromium refuses it as root (CI), and a package build's chroot as another user
                # may lack the user namespaces it needs; the pages are the test's own, on loopback.
                "--no-sandbox",
                *([f"--ignore-certificate-errors-spki-list={','.join(trusted_spki)}"] if trusted_spki else []),
                "about:blank"]

        def child_fds():
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)
            # Killed with the test (a CTest timeout kills only the test's own process group); the renderers
            # and zygotes leave when their browser's pipes close.
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG

        started = time.monotonic()
        # A process group of its own, so that close() reaps the renderers and helpers too. close_fds would close
        # the fds 3 and 4 made in child_fds; Python opens every other fd close-on-exec anyway.
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                                        close_fds=False, preexec_fn=child_fds, start_new_session=True)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._id_lock = threading.Lock()
        self._pending = {}
        self._events = queue.Queue()
        self._write_lock = threading.Lock()
        self._reader = threading.Thread(target=self._read_loop, name="cdp-reader", daemon=True)
        self._reader.start()
        self.version = self.call("Browser.getVersion")
        self.start_seconds = time.monotonic() - started

    # ---- transport ---------------------------------------------------------------------------------------

    def _read_loop(self):
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_browser, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            buffer += chunk
            while b"\0" in buffer:
                message, buffer = buffer.split(b"\0", 1)
                value = json.loads(message)
                if "id" in value:
                    waiter = self._pending.pop(value["id"], None)
                    if waiter is not None:
                        waiter.put(value)
                else:
                    self._events.put(value)
        for waiter in list(self._pending.values()):
            waiter.put({"error": {"message": "browser closed the pipe"}})

    def call(self, method: str, params: dict = None, session_id: str = None, timeout: float = None):
        with self._id_lock:
            self._next_id += 1
            message_id = self._next_id
        waiter = queue.Queue(maxsize=1)
        self._pending[message_id] = waiter
        message = {"id": message_id, "method": method, "params": params or {}}
        if session_id is not None:
            message["sessionId"] = session_id
        with self._write_lock:
            os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        try:
            answer = waiter.get(timeout=timeout or self.timeout)
        except queue.Empty:
            raise CdpError(f"{method}: no answer within {timeout or self.timeout} s") from None
        if "error" in answer:
            raise CdpError(f"{method}: {answer['error'].get('message')} {answer['error'].get('data', '')}")
        return answer.get("result", {})

    # ---- pages -------------------------------------------------------------------------------------------

    def new_page(self) -> "Page":
        """A page in a fresh browser context (no cookies or storage shared with any other page)."""
        context = self.call("Target.createBrowserContext", {"disposeOnDetach": True})["browserContextId"]
        target = self.call("Target.createTarget", {"url": "about:blank", "browserContextId": context})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, context, target, session)
        page.call("Page.enable")
        page.call("Runtime.enable")
        return page

    def close(self):
        if self.process.poll() is None:
            try:
                self.call("Browser.close", timeout=5)
            except CdpError:
                pass
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        # Whatever is left of the group (renderers, zygotes, crashpad) goes too.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Page:
    def __init__(self, browser: Browser, context_id: str, target_id: str, session_id: str):
        self.browser = browser
        self.context_id = context_id
        self.target_id = target_id
        self.session_id = session_id

    def call(self, method: str, params: dict = None, timeout: float = None):
        return self.browser.call(method, params, self.session_id, timeout)

    def navigate(self, url: str):
        result = self.call("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise CdpError(f"navigation to {url} failed: {result['errorText']}")

    def evaluate(self, expression: str, await_promise: bool = False):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": await_promise})
        if "exceptionDetails" in result:
            raise CdpError(f"{expression!r} threw: {result['exceptionDetails'].get('text')} "
                           f"{result['exceptionDetails'].get('exception', {}).get('description', '')}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = None, what: str = None):
        """Polls a JavaScript expression until it is truthy (its value is returned); the deadline bounds it."""
        deadline = time.monotonic() + (timeout or self.browser.timeout)
        last_error = None
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
                if value:
                    return value
            except CdpError as e:  # the page is navigating: its context is gone for a moment
                last_error = e
            time.sleep(0.05)  # polling interval, bounded by the deadline above
        try:
            where = self.evaluate("location.href + ' :: ' + document.body.innerText.slice(0, 400)")
        except CdpError:
            where = "?"
        raise CdpError(f"timed out waiting for {what or expression!r} ({last_error}); page: {where}")

    def url(self) -> str:
        return self.evaluate("location.href")

    def screenshot(self, path: str, width: int = 900):
        """A PNG of the whole page at `width` CSS pixels (its height: the document's at that width), written to
        `path`."""
        def metrics(height):
            self.call("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                             "deviceScaleFactor": 1, "mobile": False})
        metrics(100)  # a short viewport, so that scrollHeight is the content's height
        try:
            height = int(self.evaluate("Math.ceil(document.documentElement.scrollHeight)") or 600)
            metrics(max(100, min(height, 4000)))
            data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        finally:
            self.call("Emulation.clearDeviceMetricsOverride")
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def add_virtual_authenticator(self) -> str:
        """A CTAP2 platform authenticator with resident keys and user verification that always consents."""
        self.call("WebAuthn.enable", {"enableUI": False})
        return self.call("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
            "isUserVerified": True, "automaticPresenceSimulation": True}})["authenticatorId"]

    def add_credential(self, authenticator_id: str, credential_id: bytes, rp_id: str, private_key_pkcs8: bytes,
                       user_handle: bytes, sign_count: int = 0):
        self.call("WebAuthn.addCredential", {"authenticatorId": authenticator_id, "credential": {
            "credentialId": base64.b64encode(credential_id).decode(), "isResidentCredential": True,
            "rpId": rp_id, "privateKey": base64.b64encode(private_key_pkcs8).decode(),
            "userHandle": base64.b64encode(user_handle).decode(), "signCount": sign_count}})

    def credentials(self, authenticator_id: str) -> list:
        return self.call("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]

    def close(self):
        try:
            self.browser.call("Target.disposeBrowserContext", {"browserContextId": self.context_id})
        except CdpError:
            pass
