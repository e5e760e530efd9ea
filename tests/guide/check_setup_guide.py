#!/usr/bin/python3
"""Keeps doc/setup.md true: its AWS CLI commands, its helper.conf keys and its sshd options.

    check_setup_guide.py --doc doc/setup.md --model tests/guide/cognito-idp-service-2.json \
        --helper-conf conf/helper.conf --conf-man man/pam-passwordless-helper.conf.5 \
        [--helper BUILT_HELPER] [--sshd /usr/sbin/sshd] --work-dir DIR

1. Every `aws cognito-idp OPERATION ...` command in a ```sh block is checked against the botocore service model,
   as the AWS CLI would read it before sending anything: the operation exists; every --option is a member of the
   operation's input shape (kebab-case) or a global option; required members are present; values have the
   member's type (JSON or the shorthand used in the guide for structures, one word per element for lists,
   flags for booleans), enum values, lengths, ranges and the model's patterns where Python can read them. The
   placeholders ($POOL_ID, ...) are replaced by the example values of the guide's placeholders block, so
   those examples are checked too.
2. Every "[section] key" the guide names, and every key of the helper.conf it writes, exists in conf/helper.conf
   or in pam-passwordless-helper.conf(5); with --helper, the helper.conf the guide writes (placeholders
   filled in, paths moved under the work directory) passes the built helper's own check-config.
3. The sshd_config lines the guide writes are read by the sshd of this machine (`sshd -T`), which refuses an
   unknown option or a bad value, and each option shows up in its effective configuration.
4. The timeouts the guide sets agree: sshd's LoginGraceTime, login.defs' LOGIN_TIMEOUT and the app client's
   AuthSessionValidity are each at least the helper's login_timeout, as the guide says they must be.
5. LOGIN_TIMEOUT, which the guide edits, exists in this machine's /etc/login.defs.

Unit cases run first: a typo'd option, a missing required member, a bad enum value and other bad inputs must
each be refused with the expected message, and a good command must pass; a checker that cannot fail fails.
Exit 0 when everything holds, 1 otherwise (each problem printed as "FAIL: ..."), 77 when not run by root.
"""

import argparse
import json
import os
import re
import shlex
import subprocess
import sys

GLOBAL_OPTIONS = {  # the AWS CLI's own options that the guide may use, and whether they take a value
    "--region": True, "--output": True, "--query": True, "--profile": True, "--endpoint-url": True,
    "--no-cli-pager": False,
}
OUTPUT_FORMATS = {"json", "text", "table", "yaml", "yaml-stream"}
SHELL_OPERATORS = {")", ">", ">>", "|", ";", "&&", "||", "&", "<"}


class GuideError(Exception):
    pass


def kebab(name):
    """PascalCase to the CLI's kebab-case (botocore's xform_name for the names of this model)."""
    # botocore's special case: a plural acronym at the end is one word (CallbackURLs: --callback-urls).
    plural = re.search(r"[A-Z]{2,}s$", name)
    if plural:
        name = name[: -len(plural.group())] + "-" + plural.group().lower()
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1-\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", s)
    return s.lower()


# ---------------------------------------------------------------------------------------------------------
# The guide's blocks and shell lines


def fenced_blocks(text):
    """(language, body, marker) for every fenced block; marker is the HTML comment just before it, if any."""
    blocks = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        marker = ""
        j = i - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        if j >= 0:
            mm = re.match(r"^<!--\s*([\w-]+)\s*-->$", lines[j].strip())
            if mm:
                marker = mm.group(1)
        body = []
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        blocks.append((m.group(1), "\n".join(body), marker))
        i += 1
    return blocks


def logical_lines(body):
    """Shell lines with backslash-newline continuations joined; heredoc bodies are kept out."""
    out, current, heredoc_end = [], "", None
    for line in body.splitlines():
        if heredoc_end is not None:
            if line.strip() == heredoc_end:
                heredoc_end = None
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        m = re.search(r"<<-?\s*'?\"?(\w+)'?\"?", current)
        if m:
            heredoc_end = m.group(1)
        out.append(current)
        current = ""
    if current:
        out.append(current)
    return out


def heredocs(body):
    """(target file, text, quoted) for every `cat > FILE <<EOF` in a block."""
    found = []
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^cat\s+>\s*(\S+)\s+<<(-?)\s*('?)(\w+)'?\s*$", lines[i])
        if m:
            end, text = m.group(4), []
            i += 1
            while i < len(lines) and lines[i].strip() != end:
                text.append(lines[i])
                i += 1
            found.append((m.group(1), "\n".join(text) + "\n", m.group(3) == "'"))
        i += 1
    return found


def placeholders(blocks):
    """NAME=value assignments of the blocks marked <!-- placeholders --> (comments dropped)."""
    env = {}
    for lang, body, marker in blocks:
        if marker != "placeholders":
            continue
        for line in logical_lines(body):
            words = shlex.split(line, comments=True)
            for w in words:
                m = re.match(r"^([A-Z][A-Z0-9_]*)=(.+)$", w)
                if not m:
                    raise GuideError(f"placeholders block: '{line}' is not NAME=value")
                env[m.group(1)] = m.group(2)
    if not env:
        raise GuideError("no <!-- placeholders --> block with NAME=value lines")
    return env


def expand(text, env):
    """$NAME and ${NAME} replaced outside single quotes, as the shell would; an unknown name is an error."""
    out, i, quote = [], 0, None
    while i < len(text):
        c = text[i]
        if quote == "'":
            out.append(c)
            if c == "'":
                quote = None
            i += 1
            continue
        if c == "'" and quote is None:
            quote = "'"
        elif c == '"':
            quote = None if quote == '"' else '"'
        elif c == "$" and i + 1 < len(text) and text[i + 1] != "(":
            m = re.match(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", text[i:])
            if m:
                name = m.group(1)
                if name not in env:
                    raise GuideError(f"${name} is not a placeholder of the guide")
                out.append(env[name])
                i += len(m.group(0))
                continue
        out.append(c)
        i += 1
    return "".join(out)


def aws_commands(blocks, env):
    """Each `aws cognito-idp ...` in a ```sh block, as (source line, argv after 'cognito-idp'), or (source line,
    GuideError) when its placeholders cannot be filled in."""
    found = []
    for lang, body, marker in blocks:
        if lang != "sh":
            continue
        for line in logical_lines(body):
            start = line.find("aws cognito-idp")
            while start >= 0:
                try:
                    text = expand(line[start:], env)
                except GuideError as e:
                    found.append((" ".join(line[start:].split()), e))
                    start = line.find("aws cognito-idp", start + 1)
                    continue
                lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
                lexer.whitespace_split = True
                words = []
                for w in lexer:
                    if w in SHELL_OPERATORS or (w and set(w) <= set("()<>|;&")):
                        break
                    words.append(w)
                found.append((" ".join(line[start:].split()), words[2:]))
                start = line.find("aws cognito-idp", start + 1)
    return found


# ---------------------------------------------------------------------------------------------------------
# Shorthand: the subset of the AWS CLI's shorthand syntax this checker reads (Key=Value,Key=[a,b],Key={...}).


def parse_shorthand(text):
    pos = 0

    def value(stop):
        nonlocal pos
        if pos < len(text) and text[pos] == "[":
            pos += 1
            items = []
            while pos < len(text) and text[pos] != "]":
                items.append(value(",]"))
                if pos < len(text) and text[pos] == ",":
                    pos += 1
            if pos >= len(text):
                raise GuideError(f"shorthand '{text}': unclosed '['")
            pos += 1
            return items
        if pos < len(text) and text[pos] == "{":
            pos += 1
            obj = pairs("}")
            if pos >= len(text) or text[pos] != "}":
                raise GuideError(f"shorthand '{text}': unclosed '{{'")
            pos += 1
            return obj
        start = pos
        while pos < len(text) and text[pos] not in stop:
            if text[pos] in "\"'=[]{}":
                raise GuideError(f"shorthand '{text}': '{text[pos]}' in a value (quote it as JSON instead)")
            pos += 1
        return text[start:pos]

    def pairs(stop):
        nonlocal pos
        obj = {}
        while pos < len(text) and text[pos] not in stop:
            m = re.match(r"[A-Za-z0-9_]+", text[pos:])
            if not m or pos + len(m.group(0)) >= len(text) or text[pos + len(m.group(0))] != "=":
                raise GuideError(f"shorthand '{text}': expected Key=Value at '{text[pos:]}'")
            key = m.group(0)
            pos += len(key) + 1
            if key in obj:
                raise GuideError(f"shorthand '{text}': {key} given twice")
            obj[key] = value("," + stop)
            if pos < len(text) and text[pos] == ",":
                pos += 1
        return obj

    result = pairs("")
    if pos != len(text) or not result:
        raise GuideError(f"shorthand '{text}' is not Key=Value,...")
    return result


# ---------------------------------------------------------------------------------------------------------
# The service model


_CATEGORY_RANGES = {}


def unicode_category_ranges(major):
    """A character-class body (ranges, escaped) of every code point whose general category starts with
    `major` (L letters, M marks, S symbols, N numbers, P punctuation, ...)."""
    if major not in _CATEGORY_RANGES:
        import unicodedata
        parts, start, prev = [], None, None
        for cp in range(sys.maxunicode + 1):
            if unicodedata.category(chr(cp)).startswith(major):
                if start is None:
                    start = cp
                prev = cp
            elif start is not None:
                parts.append(re.escape(chr(start)) + ("-" + re.escape(chr(prev)) if prev > start else ""))
                start = None
        if start is not None:
            parts.append(re.escape(chr(start)) + ("-" + re.escape(chr(prev)) if prev > start else ""))
        _CATEGORY_RANGES[major] = "".join(parts)
    return _CATEGORY_RANGES[major]


class Model:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        self.shapes = data["shapes"]
        self.operations = {kebab(name): op for name, op in data["operations"].items()}
        self.patterns_skipped = set()
        self.compiled = {}

    def shape(self, ref):
        return self.shapes[ref["shape"]] if isinstance(ref, dict) else self.shapes[ref]

    def check_value(self, value, shape, where):
        t = shape["type"]
        if t == "structure":
            if not isinstance(value, dict):
                raise GuideError(f"{where}: expected a structure, got {value!r}")
            for key in value:
                if key not in shape["members"]:
                    raise GuideError(f"{where}: '{key}' is not a member (members: "
                                     f"{', '.join(sorted(shape['members']))})")
            for req in shape.get("required", []):
                if req not in value:
                    raise GuideError(f"{where}: required member '{req}' is missing")
            for key, v in value.items():
                self.check_value(v, self.shape(shape["members"][key]), f"{where}.{key}")
        elif t == "list":
            if not isinstance(value, list):
                raise GuideError(f"{where}: expected a list, got {value!r}")
            self.check_bounds(len(value), shape, where, "items")
            for n, v in enumerate(value):
                self.check_value(v, self.shape(shape["member"]), f"{where}[{n}]")
        elif t == "map":
            if not isinstance(value, dict):
                raise GuideError(f"{where}: expected a map, got {value!r}")
            for k, v in value.items():
                self.check_value(k, self.shape(shape["key"]), f"{where} key")
                self.check_value(v, self.shape(shape["value"]), f"{where}.{k}")
        elif t == "string":
            if not isinstance(value, str):
                raise GuideError(f"{where}: expected a string, got {value!r}")
            if "enum" in shape and value not in shape["enum"]:
                raise GuideError(f"{where}: '{value}' is not one of {', '.join(shape['enum'])}")
            self.check_bounds(len(value), shape, where, "characters")
            if "pattern" in shape:
                pattern = self.pattern(shape["pattern"])
                if pattern and not pattern.fullmatch(value):
                    raise GuideError(f"{where}: '{value}' does not match the pattern {shape['pattern']}")
        elif t in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise GuideError(f"{where}: expected a whole number, got {value!r}")
            self.check_bounds(value, shape, where, "")
        elif t == "boolean":
            if not isinstance(value, bool):
                raise GuideError(f"{where}: expected true or false, got {value!r}")
        else:
            raise GuideError(f"{where}: this checker does not read {t} values")

    def pattern(self, text):
        """The model's pattern for Python's re, whose classes lack \\p{..}: each Unicode general category the
        pattern names is spelled out as the code point ranges of this Python's Unicode database."""
        if text not in self.compiled:
            translated = re.sub(r"\\p\{([A-Z])\}", lambda m: unicode_category_ranges(m.group(1)), text)
            try:
                self.compiled[text] = re.compile(translated)
            except re.error:
                self.patterns_skipped.add(text)
                self.compiled[text] = None
        return self.compiled[text]

    @staticmethod
    def check_bounds(n, shape, where, unit):
        if "min" in shape and n < shape["min"]:
            raise GuideError(f"{where}: {n} {unit} is below the minimum {shape['min']}".replace("  ", " "))
        if "max" in shape and n > shape["max"]:
            raise GuideError(f"{where}: {n} {unit} is above the maximum {shape['max']}".replace("  ", " "))

    def scalar(self, word, shape, where):
        """A word of the command line read as the member's scalar type, as the CLI converts it."""
        t = shape["type"]
        if t in ("integer", "long"):
            if not re.fullmatch(r"-?[0-9]+", word):
                raise GuideError(f"{where}: '{word}' is not a whole number")
            return int(word)
        if t == "boolean":
            if word not in ("true", "false"):
                raise GuideError(f"{where}: '{word}' is not true or false")
            return word == "true"
        return word

    def typed(self, value, shape, where):
        """Shorthand gives strings everywhere: convert them to the model's scalar types."""
        t = shape["type"]
        if t == "structure" and isinstance(value, dict):
            return {k: self.typed(v, self.shape(shape["members"][k]), f"{where}.{k}")
                    if k in shape["members"] else v for k, v in value.items()}
        if t == "list" and isinstance(value, list):
            return [self.typed(v, self.shape(shape["member"]), where) for v in value]
        if isinstance(value, str) and t in ("integer", "long", "boolean"):
            return self.scalar(value, shape, where)
        return value

    def structured(self, word, shape, where):
        if word.lstrip().startswith(("{", "[")):
            try:
                return json.loads(word)
            except json.JSONDecodeError as e:
                raise GuideError(f"{where}: invalid JSON: {e}") from None
        return self.typed(parse_shorthand(word), shape, where)

    def check_command(self, argv):
        """Checks one command (the words after 'aws cognito-idp'); returns the operation's name."""
        if not argv:
            raise GuideError("no operation after 'aws cognito-idp'")
        name = argv[0]
        if name not in self.operations:
            raise GuideError(f"'{name}' is not an operation of cognito-idp")
        op = self.operations[name]
        shape = self.shapes[op["input"]["shape"]] if "input" in op else {"members": {}}
        members = {kebab(m): m for m in shape["members"]}
        given = {}
        i = 1
        while i < len(argv):
            opt = argv[i]
            if not opt.startswith("--"):
                raise GuideError(f"{name}: unexpected word '{opt}'")
            values = []
            i += 1
            while i < len(argv) and not argv[i].startswith("--"):
                values.append(argv[i])
                i += 1
            if opt in GLOBAL_OPTIONS:
                if GLOBAL_OPTIONS[opt] != (len(values) == 1) or len(values) > 1:
                    raise GuideError(f"{name}: {opt} takes {'one value' if GLOBAL_OPTIONS[opt] else 'none'}")
                if opt == "--output" and values[0] not in OUTPUT_FORMATS:
                    raise GuideError(f"{name}: --output {values[0]} is not one of {', '.join(OUTPUT_FORMATS)}")
                if opt in given:
                    raise GuideError(f"{name}: {opt} given twice")
                given[opt] = values
                continue
            negated = opt.startswith("--no-") and opt[5:] in members
            key = opt[5:] if negated else opt[2:]
            if key not in members:
                close = [m for m in members if m.replace("-", "") == key.replace("-", "")]
                raise GuideError(f"{name}: unknown option {opt}" + (f" (did you mean --{close[0]}?)" if close else ""))
            member = members[key]
            if member in given:
                raise GuideError(f"{name}: {opt} given twice")
            mshape = self.shape(shape["members"][member])
            where = f"{name} --{key}"
            if mshape["type"] == "boolean":
                if values:
                    raise GuideError(f"{where} is a flag and takes no value (got '{' '.join(values)}'); "
                                     f"use --{key} or --no-{key}")
                value = not negated
            elif negated:
                raise GuideError(f"{name}: {opt}: --no- is only for flags")
            elif not values:
                raise GuideError(f"{where} needs a value")
            elif mshape["type"] == "list":
                item = self.shape(mshape["member"])
                if len(values) == 1 and values[0].lstrip().startswith("["):
                    value = self.structured(values[0], mshape, where)
                elif item["type"] in ("structure", "map"):
                    value = [self.structured(v, item, where) for v in values]
                else:
                    value = [self.scalar(v, item, where) for v in values]
            elif len(values) != 1:
                raise GuideError(f"{where} takes one value, got {len(values)}: {' '.join(values)}")
            elif mshape["type"] in ("structure", "map"):
                value = self.structured(values[0], mshape, where)
            else:
                value = self.scalar(values[0], mshape, where)
            self.check_value(value, mshape, where)
            given[member] = value
        for req in shape.get("required", []):
            if req not in given:
                raise GuideError(f"{name}: required option --{kebab(req)} is missing")
        return op["name"]


# ---------------------------------------------------------------------------------------------------------
# helper.conf keys, sshd options, login.defs


def conf_keys(helper_conf_text, man_text):
    """(section, key) pairs documented by conf/helper.conf (set or commented out) or the conf(5) page."""
    keys = set()
    section = None
    for line in helper_conf_text.splitlines():
        m = re.match(r"^#?\s*\[([a-z_]+)(?: [A-Za-z0-9_.-]+)?\]\s*$", line)
        if m:
            section = m.group(1) if m.group(1) != "service" else "service NAME"
            continue
        m = re.match(r"^#?([a-z_]+)\s*=", line)
        if m and section:
            keys.add((section, m.group(1)))
    section = None
    for line in man_text.splitlines():
        m = re.match(r"^\.SH \[([a-z_ A-Z]+)\]\s*$", line)
        if m:
            section = m.group(1)
            continue
        if line.startswith(".SH "):
            section = None
        m = re.match(r"^\.B ([a-z_]+)\s*$", line)
        if m and section:
            keys.add((section, m.group(1)))
    return keys


def section_name(raw):
    return "service NAME" if raw.startswith("service ") else raw


def named_keys(text):
    """`[section] key` in the guide's text (inline code), with the line it is on."""
    found = []
    for n, line in enumerate(text.splitlines(), 1):
        for m in re.finditer(r"`\[([a-z_]+(?: [a-z0-9_.-]+)?)\] ([a-z_]+)", line):
            found.append((section_name(m.group(1)), m.group(2), n))
    return found


def written_keys(conf_text):
    keys, section = [], None
    for line in conf_text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.match(r"^\[([^\]]+)\]$", line)
        if m:
            section = section_name(m.group(1).strip())
            continue
        m = re.match(r"^([a-z_]+)\s*=", line)
        if not m or section is None:
            raise GuideError(f"helper.conf written by the guide: cannot read '{line}'")
        keys.append((section, m.group(1)))
    return keys


def sshd_check(sshd, conf_text, work):
    """Runs `sshd -T` on the guide's drop-in; returns the options it names that sshd does not show."""
    os.makedirs(work, exist_ok=True)
    key = os.path.join(work, "host_key")
    for f in (key, key + ".pub"):
        if os.path.exists(f):
            os.unlink(f)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True,
                   stdout=subprocess.DEVNULL)
    cfg = os.path.join(work, "sshd_config")
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(f"HostKey {key}\n" + conf_text)
    # sshd insists on its privilege-separation directory; a private mount namespace gives it one without
    # touching this machine's /run.
    script = 'mount -t tmpfs guide-run /run && mkdir -m 0755 /run/sshd && exec "$0" -T -f "$1"'
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, sshd, cfg],
                       capture_output=True, text=True, timeout=60, check=False)
    if r.returncode != 0:
        raise GuideError(f"sshd -T refused the guide's sshd_config lines:\n{r.stderr.strip()}")
    effective = {}
    for line in r.stdout.splitlines():
        k, _, v = line.partition(" ")
        effective.setdefault(k.lower(), v)
    missing = []
    for line in conf_text.splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0].lower() not in effective:
            missing.append(words[0])
    return missing


# ---------------------------------------------------------------------------------------------------------
# Unit cases: the checker must refuse each bad command, with the message that names the fault


UNIT_CASES = [
    ("good command passes", "create-user-pool-client --user-pool-id eu-west-1_AbC1 --client-name x "
     "--generate-secret --explicit-auth-flows ALLOW_USER_AUTH --auth-session-validity 5", None),
    ("typo'd option", "create-user-pool-client --user-pool-idd eu-west-1_AbC1 --client-name x",
     "unknown option --user-pool-idd"),
    ("plural acronym is one word", "create-user-pool-client --user-pool-id eu-west-1_AbC1 --client-name x "
     "--no-generate-secret --allowed-o-auth-flows-user-pool-client --allowed-o-auth-flows code "
     "--callback-urls https://pam.example.org/cb/", None),
    ("plural acronym split", "create-user-pool-client --user-pool-id eu-west-1_AbC1 --client-name x "
     "--callback-ur-ls https://pam.example.org/cb/", "unknown option --callback-ur-ls"),
    ("missing required member", "create-user-pool-client --user-pool-id eu-west-1_AbC1",
     "required option --client-name is missing"),
    ("bad enum value", "create-user-pool --pool-name p --user-pool-tier GOLD", "'GOLD' is not one of"),
    ("bad enum in a list", "create-user-pool-client --user-pool-id eu-west-1_AbC1 --client-name x "
     "--explicit-auth-flows ALLOW_USER_AUTHH", "'ALLOW_USER_AUTHH' is not one of"),
    ("bad enum inside JSON", "create-user-pool --pool-name p --policies "
     "'{\"SignInPolicy\": {\"AllowedFirstAuthFactors\": [\"EMAIL\"]}}'", "'EMAIL' is not one of"),
    ("unknown JSON member", "create-user-pool --pool-name p --policies "
     "'{\"SignInPolicy\": {\"AllowedFirstAuthFactor\": [\"EMAIL_OTP\"]}}'", "'AllowedFirstAuthFactor' is not a member"),
    ("required member inside JSON", "create-user-pool --pool-name p --account-recovery-setting "
     "'{\"RecoveryMechanisms\": [{\"Name\": \"admin_only\"}]}'", "required member 'Priority' is missing"),
    ("too many list items", "create-user-pool --pool-name p --policies '{\"SignInPolicy\": "
     "{\"AllowedFirstAuthFactors\": [\"PASSWORD\", \"EMAIL_OTP\", \"SMS_OTP\", \"WEB_AUTHN\", \"PASSWORD\", "
     "\"EMAIL_OTP\"]}}'", "above the maximum 5"),
    ("integer out of range", "create-user-pool-client --user-pool-id eu-west-1_AbC1 --client-name x "
     "--auth-session-validity 30", "30 is above the maximum 15"),
    ("not an integer", "create-user-pool-client --user-pool-id eu-west-1_AbC1 --client-name x "
     "--auth-session-validity five", "'five' is not a whole number"),
    ("wrong JSON type", "create-user-pool --pool-name p --admin-create-user-config "
     "'{\"AllowAdminCreateUserOnly\": \"yes\"}'", "expected true or false"),
    ("value given to a flag", "create-user-pool-client --user-pool-id eu-west-1_AbC1 --client-name x "
     "--generate-secret true", "is a flag and takes no value"),
    ("option without its value", "create-user-pool --pool-name", "--pool-name needs a value"),
    ("string too long", "set-user-pool-mfa-config --user-pool-id eu-west-1_AbC1 --web-authn-configuration "
     "RelyingPartyId=" + "a" * 128, "128 characters is above the maximum 127"),
    ("pattern", "describe-user-pool --user-pool-id nounderscore", "does not match the pattern"),
    ("Unicode pattern", "admin-get-user --user-pool-id eu-west-1_AbC1 --username 'two words'",
     "does not match the pattern"),
    ("Unicode pattern passes", "admin-get-user --user-pool-id eu-west-1_AbC1 --username élise@exämple.com", None),
    ("shorthand with an unknown key", "admin-create-user --user-pool-id eu-west-1_AbC1 --username u "
     "--user-attributes Nme=email,Value=a@example.com", "'Nme' is not a member"),
    ("shorthand missing a required key", "admin-create-user --user-pool-id eu-west-1_AbC1 --username u "
     "--user-attributes Value=a@example.com", "required member 'Name' is missing"),
    ("unknown operation", "create-userpool --pool-name p", "'create-userpool' is not an operation"),
    ("option given twice", "describe-user-pool --user-pool-id eu-west-1_AbC1 --user-pool-id eu-west-1_AbC2",
     "given twice"),
    ("bad --output", "describe-user-pool --user-pool-id eu-west-1_AbC1 --output xml", "is not one of"),
]


def run_unit_cases(model):
    failures = 0
    for title, command, expected in UNIT_CASES:
        try:
            model.check_command(shlex.split(command))
            got = None
        except GuideError as e:
            got = str(e)
        if expected is None and got is not None:
            print(f"FAIL: unit case '{title}': refused: {got}")
            failures += 1
        elif expected is not None and (got is None or expected not in got):
            print(f"FAIL: unit case '{title}': expected an error with '{expected}', got {got!r}")
            failures += 1
    # The placeholder expander and the command finder, on the shapes the guide uses.
    env = {"POOL_ID": "eu-west-1_AbC1", "A": "x y"}
    probes = [
        ("POOL_ID=$(aws cognito-idp describe-user-pool --user-pool-id \"$POOL_ID\" --query 'a || b' "
         "--output text)", ["describe-user-pool", "--user-pool-id", "eu-west-1_AbC1", "--query", "a || b",
                            "--output", "text"]),
        ("(umask 077; aws cognito-idp describe-user-pool --user-pool-id ${POOL_ID} > f)",
         ["describe-user-pool", "--user-pool-id", "eu-west-1_AbC1"]),
        ("aws cognito-idp x --q '$A' \"$A\"", ["x", "--q", "$A", "x y"]),
    ]
    for line, want in probes:
        got = aws_commands([("sh", line, "")], env)
        if len(got) != 1 or got[0][1] != want:
            print(f"FAIL: unit case: command finder on {line!r} gave {got!r}, expected {want!r}")
            failures += 1
    try:
        expand("$NOT_A_PLACEHOLDER", env)
        print("FAIL: unit case: an unknown placeholder was accepted")
        failures += 1
    except GuideError:
        pass
    if failures == 0:
        print(f"ok: {len(UNIT_CASES)} unit cases of the command checker and {len(probes) + 1} of the "
              f"command finder")
    return failures


# ---------------------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--doc", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--helper-conf", required=True)
    ap.add_argument("--conf-man", required=True)
    ap.add_argument("--helper", help="the built pam-passwordless-helper, to check-config the guide's file")
    ap.add_argument("--sshd", default="/usr/sbin/sshd")
    ap.add_argument("--login-defs", default="/etc/login.defs")
    ap.add_argument("--work-dir", required=True)
    args = ap.parse_args()
    if os.geteuid() != 0:
        # The helper trusts only root-owned files, and sshd -T needs a mount namespace of its own.
        print("skipped: needs root (the helper's check-config and sshd -T)")
        return 77

    model = Model(args.model)
    failures = run_unit_cases(model)

    with open(args.doc, encoding="utf-8") as f:
        doc = f.read()
    blocks = fenced_blocks(doc)
    try:
        env = placeholders(blocks)
    except GuideError as e:
        print(f"FAIL: {e}")
        return 1

    # 1. The AWS CLI commands.
    commands = aws_commands(blocks, env)
    operations = set()
    for source, argv in commands:
        try:
            if isinstance(argv, GuideError):
                raise argv
            operations.add(model.check_command(argv))
        except GuideError as e:
            print(f"FAIL: {source}\n      {e}")
            failures += 1
    if len(commands) < 10 or not {"CreateUserPool", "CreateUserPoolClient", "AdminCreateUser"} <= operations:
        print(f"FAIL: expected the guide to create a pool, an app client and a user; found {sorted(operations)}")
        failures += 1
    print(f"ok: {len(commands)} aws cognito-idp commands read; operations: {', '.join(sorted(operations))}")
    for p in sorted(model.patterns_skipped):
        print(f"note: pattern not checked (Python's re cannot read it): {p}")

    # 2. helper.conf keys.
    with open(args.helper_conf, encoding="utf-8") as f:
        helper_conf = f.read()
    with open(args.conf_man, encoding="utf-8") as f:
        known = conf_keys(helper_conf, f.read())
    conf_written = [(target, text, quoted) for lang, body, marker in blocks if lang == "sh"
                    for target, text, quoted in heredocs(body) if target.endswith("/helper.conf")]
    if len(conf_written) != 1:
        print(f"FAIL: expected one block that writes helper.conf, found {len(conf_written)}")
        failures += 1
    named = [(s, k, f"line {n}") for s, k, n in named_keys(doc)]
    for target, text, quoted in conf_written:
        try:
            named += [(s, k, "the helper.conf it writes") for s, k in written_keys(text)]
        except GuideError as e:
            print(f"FAIL: {e}")
            failures += 1
    for section, key, where in named:
        if (section, key) not in known:
            print(f"FAIL: the guide names [{section}] {key} ({where}), which neither conf/helper.conf nor "
                  f"pam-passwordless-helper.conf(5) knows")
            failures += 1
    print(f"ok: {len(named)} helper.conf keys named by the guide checked against conf/helper.conf and the man page")

    if args.helper and conf_written:
        failures += check_with_helper(args.helper, conf_written[0], env, args.work_dir)

    # 3. sshd options.
    drop_ins = [text for lang, body, marker in blocks if lang == "sh"
                for target, text, quoted in heredocs(body) if target.startswith("/etc/ssh/")]
    if len(drop_ins) != 1:
        print(f"FAIL: expected one block that writes an sshd_config drop-in, found {len(drop_ins)}")
        failures += 1
    for text in drop_ins:
        try:
            missing = sshd_check(args.sshd, text, os.path.join(args.work_dir, "sshd"))
            for option in missing:
                print(f"FAIL: sshd option {option} is not in `sshd -T` output")
                failures += 1
            options = [line.split()[0] for line in text.splitlines() if line.strip()]
            print(f"ok: sshd -T accepts {', '.join(options)}")
        except GuideError as e:
            print(f"FAIL: {e}")
            failures += 1
    for option in re.findall(r"`(LoginGraceTime|AuthenticationMethods|KbdInteractiveAuthentication|UsePAM|"
                             r"PasswordAuthentication)", doc):
        if not any(re.search(rf"^{option}\s", t, re.M) for t in drop_ins):
            print(f"FAIL: the guide names {option} but its drop-in does not set it")
            failures += 1

    # 4. The timeouts agree: no step of the chain cuts a login off before the helper's login_timeout.
    failures += check_timeouts(doc, blocks, commands, conf_written, drop_ins, env)

    # 5. login.defs.
    with open(args.login_defs, encoding="utf-8") as f:
        if not re.search(r"^LOGIN_TIMEOUT\s", f.read(), re.M):
            print(f"FAIL: {args.login_defs} has no LOGIN_TIMEOUT line for the guide's sed to change")
            failures += 1

    print(f"{'FAILED' if failures else 'PASSED'}: doc/setup.md, {failures} problem(s)")
    return 1 if failures else 0


def check_timeouts(doc, blocks, commands, conf_written, drop_ins, env):
    """login_timeout (helper.conf) <= LoginGraceTime (sshd), LOGIN_TIMEOUT (login.defs) and the app client's
    AuthSessionValidity: each is what the guide says must hold."""
    found = {}
    for target, text, quoted in conf_written:
        m = re.search(r"^login_timeout\s*=\s*([0-9]+)\s*$", text, re.M)
        if m:
            found["login_timeout"] = int(m.group(1))
    for text in drop_ins:
        m = re.search(r"^LoginGraceTime\s+([0-9]+)\s*$", text, re.M)
        if m:
            found["sshd LoginGraceTime"] = int(m.group(1))
    m = re.search(r"LOGIN_TIMEOUT\\t\\t([0-9]+)/' /etc/login\.defs", doc)
    if m:
        found["login.defs LOGIN_TIMEOUT"] = int(m.group(1))
    for source, argv in commands:
        if isinstance(argv, list) and argv[:1] == ["create-user-pool-client"] and "--auth-session-validity" in argv:
            found["AuthSessionValidity (minutes) x 60"] = int(argv[argv.index("--auth-session-validity") + 1]) * 60
    want = ["login_timeout", "sshd LoginGraceTime", "login.defs LOGIN_TIMEOUT", "AuthSessionValidity (minutes) x 60"]
    missing = [w for w in want if w not in found]
    if missing:
        print(f"FAIL: the guide does not set {', '.join(missing)}")
        return 1
    failures = 0
    for name in want[1:]:
        if found[name] < found["login_timeout"]:
            print(f"FAIL: {name} = {found[name]} s is shorter than login_timeout = {found['login_timeout']} s")
            failures += 1
    if not failures:
        print("ok: " + ", ".join(f"{n} {found[n]} s" for n in want) + ": none cuts a login short")
    return failures


def check_with_helper(helper, written, env, work):
    """The guide's helper.conf, placeholders filled in and /etc/pam_passwordless moved to the work directory,
    through the built helper's check-config."""
    target, text, quoted = written
    conf_dir = os.path.join(os.path.abspath(work), "helper-conf")
    os.makedirs(conf_dir, mode=0o755, exist_ok=True)
    os.chmod(conf_dir, 0o755)
    body = text if quoted else expand(text, env)
    body = body.replace("/etc/pam_passwordless/", conf_dir + "/")
    files = {"helper.conf": (body, 0o644), "identities": (f"{env['LOCAL_USER']} {env['USER_EMAIL']}\n", 0o600),
             "client-secret": ("not-a-real-secret-only-for-this-check\n", 0o600)}
    for name, (content, mode) in files.items():
        path = os.path.join(conf_dir, name)
        if os.path.exists(path):
            os.unlink(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(content)
    r = subprocess.run([helper, "check-config", "--config", os.path.join(conf_dir, "helper.conf")],
                       capture_output=True, text=True, timeout=60, check=False)
    if r.returncode != 0:
        print(f"FAIL: pam-passwordless-helper check-config refused the guide's helper.conf "
              f"(exit {r.returncode}):\n{r.stdout}{r.stderr}")
        return 1
    print("ok: the built helper's check-config accepts the helper.conf the guide writes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
