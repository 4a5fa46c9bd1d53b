#!/usr/bin/env python3
"""Checks, from a local stack's function log, that every invocation of the named functions was answered in time.

    python3 scripts/check-invocations.py FUNCTIONS_LOG MAX_MS FUNCTION [FUNCTION ...]

Needs cargo lambda watch's debug log in FUNCTIONS_LOG (EMULATOR_RUST_LOG=cargo_lambda_watch=debug for
scripts/run-local.sh), whose `processing request req_id="…" function="…"` line says which invocation went to which
function. Every such invocation must have the function's own outcome line (`requestId="…"}: action succeeded|
refused|failed … elapsed_ms=N`, shared::http) with N at most MAX_MS. Exit 1 names each invocation that has no
outcome (the function never answered) or a slow one; exit 0 prints how many were checked and the slowest.

scripts/test-schema.sh runs it after Schemathesis, so that a read scripts/emulator-read-retry.py resent is known
to be the emulator's loss, not a function that hung or was slow.
"""
import re
import sys

DISPATCHED = re.compile(r'processing request req_id="([^"]+)" function="([^"]+)"')
OUTCOME = re.compile(r'requestId="([^"]+)"[^}]*\}: action (?:succeeded|refused|failed) .*?elapsed_ms=(\d+)')


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    path, max_ms, functions = sys.argv[1], int(sys.argv[2]), set(sys.argv[3:])
    dispatched, elapsed = {}, {}
    with open(path, encoding="utf-8", errors="replace") as log:
        for line in log:
            if m := DISPATCHED.search(line):
                if m.group(2) in functions:
                    dispatched[m.group(1)] = m.group(2)
            elif m := OUTCOME.search(line):
                elapsed[m.group(1)] = int(m.group(2))
    if not dispatched:
        sys.exit(f"check-invocations: no invocation of {', '.join(sorted(functions))} in {path}: was cargo lambda "
                 "watch's debug log on (EMULATOR_RUST_LOG=cargo_lambda_watch=debug)?")
    unanswered = [f"{fn} {req}" for req, fn in dispatched.items() if req not in elapsed]
    slow = [f"{fn} {req} ({elapsed[req]} ms)" for req, fn in dispatched.items() if elapsed.get(req, 0) > max_ms]
    for what, items in (("never answered", unanswered), (f"answered after more than {max_ms} ms", slow)):
        if items:
            print(f"check-invocations: {len(items)} invocation(s) {what}:", *items[:20], sep="\n  ", file=sys.stderr)
    if unanswered or slow:
        sys.exit(1)
    slowest = max(elapsed.get(req, 0) for req in dispatched)
    print(f"check-invocations: {len(dispatched)} invocations answered by the functions, the slowest in {slowest} ms")


if __name__ == "__main__":
    main()
