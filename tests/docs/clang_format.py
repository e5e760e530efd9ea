#!/usr/bin/python3
# Every tracked C and C++ file is formatted as the repository's .clang-format says: the review cannot catch an
# unformatted file by eye, and one unformatted commit makes every later diff of that file noisy.
#
#   clang_format.py SOURCE_DIR CLANG_FORMAT
#
# Lists the files git tracks (so build trees, worktrees and generated files are not read) and asks clang-format
# for its replacements without applying them; prints each file that would change with clang-format's own
# diagnostics, and fails if there is one. Exit 0: all formatted; 1: some file is not; 2: cannot check.
import subprocess
import sys


def main(argv):
    if len(argv) != 3:
        print("usage: clang_format.py SOURCE_DIR CLANG_FORMAT", file=sys.stderr)
        return 2
    source, clang_format = argv[1], argv[2]
    listed = subprocess.run(["git", "-c", "safe.directory=" + source, "-C", source, "ls-files", "-z", "--", "*.c", "*.cpp", "*.h", "*.hpp"],
                            capture_output=True, check=False)
    if listed.returncode != 0:
        print("cannot list the tracked files: " + listed.stderr.decode(errors="replace"), file=sys.stderr)
        return 2
    files = [f for f in listed.stdout.decode().split("\0") if f]
    if not files:
        print("no C or C++ file is tracked under " + source, file=sys.stderr)
        return 2
    unformatted = []
    for start in range(0, len(files), 100):
        batch = files[start:start + 100]
        run = subprocess.run([clang_format, "--dry-run", "-Werror", "--style=file"] + batch, cwd=source,
                             capture_output=True, check=False)
        if run.returncode == 0:
            continue
        report = run.stderr.decode(errors="replace")
        named = [f for f in batch if f + ":" in report]
        if not named:
            print(report, file=sys.stderr)
            print("clang-format failed without naming a file", file=sys.stderr)
            return 2
        unformatted += named
        sys.stderr.write(report[:4000])
    if unformatted:
        print("%d of %d files are not formatted; run: clang-format -i %s" %
              (len(unformatted), len(files), " ".join(unformatted)))
        return 1
    print("%d files formatted as .clang-format says" % len(files))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
