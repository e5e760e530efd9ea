"""A program on a pseudo-terminal, driven step by step (what a person at a terminal sees and types), and the
rendering of what it printed as a page a browser can screenshot. Standard library only.

    term = Terminal(["ssh", ...], env, cols=100, rows=50)
    term.expect(r"Choice \\[1-2\\]:")      # waits (bounded) for the text, returns the re.Match
    term.send("2")
    status = term.wait()                 # reads to the end, reaps the child: its exit status

Every wait is bounded by a deadline; there is no fixed sleep. The child is always reaped (close()).
"""

import html
import os
import pty
import re
import select
import signal
import struct
import termios
import fcntl
import time

# CSI and OSC sequences, and the other two-byte escapes: what a terminal would interpret, not show.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


class TerminalError(RuntimeError):
    pass


def plain(text: str) -> str:
    """The text as a person reads it: escape sequences stripped, CR LF as LF, a lone CR (an overwritten
    line) dropped, other control characters (bell, backspace) removed."""
    text = _ANSI.sub("", text).replace("\r\n", "\n")
    lines = []
    for line in text.split("\n"):
        # What follows the last carriage return overwrites the line: keep that.
        if "\r" in line:
            parts = [p for p in line.split("\r") if p]
            line = parts[-1] if parts else ""
        lines.append("".join(c for c in line if c == "\t" or ord(c) >= 0x20))
    return "\n".join(lines)


class Terminal:
    def __init__(self, argv, env, cols=100, rows=50, timeout=60):
        self.timeout = timeout
        self.raw = b""
        self.text = ""  # decoded, escape sequences kept
        self.pos = 0  # where the next expect() starts looking, in plain(self.text)
        self.status = None
        pid, fd = pty.fork()
        if pid == 0:  # the child: stdin, stdout and stderr are the terminal, which is its controlling one
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.eof = False

    def _read(self, until: float) -> bool:
        """Reads what is there (waiting at most until `until`); False at end of output."""
        if self.eof:
            return False
        ready, _, _ = select.select([self.fd], [], [], max(0.0, until - time.monotonic()))
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed its side
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.raw += chunk
        self.text = self.raw.decode("utf-8", "replace")
        return True

    def screen(self) -> str:
        return plain(self.text)

    def expect(self, pattern, timeout=None):
        """Waits for `pattern` (a regular expression) in the output after the last match; returns the match."""
        deadline = time.monotonic() + (timeout or self.timeout)
        regex = re.compile(pattern)
        while True:
            found = regex.search(self.screen(), self.pos)
            if found:
                self.pos = found.end()
                return found
            if time.monotonic() > deadline or not self._read(deadline):
                raise TerminalError(f"{'end of output' if self.eof else 'timed out'} waiting for {pattern!r}; "
                                    f"the terminal shows after the last match:\n{self.screen()[self.pos:]}")

    def send(self, line: str):
        os.write(self.fd, (line + "\r").encode())

    def wait(self, timeout=None) -> int:
        """Reads to the end of the output and reaps the child; its exit status."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while self._read(deadline):
            if time.monotonic() > deadline:
                self.close()
                raise TerminalError("timed out waiting for the program to end; it shows:\n"
                                    + self.screen()[self.pos:])
        return self._reap()

    def _reap(self) -> int:
        if self.status is None:
            _, status = os.waitpid(self.pid, 0)
            self.status = os.waitstatus_to_exitcode(status)
            os.close(self.fd)
        return self.status

    def close(self):
        """Ends the program if it still runs (SIGKILL to it) and reaps it."""
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._reap()


def render_html(title: str, screen: str, cols: int = 100) -> str:
    """The screen as a terminal-like page: monospace, light on dark, one line per line. line-height 1 so that
    the half blocks of a QR code join up."""
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>"
            "html,body{margin:0;background:#1e1e1e}"
            "pre{margin:0;padding:12px 14px;color:#e8e8e8;font:15px/1.0 'DejaVu Sans Mono',monospace;"
            f"width:{cols}ch;white-space:pre-wrap;word-break:break-all}}"
            ".bar{font:13px sans-serif;color:#bbb;background:#333;padding:4px 14px}"
            "</style></head><body>"
            f"<div class=\"bar\">{html.escape(title)}</div><pre>{html.escape(screen)}</pre></body></html>\n")
