"""What the end-to-end tests through real consumers (sshd, sudo, login/pamtester) share.

Each test script re-runs itself as PID 1 of a new mount and PID namespace (`enter_namespace`). Inside, the
`Sandbox` puts overlays on /etc and /var (and where asked on other system folders) whose writable layers lie in
the test's work folder under the build tree, and a folder of that work folder on /run. So the consumers read
PAM stacks, sudoers rules and users that exist only in the namespace, and whatever they write (wtmp, lastlog,
sudo's time stamps, pam-auth-update's stacks and debconf answers) lands in the work folder; the real /etc and
/var are never changed. When PID 1 exits the kernel ends every process left in the namespace, and the mounts go
with it.

Waits are readiness waits with a bound (a file, a socket, a port), never fixed sleeps.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
STANDIN = os.path.join(SOURCE, "tests", "cognito_standin", "cognito_standin.py")
POOL = os.path.join(SOURCE, "tests", "pam", "test_pool.json")
PYTHON = "/usr/bin/python3"

SKIP = 77
WAIT_LIMIT_S = 30
HELPER_SOCKET = "/run/pam_passwordless/helper.sock"  # the module's and the command line's default
INSIDE_MARK = "PP_E2E_IN_NAMESPACE"
CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class Failure(Exception):
    """The scenario did not end as it must; the message says how."""


def check(condition, message):
    if not condition:
        raise Failure(message)


def say(message):
    print(message, flush=True)


def wait_for(predicate, what, limit=WAIT_LIMIT_S):
    """Polls with a growing pause until `predicate` holds: a readiness wait with a bound."""
    deadline = time.monotonic() + limit
    pause = 0.002
    while not predicate():
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {limit} s waiting for {what}")
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def write(path, text, mode=0o644):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def fresh_dir(path, mode=0o755):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    os.chmod(path, mode)
    return path


def free_port():
    """A port the kernel has just handed out on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def enter_namespace(parse_args):
    """Returns the parsed arguments inside the namespace. Outside, re-runs this script there (or exits 77 when
    not root) and exits with its status. `parse_args` is called first, so usage errors surface outside."""
    args = parse_args()
    if os.geteuid() != 0:
        say(f"{os.path.basename(sys.argv[0])}: needs root (real sshd/sudo, mount namespaces, and a helper that "
            "trusts only root-owned files): skipped")
        sys.exit(SKIP)
    if os.environ.get(INSIDE_MARK) == "1":
        check(os.getpid() == 1, "expected to run as PID 1 of the test's PID namespace")
        return args
    for tool in ("unshare", "mount"):
        check(shutil.which(tool) is not None, f"{tool} is missing (package util-linux/mount)")
    env = dict(os.environ, **{INSIDE_MARK: "1"})
    env.pop("LD_PRELOAD", None)
    argv = ["unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--kill-child", "--mount-proc",
            PYTHON, "-B", os.path.abspath(sys.argv[0])] + sys.argv[1:]
    sys.stdout.flush()
    os.execvpe(argv[0], argv, env)


def run_main(body):
    """Runs `body()` and turns its outcome into the exit status: 0 as expected, 1 not."""
    try:
        body()
    except Failure as e:
        say(f"FAILED: {e}")
        return 1
    except Exception:  # noqa: BLE001 - any crash of the test itself is a failure with its trace
        traceback.print_exc()
        say("FAILED: the test crashed")
        return 1
    say("PASSED")
    return 0


class Sandbox:
    """The namespace's private view of the system, and every process the test starts in it."""

    def __init__(self, work):
        self.work = fresh_dir(os.path.abspath(work))
        self.procs = []  # (name, Popen)
        self.mounts = []
        self.users = {}

    # --- mounts ---------------------------------------------------------------------------------------------

    def _mount(self, argv, target):
        r = subprocess.run(["mount"] + argv + [target], capture_output=True, text=True, check=False)
        check(r.returncode == 0, f"mount {' '.join(argv)} {target}: {r.stderr.strip()}")
        self.mounts.append(target)

    def _check_outside(self, target):
        """The work folder must not lie under a folder the namespace covers: the mount would hide it."""
        inside = os.path.realpath(self.work) + "/"
        check(not inside.startswith(os.path.realpath(target).rstrip("/") + "/"),
              f"the work folder {self.work} lies under {target}, which this test covers with a mount of its own; "
              "build outside /etc, /var and /run")

    def overlay(self, target):
        """A writable layer over `target` whose changes land in the work folder."""
        self._check_outside(target)
        name = target.strip("/").replace("/", "_") or "root"
        upper = fresh_dir(os.path.join(self.work, "overlay", name, "upper"))
        scratch = fresh_dir(os.path.join(self.work, "overlay", name, "work"))
        self._mount(["-t", "overlay", "overlay", "-o", f"lowerdir={target},upperdir={upper},workdir={scratch}"],
                    target)

    def bind(self, source, target):
        self._check_outside(target)
        self._mount(["--bind", source], target)

    def standard(self):
        """/etc and /var become writable layers, /run a folder of the work folder. Overlays first: an overlay
        mounted later would hide a bind mount beneath it."""
        self.overlay("/etc")
        self.overlay("/var")
        run = fresh_dir(os.path.join(self.work, "run"))
        self.bind(run, "/run")
        # The helper's socket folder, sshd's privilege-separation folder, and /var/lock's target.
        for d in ("/run/pam_passwordless", "/run/sshd", "/run/lock"):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)

    # --- users that exist only in the namespace -------------------------------------------------------------

    def add_user(self, name, password_hash="*", shell="/bin/sh"):
        return self.add_users([name], password_hash, shell)[0]

    def add_users(self, names, password_hash="*", shell="/bin/sh"):
        """Local accounts `names`, each with a home of its own; returns their uids."""
        import pwd
        used = {p.pw_uid for p in pwd.getpwall()}
        uids = []
        uid = 61000
        for name in names:
            while uid in used:
                uid += 1
            used.add(uid)
            uids.append(self._add_account(name, uid, password_hash, shell))
        return uids

    def _add_account(self, name, uid, password_hash, shell):
        home = fresh_dir(os.path.join(self.work, "home", name), 0o755)
        os.chown(home, uid, uid)
        with open("/etc/passwd", "a", encoding="utf-8") as f:
            f.write(f"{name}:x:{uid}:{uid}:e2e test user:{home}:{shell}\n")
        with open("/etc/group", "a", encoding="utf-8") as f:
            f.write(f"{name}:x:{uid}:\n")
        with open("/etc/shadow", "a", encoding="utf-8") as f:
            f.write(f"{name}:{password_hash}:19000:0:99999:7:::\n")
        self.users[name] = (uid, home)
        return uid

    @staticmethod
    def password_hash(password):
        r = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=password + "\n", capture_output=True,
                           text=True, check=True)
        return r.stdout.strip()

    # --- processes ------------------------------------------------------------------------------------------

    def start(self, name, argv, log, env=None):
        out = open(log, "ab")  # noqa: SIM115 - kept open for the child's lifetime, closed with the test
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env)
        out.close()
        self.procs.append((name, p))
        return p

    def stop_all(self):
        for _, p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for _, p in reversed(self.procs):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        # As PID 1 we also adopted whatever the consumers left behind (sshd's session children): reap them.
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break


class StandIn:
    """The local user-pool stand-in on 127.0.0.1 (tests/cognito_standin)."""

    def __init__(self, sandbox, pool_overrides=None, extra_users=()):
        """pool_overrides: top-level settings of the pool file to change (e.g. max_code_attempts); extra_users:
        pool users to add to the test pool's (dicts as in tests/pam/test_pool.json, see pool_user)."""
        self.dir = fresh_dir(os.path.join(sandbox.work, "standin"))
        pool = POOL
        if pool_overrides or extra_users:
            with open(POOL, encoding="utf-8") as f:
                settings = json.load(f)
            settings.update(pool_overrides or {})
            settings["users"] = settings["users"] + list(extra_users)
            pool = os.path.join(self.dir, "pool.json")
            write(pool, json.dumps(settings))
        self.proc = sandbox.start("stand-in", [PYTHON, STANDIN, "serve", "--state-dir", self.dir, "--pool", pool,
                                               "--host", "127.0.0.1", "--port", "0"],
                                  os.path.join(self.dir, "standin.log"))
        ready = os.path.join(self.dir, "ready.json")

        def is_ready():
            check(self.proc.poll() is None, "the stand-in exited:\n" + read(os.path.join(self.dir, "standin.log")))
            try:
                with open(ready, encoding="utf-8") as f:
                    return json.load(f).get("pid") == self.proc.pid
            except (FileNotFoundError, json.JSONDecodeError):
                return False

        wait_for(is_ready, "the user-pool stand-in's ready.json")
        with open(ready, encoding="utf-8") as f:
            self.info = json.load(f)

    @staticmethod
    def pool_user(username, number, email=None, phone=None):
        """A confirmed pool user with a verified email and/or phone; `number` makes its sub unique."""
        user = {"username": username, "sub": f"5f0c1e9a-9999-4a8e-9c55-{number:012d}", "enabled": True,
                "confirmed": True}
        if email:
            user.update(email=email, email_verified=True)
        if phone:
            user.update(phone_number=phone, phone_number_verified=True)
        return user

    def pool_section(self, helper_dir):
        write(os.path.join(helper_dir, "client-secret"), "s3cr3t-for-the-local-stand-in-only\n", 0o600)
        return "\n".join([
            "[pool]",
            "pool_id = us-east-1_TestPool",
            "client_id = testclient123",
            f"client_secret_file = {helper_dir}/client-secret",
            f"endpoint = {self.info['url']}",
            f"issuer = {self.info['issuer']}",
            f"ca_file = {self.info['ca_file']}",
            ""])

    def control(self, settings):
        write(os.path.join(self.dir, "control.json"), json.dumps(settings))

    def outbox(self):
        entries = []
        for line in read(os.path.join(self.dir, "outbox.jsonl")).splitlines():
            if line.strip():
                entries.append(json.loads(line))
        return entries

    def latest_code(self, destination):
        codes = [e["code"] for e in self.outbox() if e["destination"] == destination]
        return codes[-1] if codes else None

    def log(self):
        return read(os.path.join(self.dir, "standin.log"))


# A [pool] for helpers that serve only security keys: never contacted.
UNUSED_POOL = ("[pool]\npool_id = us-east-1_TestPool\nclient_id = unused\nendpoint = https://127.0.0.1:1/\n"
               "issuer = https://127.0.0.1:1/us-east-1_TestPool\n")


class Helper:
    """The real helper in --foreground mode, listening where the module looks by default."""

    def __init__(self, sandbox, binary, config, socket_path=HELPER_SOCKET):
        self.dir = fresh_dir(os.path.join(sandbox.work, "helper"))
        self.socket = socket_path
        self.config_path = os.path.join(self.dir, "helper.conf")
        text = config(self.dir) if callable(config) else config
        if "[limits]" not in text:
            text += f"\n[limits]\nstate_file = {self.dir}/limits\n"
        write(self.config_path, text)
        if os.path.exists(socket_path):
            os.unlink(socket_path)
        self.proc = sandbox.start("helper", [binary, "--foreground", "--socket", socket_path,
                                             "--config", self.config_path],
                                  os.path.join(self.dir, "helper.log"))
        wait_for(lambda: os.path.exists(socket_path) or self.proc.poll() is not None, "the helper's socket")
        check(os.path.exists(socket_path), "the helper did not start:\n" + self.log())

    def log(self):
        return read(os.path.join(self.dir, "helper.log"))


def show(title, text):
    say(f"----- {title} -----")
    say(text.rstrip() if text.strip() else "(empty)")
