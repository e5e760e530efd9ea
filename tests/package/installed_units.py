"""The installed systemd units, started as systemd would start them, where there is no systemd (the package
tests' throwaway mount namespace, or an autopkgtest testbed that stopped the units).

- `helper_exec_start()`: the helper's command line as pam-passwordless-helper.service runs it (with its
  `--pool-socket`), in a network namespace of its own with only a loopback device (PrivateNetwork=yes), so
  the tests run the helper with the unit's own arguments and without the network;
- `start_worker(sandbox, work)`: what pam-passwordless-pool.socket and .service do together: root binds the
  socket the .socket unit names, with its owner and mode, and the .service's ExecStart runs with that socket as
  descriptor 3 (LISTEN_FDS=1, LISTEN_PID its own pid), as a uid that is in no passwd file (DynamicUser=yes), with
  no supplementary groups and no capabilities.

The tests then log in through the installed helper, which reaches the pool only through that worker.
"""

import os
import pwd
import shlex
import shutil
import socket
import stat
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import e2e_support as e2e  # noqa: E402
from e2e_support import check, say  # noqa: E402

UNIT_DIR = "/lib/systemd/system"
HELPER_SERVICE = os.path.join(UNIT_DIR, "pam-passwordless-helper.service")
POOL_SOCKET_UNIT = os.path.join(UNIT_DIR, "pam-passwordless-pool.socket")
POOL_SERVICE = os.path.join(UNIT_DIR, "pam-passwordless-pool.service")
WORKER = "/usr/libexec/pam-passwordless/pam-passwordless-pool"
# systemd's range for DynamicUser= (61184-65519).
DYNAMIC_UIDS = range(61184, 65520)

# Runs as the worker's uid and becomes the worker (exec keeps the pid): the listening socket moves to
# descriptor 3 and LISTEN_PID names this process, as systemd sets them between its fork and exec.
LAUNCH = """
import os, sys
fd = int(sys.argv[1])
if fd != 3:
    os.dup2(fd, 3)
    os.close(fd)
os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(sys.argv[2], sys.argv[2:])
"""


def unit_values(path, key):
    """Every value of `key` in the unit file at `path` (one per line that sets it)."""
    values = []
    for line in e2e.read(path).splitlines():
        line = line.strip()
        if line.startswith(key + "="):
            values.append(line.split("=", 1)[1].strip())
    return values


def unit_value(path, key):
    values = unit_values(path, key)
    check(len(values) == 1, f"{path} sets {key}= {len(values)} times, expected once")
    return values[0]


def helper_exec_start():
    """The helper's argv as its unit starts it, in a network namespace of its own as PrivateNetwork=yes puts it
    (unshare without --fork execs the helper in the same process, so systemd's LISTEN_PID still names it); the
    helper must name the worker's socket."""
    check(unit_value(HELPER_SERVICE, "PrivateNetwork") == "yes", f"{HELPER_SERVICE} must have PrivateNetwork=yes")
    check(unit_value(HELPER_SERVICE, "RestrictAddressFamilies") == "AF_UNIX",
          f"{HELPER_SERVICE} must allow no socket but AF_UNIX")
    argv = shlex.split(unit_value(HELPER_SERVICE, "ExecStart"))
    check("--pool-socket" in argv, f"{HELPER_SERVICE} does not start the helper with --pool-socket: {argv}")
    pool_socket = argv[argv.index("--pool-socket") + 1]
    listen = unit_value(POOL_SOCKET_UNIT, "ListenStream")
    check(pool_socket == listen, f"the helper's --pool-socket {pool_socket} is not where the worker's socket unit "
                                 f"listens ({listen})")
    return helper_sandbox() + argv


def helper_sandbox():
    """What runs a command of the helper's unit (ExecStartPre=, ExecStart=) in a network namespace of its own."""
    unshare = shutil.which("unshare")
    check(unshare is not None, "unshare is missing (package util-linux)")
    return [unshare, "--net", "--"]


def free_dynamic_uid():
    used = {p.pw_uid for p in pwd.getpwall()}
    for uid in DYNAMIC_UIDS:
        if uid not in used:
            return uid
    raise e2e.Failure("no free uid in systemd's DynamicUser= range")


class Worker:
    """The installed network worker, started on its socket as its units say."""

    def __init__(self, sandbox, work):
        argv = shlex.split(unit_value(POOL_SERVICE, "ExecStart"))
        check(argv == [WORKER], f"{POOL_SERVICE} runs {argv}, expected {WORKER} with no arguments (LISTEN_FDS)")
        check(unit_value(POOL_SERVICE, "DynamicUser") == "yes", f"{POOL_SERVICE} must run as a DynamicUser")
        check(unit_values(POOL_SERVICE, "CapabilityBoundingSet") == [""], f"{POOL_SERVICE} must drop every capability")
        self.path = unit_value(POOL_SOCKET_UNIT, "ListenStream")
        mode = int(unit_value(POOL_SOCKET_UNIT, "SocketMode"), 8)
        check(mode == 0o600, f"{POOL_SOCKET_UNIT}: SocketMode={mode:o}, expected 600 (only root connects)")
        check(unit_value(POOL_SOCKET_UNIT, "SocketUser") == "root", f"{POOL_SOCKET_UNIT}: the socket must be root's")

        os.makedirs(os.path.dirname(self.path), mode=0o755, exist_ok=True)
        if os.path.lexists(self.path):
            os.unlink(self.path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.path)
        os.chown(self.path, 0, 0)
        os.chmod(self.path, mode)
        listener.listen(128)
        self.uid = free_dynamic_uid()
        self.log_path = os.path.join(work, "worker.log")
        out = open(self.log_path, "ab")  # noqa: SIM115 - the child's stdout and stderr; closed below
        try:
            self.proc = subprocess.Popen(
                [e2e.PYTHON, "-c", LAUNCH, str(listener.fileno()), *argv], stdin=subprocess.DEVNULL, stdout=out,
                stderr=out, pass_fds=(listener.fileno(),), user=self.uid, group=self.uid, extra_groups=[],
                env={"LISTEN_FDS": "1", "LISTEN_FDNAMES": "pam-passwordless-pool.socket"})
        finally:
            out.close()
            listener.close()  # the worker holds it now, as systemd would for the .socket unit
        sandbox.procs.append(("network worker", self.proc))
        e2e.wait_for(lambda: self.running_worker() or self.proc.poll() is not None, "the worker's exec")
        check(self.proc.poll() is None, "the installed worker exited at start:\n" + e2e.read(self.log_path))
        st = os.stat(self.path)
        check(stat.S_ISSOCK(st.st_mode) and st.st_uid == 0 and stat.S_IMODE(st.st_mode) == mode,
              f"{self.path} is not root's socket with mode {mode:o}")
        say(f"ok: the installed worker serves {self.path} (mode {mode:o}, root's) as uid {self.uid}, a uid in no "
            "passwd file, as DynamicUser=yes runs it")

    def running_worker(self):
        """The launcher has become the worker: its program is the installed one, under the worker's uid."""
        try:
            exe = os.readlink(f"/proc/{self.proc.pid}/exe")
            with open(f"/proc/{self.proc.pid}/status", encoding="utf-8") as f:
                uids = [line.split()[1:] for line in f if line.startswith("Uid:")][0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return False
        return exe == WORKER and uids == [str(self.uid)] * 4

    def check_running(self):
        check(self.proc.poll() is None and self.running_worker(),
              "the worker is no longer running as its unprivileged uid:\n" + e2e.read(self.log_path))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
