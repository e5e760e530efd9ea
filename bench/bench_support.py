"""What the benchmarks share: the stand-in's paths, files written atomically, waiting for a condition, the
helper's running logins, and the two-sample tests that compare two runs (standard library only)."""

import glob
import math
import os
import sys
import time

SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STANDIN = os.path.join(SOURCE, "tests", "cognito_standin", "cognito_standin.py")
SECRET = "s3cr3t-for-the-local-stand-in-only"
# The helper serves only local accounts: the benches give it theirs with nss_wrapper, so nothing in /etc changes.
NSS_WRAPPER = next(iter(sorted(glob.glob("/usr/lib/*/libnss_wrapper.so") + glob.glob("/usr/lib/libnss_wrapper.so"))),
                   "/usr/lib/libnss_wrapper.so")


def write(path, text, mode=0o644):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def wait_for(predicate, what, limit=30.0):
    """Polls `predicate` (from 1 ms, backing off to 50 ms) until it holds; exits naming `what` after `limit` s."""
    deadline = time.monotonic() + limit
    pause = 0.001
    while not predicate():
        if time.monotonic() > deadline:
            sys.exit(f"{os.path.basename(sys.argv[0])}: timed out waiting for {what}")
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def settle_store(store, user):
    """Waits, polling the clock, until a second has passed since the credential store's directory and `user`'s
    credential file last changed (their mtime and ctime): the helper keeps the store's listing and a file's parse
    only from then on (helper/credential_store.hpp), as on a machine where nobody enrolled in the last second."""
    last = 0
    for path in (store, os.path.join(store, user)):
        st = os.stat(path)
        last = max(last, st.st_mtime_ns, st.st_ctime_ns)
    wait_for(lambda: time.time_ns() > last + 1_100_000_000, "a second past the store's last change", 10)


def thread_names(pid):
    """The names of a process's threads (/proc/PID/task/*/comm)."""
    names = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/comm", encoding="ascii") as f:
                names.append(f.read().strip())
        except FileNotFoundError:
            pass  # ended between the listing and the read
    return names


def login_threads(pid):
    """The helper's threads running a login now (named pp-login; idle ones wait for the next login as pp-idle)."""
    return thread_names(pid).count("pp-login")


def mann_whitney(a, b):
    """Two-sided Mann-Whitney U test, normal approximation with tie and continuity correction. Returns (U, p)."""
    pooled = sorted([(v, 0) for v in a] + [(v, 1) for v in b])
    ranks = [0.0] * len(pooled)
    ties = 0.0
    i = 0
    while i < len(pooled):
        j = i
        while j + 1 < len(pooled) and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        t = j - i + 1
        ties += t ** 3 - t
        i = j + 1
    n1, n2 = len(a), len(b)
    r1 = sum(r for r, (_, g) in zip(ranks, pooled) if g == 0)
    u1 = r1 - n1 * (n1 + 1) / 2
    u = min(u1, n1 * n2 - u1)
    n = n1 + n2
    sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1))))
    if sigma == 0:
        return u, 1.0
    z = (abs(u1 - n1 * n2 / 2) - 0.5) / sigma
    return u, math.erfc(max(z, 0) / math.sqrt(2))


def kolmogorov_smirnov(a, b):
    """Two-sided two-sample Kolmogorov-Smirnov test: the largest distance D between the two empirical
    distribution functions, and its p from the asymptotic Kolmogorov distribution with Stephens' correction
    for small samples. Returns (D, p)."""
    xs, ys = sorted(a), sorted(b)
    n1, n2 = len(xs), len(ys)
    i = j = 0
    d = 0.0
    while i < n1 and j < n2:
        v = min(xs[i], ys[j])
        while i < n1 and xs[i] == v:
            i += 1
        while j < n2 and ys[j] == v:
            j += 1
        d = max(d, abs(i / n1 - j / n2))
    en = math.sqrt(n1 * n2 / (n1 + n2))
    lam = (en + 0.12 + 0.11 / en) * d
    if lam < 0.2:  # the series converges too slowly here, and p is 1 to six places
        return d, 1.0
    p = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))
    return d, min(max(p, 0.0), 1.0)
