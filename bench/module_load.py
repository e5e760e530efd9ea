#!/usr/bin/python3
"""What loading and unloading a PAM module costs, the way libpam does it for every PAM handle.

libpam opens each module of a service's stack with dlopen at the handle's first call and closes it at pam_end,
so a long-lived process (a screen locker, a login daemon, bench/key_login_vs_pam_u2f's loop) pays a module's
dlopen + dlclose, with every library it pulls in that the process has not loaded already, on every login.
This measures that alone: ROUNDS x dlopen(RTLD_NOW) + dlclose of each module, taking turns (the first of each
round alternates), in a process that has loaded what the key benchmark's loop has (libpam, libstdc++,
libfido2). Prints median, p10 and p90 per module, each module's median over the first's, and a two-sided
Mann-Whitney U test against the first.

    ./bench/module_load.py [--rounds 300] MODULE.so [MODULE.so ...]
    # e.g. this tree's module, main's, and Debian's pam-u2f:
    ./bench/module_load.py build/pam_passwordless/pam_passwordless.so \\
        /work/main/build/pam_passwordless/pam_passwordless.so /lib/x86_64-linux-gnu/security/pam_u2f.so
"""
import argparse
import ctypes
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_support import mann_whitney  # noqa: E402

# Already in the key benchmark's loop before any module is opened: libpam (it is the PAM application), libstdc++
# (the loop is C++) and libfido2 (the virtual key, preloaded, needs it).
RESIDENT = ("libpam.so.0", "libstdc++.so.6", "libfido2.so.1")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("modules", nargs="+")
    args = ap.parse_args()
    for lib in RESIDENT:
        ctypes.CDLL(lib, mode=os.RTLD_NOW | os.RTLD_GLOBAL)
    libdl = ctypes.CDLL(None)
    libdl.dlopen.restype = ctypes.c_void_p
    libdl.dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
    libdl.dlclose.argtypes = [ctypes.c_void_p]
    libdl.dlerror.restype = ctypes.c_char_p
    paths = [os.path.abspath(m).encode() for m in args.modules]
    samples = {p: [] for p in paths}
    for i in range(args.rounds + 10):
        order = paths[i % len(paths):] + paths[:i % len(paths)]
        for p in order:
            start = time.perf_counter_ns()
            handle = libdl.dlopen(p, os.RTLD_NOW | os.RTLD_LOCAL)
            if not handle:
                sys.exit(f"{p.decode()}: {libdl.dlerror().decode()}")
            libdl.dlclose(handle)
            if i >= 10:  # the first rounds warm the page cache
                samples[p].append((time.perf_counter_ns() - start) / 1e6)
    first = samples[paths[0]]
    print(f"{'median ms':>10} {'p10 ms':>7} {'p90 ms':>7} {'ratio':>6} {'MWU p':>9}  module")
    for p in paths:
        xs = sorted(samples[p])
        _, pv = mann_whitney(xs, first)
        print(f"{statistics.median(xs):>10.3f} {xs[len(xs) // 10]:>7.3f} {xs[9 * len(xs) // 10]:>7.3f} "
              f"{statistics.median(xs) / statistics.median(first):>6.2f} {pv:>9.3g}  {p.decode()}")


if __name__ == "__main__":
    main()
