#!/usr/bin/python3
"""The module under valgrind: a real login through pamtester (tests/pamtester/pamtester_login.py), with
pamtester, libpam and pam_passwordless.so run by memcheck, for each scenario:

    valgrind_login.py --build-dir BUILD --work-dir DIR --scenario NAME [--suppressions FILE]

  happy, wrong-code, service-down   the scenarios of pamtester_login.py, run by it with --wrap-command
  helper-not-running                the helper is stopped before the login: it must fail, saying why
  bad-argument                      the service file gives the module an unknown argument: PAM_SERVICE_ERR

The scenario must end as it must, and memcheck must report no error at all: no invalid read or write, no
use of uninitialised memory, no definitely or indirectly lost block (--errors-for-leak-kinds), apart from
what the suppression file lists (third-party noise only, each entry with its reason). Exit status 0 when
both hold, 77 when not root, 1 otherwise; the valgrind log is printed on failure.
"""

import argparse
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(SOURCE, "tests", "pamtester"))
import pamtester_login  # noqa: E402  (the path above is where it lives)

PAMTESTER_SCENARIOS = ("happy", "wrong-code", "service-down")
OWN_SCENARIOS = ("helper-not-running", "bad-argument")


def valgrind_command(log_pattern, suppressions):
    # --trace-children: the wrapped command is "env LD_PRELOAD=pam_wrapper pamtester" (see
    # pamtester_login.wrapped), and it is pamtester that must be checked.
    cmd = ["valgrind", "--trace-children=yes", "--leak-check=full", "--show-leak-kinds=definite,indirect",
           "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99", "--track-origins=yes",
           "--num-callers=40", "--gen-suppressions=all", f"--log-file={log_pattern}"]
    if suppressions:
        cmd.append(f"--suppressions={suppressions}")
    return cmd


def run_pamtester_scenario(args, work, wrap):
    run = subprocess.run(
        ["/usr/bin/python3", os.path.join(SOURCE, "tests", "pamtester", "pamtester_login.py"),
         "--build-dir", args.build_dir, "--work-dir", os.path.join(work, "login"), "--scenario", args.scenario,
         "--wrap-command", shlex.join(wrap)],
        capture_output=True, text=True)
    print(run.stdout)
    if run.returncode != 0:
        print(run.stderr, file=sys.stderr)
    return run.returncode == 0


def run_own_scenario(args, work, wrap):
    services = pamtester_login.Services(os.path.abspath(args.build_dir), os.path.join(work, "login"))
    try:
        services.start()
        if args.scenario == "helper-not-running":
            helper = services.procs[-1]
            helper.terminate()
            helper.wait()
            expected = "Passwordless sign-in is unavailable right now; try again later."
        else:
            path = os.path.join(services.service_dir, pamtester_login.SERVICE)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            pamtester_login.write(path, text.replace(f"socket={services.socket}",
                                                     f"socket={services.socket} no_such_option", 1))
            expected = "bad module arguments"
        argv, env = pamtester_login.wrapped(*services.pamtester_command(), shlex.join(wrap))
        status, screen = pamtester_login.run_on_pty(argv, env, lambda _: None)
        print(screen)
        ok = status != 0 and expected in screen and "successfully authenticated" not in screen
        if args.scenario == "bad-argument":
            ok = ok and "outcome=" not in services.helper_log()
        print(f"scenario {args.scenario}: " + ("as expected" if ok else "NOT as expected") +
              f" (pamtester exit status {status})")
        return ok
    finally:
        services.stop()


def remove_pam_wrapper_dir(pid):
    """pam_wrapper (1.1.4) leaves its /tmp/pam.? directory behind when its process ran under valgrind; the
    directory names the process in its file "pid". Removes the one of the pamtester that has ended."""
    if os.path.exists(f"/proc/{pid}"):
        return
    for path in glob.glob("/tmp/pam.?"):
        try:
            with open(os.path.join(path, "pid"), encoding="ascii") as f:
                owner = f.read().strip()
        except OSError:
            continue
        if owner == str(pid):
            shutil.rmtree(path, ignore_errors=True)


def check_valgrind_logs(pattern):
    """True when the log of the process that ran pamtester shows no error."""
    logs = sorted(glob.glob(pattern))
    pamtester_logs = []
    for path in logs:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        if re.search(r"== Command: \S*pamtester ", text):
            pamtester_logs.append((path, text))
    if len(pamtester_logs) != 1:
        print(f"valgrind: expected one log of pamtester, found {len(pamtester_logs)} in {logs}", file=sys.stderr)
        return False
    path, text = pamtester_logs[0]
    remove_pam_wrapper_dir(int(re.search(r"valgrind\.(\d+)\.log$", path).group(1)))
    summary = re.search(r"ERROR SUMMARY: (\d+) errors", text)
    leaks_checked = "LEAK SUMMARY" in text or "All heap blocks were freed" in text
    ok = summary is not None and summary.group(1) == "0" and leaks_checked
    if not ok:
        print(f"valgrind found errors ({path}):\n{text}", file=sys.stderr)
    else:
        print(f"valgrind: {summary.group(0)} ({os.path.basename(path)})")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--scenario", choices=PAMTESTER_SCENARIOS + OWN_SCENARIOS, required=True)
    ap.add_argument("--suppressions", default=os.path.join(HERE, "third_party.supp"))
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("valgrind_login: needs root (the helper trusts only root-owned files and sockets)", file=sys.stderr)
        return 77
    missing = [p for p in ("valgrind", "pamtester") if shutil.which(p) is None]
    if missing:
        print(f"valgrind_login: {' and '.join(missing)} not installed", file=sys.stderr)
        return 77
    work = pamtester_login.fresh_dir(os.path.abspath(args.work_dir))
    pattern = os.path.join(work, "valgrind.%p.log")
    wrap = valgrind_command(pattern, args.suppressions)
    scenario_ok = (run_pamtester_scenario if args.scenario in PAMTESTER_SCENARIOS else run_own_scenario)(
        args, work, wrap)
    valgrind_ok = check_valgrind_logs(pattern.replace("%p", "*"))
    return 0 if scenario_ok and valgrind_ok else 1


if __name__ == "__main__":
    sys.exit(main())
