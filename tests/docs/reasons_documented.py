#!/usr/bin/python3
"""Every outcome and reason the helper can write in its audit line is in the man page.

    reasons_documented.py SOURCE_DIR

Reads every way a login or request ends in helper/**/*.cpp (a brace list that starts with an Outcome: a Finish,
or the service failures' and the run loop's), takes its outcome and the literal text its reason starts with,
and checks that man/pam-passwordless-helper.8's table of outcomes and reasons has a row with that reason
and that outcome. Also: every outcome of protocol/wire.cpp's outcome_name() is in the table. Exit 1 with
the missing ones listed; prints what it checked otherwise.
"""
import re
import sys
from pathlib import Path

OUTCOME = re.compile(r"(?:wire::)?Outcome::(\w+)")
START = re.compile(r"\{\s*(?=[^{};]*?(?:wire::)?Outcome::\w+)")


def split_top_level(text):
    """Splits a brace list's inside at its top-level commas (ignoring those in strings and brackets)."""
    parts, depth, current, i = [], 0, "", 0
    while i < len(text):
        c = text[i]
        if c == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            current += text[i : j + 1]
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if c == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += c
        i += 1
    parts.append(current.strip())
    return parts


def brace_body(text, start, open_="{", close="}"):
    """The text inside the braces (or other brackets) opening at text[start]."""
    depth, i = 0, start
    while True:
        c = text[i]
        if c == '"':
            i += 1
            while text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return text[start + 1 : i]
        i += 1


def literal_prefix(expression):
    """The string literals an expression starts with, joined; None when it starts with anything else."""
    expression = re.sub(r"^std::string\(\s*(\"(?:[^\"\\]|\\.)*\")\s*\)", r"\1", expression.strip())
    out, rest, found = "", expression, False
    while True:
        m = re.match(r'\s*"((?:[^"\\]|\\.)*)"', rest)
        if not m:
            break
        out += m.group(1)
        rest = rest[m.end() :]
        found = True
    return out if found else None


LITERAL = r'"((?:[^"\\]|\\.)*)"'
# Reasons made away from the brace list that ends the login: (pattern, outcomes; None for any failure).
ELSEWHERE = [
    (re.compile(r"too_many_wrong_codes\(\s*" + LITERAL), ["MaxTries"]),
    (re.compile(r"rec_\.reason\s*=\s*" + LITERAL), ["Success"]),
    (re.compile(r"\bdecoy\([^;]*?,\s*" + LITERAL), None),
]


def reason_literals(text, at, expression):
    """The literal text(s) a reason expression starts with: each branch of a ?:, and for a variable named
    reason, the literal its nearest declaration before `at` starts with."""
    if "?" in expression and ":" in expression:
        return [m.group(1) for m in re.finditer(LITERAL, expression.split("?", 1)[1])]
    prefix = literal_prefix(expression)
    if prefix is not None:
        return [prefix]
    if expression.strip() in ("reason", "std::move(reason)"):
        declarations = list(re.finditer(r"std::string reason\s*=\s*" + LITERAL, text[:at]))
        if declarations and text.count("\n", declarations[-1].start(), at) < 40:
            return [declarations[-1].group(1)]
    return []


def ends(source_dir):
    """(file, line, outcomes or None, reason literal) for each way a login ends."""
    found = []
    for path in sorted((source_dir / "helper").rglob("*.cpp")):
        text = path.read_text()
        for m in START.finditer(text):
            body = brace_body(text, m.start())
            args = split_top_level(body)
            outcomes = OUTCOME.findall(args[0])
            if not outcomes or len(args) < 3 or args[0].startswith("static_cast"):
                continue
            line = text.count("\n", 0, m.start()) + 1
            for reason in reason_literals(text, m.start(), args[2]):
                found.append((path.name, line, outcomes, reason))
        # A proof (verdict.hpp): success's reason is a Verified's last argument, made only where a check passes.
        for m in re.finditer(r"\bVerified\(", text):
            args = split_top_level(brace_body(text, m.end() - 1, "(", ")"))
            line = text.count("\n", 0, m.start()) + 1
            for reason in reason_literals(text, m.start(), args[-1]):
                found.append((path.name, line, ["Success"], reason))
        for pattern, outcomes in ELSEWHERE:
            for m in pattern.finditer(text):
                found.append((path.name, text.count("\n", 0, m.start()) + 1, outcomes, m.group(1)))
    return found


def man_text(path):
    text = path.read_text()
    for roff, plain in (("\\-", "-"), ("\\(aq", "'"), ("\\(dq", '"'), ("\\e", "\\"), ("\\&", ""),
                        ("\\fB", ""), ("\\fI", ""), ("\\fR", ""), ("\\:", "")):
        text = text.replace(roff, plain)
    return text


def table_rows(man):
    """The rows of the table between the '.\\" outcomes-and-reasons' markers, as text."""
    m = re.search(r'\.\\" begin outcomes-and-reasons\n(.*?)\.\\" end outcomes-and-reasons', man, re.S)
    if not m:
        return None
    body = m.group(1)
    # Each row is three T{ ... T} cells; rows begin at a line "T{" right after a line "T}" (the first after
    # the header).
    body = body[body.index("\nT{\n") + 1 :]
    rows = re.split(r"(?<=\nT\})\n(?=T\{\n)", body)
    return rows


def main():
    source_dir = Path(sys.argv[1])
    man = man_text(source_dir / "man" / "pam-passwordless-helper.8")
    rows = table_rows(man)
    if rows is None:
        print("man/pam-passwordless-helper.8 has no table of outcomes and reasons")
        return 1
    wire = (source_dir / "protocol" / "wire.cpp").read_text()
    outcome_names = dict(re.findall(r'case Outcome::(\w+):\s*return "(\w+)";', wire))
    missing = []
    for name in outcome_names.values():
        if not any(("outcome=" + name) in row.split("\n", 2)[1] for row in rows if "\n" in row):
            missing.append("outcome=%s has no row" % name)
    checked = 0
    for file, line, outcomes, reason in ends(source_dir):
        # A reason passed on from elsewhere (a variable) is checked where its literal is made.
        reason = reason.strip()
        if not reason:
            continue
        # The decoy's reasons end as any failure of the real user it copies.
        names = ["outcome=" + outcome_names[o] for o in outcomes] if outcomes else ["outcome="]
        fits = [row for row in rows if reason in row.replace("\n", " ").replace("  ", " ")]
        if not fits:
            missing.append('%s:%d: reason "%s" is not in the table' % (file, line, reason))
        elif not any(any(n in row for n in names) for row in fits):
            missing.append('%s:%d: reason "%s" is not in a row of %s' % (file, line, reason, " or ".join(names)))
        checked += 1
    if missing:
        print("\n".join(missing))
        return 1
    print("%d outcomes and %d reasons, each in man/pam-passwordless-helper.8" % (len(outcome_names), checked))
    return 0


if __name__ == "__main__":
    sys.exit(main())
