#!/usr/bin/python3
"""Prints the host side of doc/setup.md as one shell script, to run as written in a throwaway root.

    host_steps.py --doc doc/setup.md [--set NAME=VALUE ...] [--helper-conf-extra FILE] [--until TEXT]

The script is the guide's placeholders block (each value replaced by --set where given) followed by every block
marked <!-- host-step -->, in the guide's order, under `set -eu`. It expects the client secret in
./client-secret, as the guide does. --helper-conf-extra appends FILE's text (for example a second [pool]
section with the local stand-in's endpoint, issuer and ca_file) to helper.conf right after the block that
writes it and before that block's check-config. --until stops before the first block containing TEXT (for
example "test-login", which asks for a code at a terminal).

Used by the package job: the lead runs the printed script after `dpkg -i` in tests/package/install_remove.sh's
overlay root, against the stand-in.
"""

import argparse
import os
import re
import shlex
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_setup_guide as guide  # noqa: E402 - the same reader of the guide's blocks as the test


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--doc", required=True)
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--helper-conf-extra")
    ap.add_argument("--until")
    args = ap.parse_args()

    with open(args.doc, encoding="utf-8") as f:
        blocks = guide.fenced_blocks(f.read())
    env = guide.placeholders(blocks)
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep or name not in env:
            ap.error(f"--set {item}: not NAME=VALUE of a placeholder ({', '.join(env)})")
        env[name] = value
    extra = None
    if args.helper_conf_extra:
        with open(args.helper_conf_extra, encoding="utf-8") as f:
            extra = f.read()

    out = ["#!/bin/bash", "# The host steps of doc/setup.md, as printed by tests/guide/host_steps.py.", "set -eu"]
    out += [f"{name}={shlex.quote(value)}" for name, value in env.items()]
    steps = 0
    for lang, body, marker in blocks:
        if marker != "host-step":
            continue
        if lang != "sh":
            sys.exit(f"host_steps.py: a host-step block is ```{lang}, not ```sh")
        if args.until and args.until in body:
            break
        steps += 1
        out.append(f"\n# --- host step {steps}")
        if extra is not None and any(t.endswith("/helper.conf") for t, _, _ in guide.heredocs(body)):
            lines = body.splitlines()
            # After the heredoc's end marker: the extra text goes into the file before anything reads it.
            end = next(i for i, line in enumerate(lines) if re.fullmatch(r"EOF", line.strip()))
            lines[end + 1:end + 1] = ["cat >> /etc/pam_passwordless/helper.conf <<'PP_EXTRA'", extra.rstrip("\n"),
                                      "PP_EXTRA"]
            body = "\n".join(lines)
        out.append(body)
    if steps == 0:
        sys.exit("host_steps.py: no <!-- host-step --> block in the guide")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
