#!/usr/bin/python3
"""The askpass program OpenSSH's ssh runs for each keyboard-interactive prompt (SSH_ASKPASS_REQUIRE=force):
it records the prompt exactly as ssh shows it, and answers as a person would.

argv[1] is the prompt. Environment (set by the test, not by ssh):
  PP_E2E_ASKPASS_LOG   file to append {"prompt": ...} lines to
  PP_E2E_ASKPASS_MODE  "code": the newest code the stand-in sent to PP_E2E_DESTINATION (read from PP_E2E_OUTBOX);
                       "wrong": a wrong code
The method menu is answered "1"; any other prompt is refused (exit 1), as a person pressing Cancel.
"""

import json
import os
import sys

WRONG_CODE = "00000000"


def read_log(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line)["prompt"] for line in f if line.strip()]
    except FileNotFoundError:
        return []


def latest_code(outbox, destination):
    code = None
    try:
        with open(outbox, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    entry = json.loads(line)
                    if entry["destination"] == destination:
                        code = entry["code"]
    except FileNotFoundError:
        pass
    return code


def main():
    prompt = sys.argv[1] if len(sys.argv) > 1 else ""
    with open(os.environ["PP_E2E_ASKPASS_LOG"], "a", encoding="utf-8") as f:
        f.write(json.dumps({"prompt": prompt}) + "\n")
    if "Choice [" in prompt:
        print("1")
        return 0
    if "Code sent to" in prompt:
        if os.environ.get("PP_E2E_ASKPASS_MODE") == "wrong":
            print(WRONG_CODE)
            return 0
        code = latest_code(os.environ["PP_E2E_OUTBOX"], os.environ["PP_E2E_DESTINATION"])
        if code is None:
            return 1
        print(code)
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
