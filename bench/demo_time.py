#!/usr/bin/python3
"""How long the README's first command takes a newcomer.

    sudo bench/demo_time.py [--repo REPO] [--build-dir BUILD]

Clones REPO (default: this source tree's repository, its HEAD) into a fresh directory under BUILD (default
./build), and runs ./scripts/demo.sh there without a terminal (the answers are typed automatically) and without
the compiler cache (CCACHE_DISABLE=1), with the packages already installed (`install-deps.sh demo` is run first,
outside the timing). Prints the demo's output as the newcomer sees it, then the wall time, the CPU time of
everything the demo ran (compiler included), the number of cores and the load average before and after: on a
machine shared with other work, CPU time / cores is the wall time the demo would take on the same cores idle.
"""

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", default=TOP)
    ap.add_argument("--build-dir", default=os.path.join(TOP, "build"))
    args = ap.parse_args()
    work = os.path.join(os.path.abspath(args.build_dir), "demo-time")
    clone = os.path.join(work, "clone")
    shutil.rmtree(clone, ignore_errors=True)
    os.makedirs(work, exist_ok=True)
    subprocess.run(["git", "clone", "-q", args.repo, clone], check=True)
    subprocess.run([os.path.join(clone, "scripts", "install-deps.sh"), "demo"], check=True)
    env = dict(os.environ, CCACHE_DISABLE="1")
    load_before = os.getloadavg()
    start = time.monotonic()
    r = subprocess.run([os.path.join(clone, "scripts", "demo.sh")], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, check=False)
    wall = time.monotonic() - start
    load_after = os.getloadavg()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    print(r.stdout, end="")
    commit = subprocess.run(["git", "-C", clone, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    cores = os.cpu_count()
    print(f"demo from a fresh clone of {commit}: exit {r.returncode}, {wall:.1f} s wall, {cpu:.1f} s CPU "
          f"({cpu / cores:.1f} s on {cores} idle cores), {len(r.stdout.splitlines())} lines of output; "
          f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f}")
    return r.returncode


if __name__ == "__main__":
    sys.exit(main())
