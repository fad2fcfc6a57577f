#!/usr/bin/env python3
"""After `make test`: no key, secret, password, email or phone number in any log line.

Reads the JSON log lines of every test binary (target/test-logs/*.jsonl, written at debug
level for the project's crates), of the server the browser tests drove
(tests/browser/test-results/dev.log) and of the one the API fuzzer drove
(target/fuzz-server.log). The `dev` server's start-up banner is console output for the
developer, not a log stream, and is not read. Looks for every secret the tests and the
local stack use (constants named *SECRET*, *KEY*, *PEPPER*, *TOKEN*, *PASSWORD* in the
tests and tools), API keys (`abc_` and 32+ hex digits), bearer tokens, session cookies,
email addresses and E.164 phone numbers. Fails when a log line holds one, or when there
are too few log lines to mean anything.
"""
import glob
import json
import re
import sys

SOURCES = ["tests/*.rs", "tests/support/*.rs", "tools/src/**/*.rs", "tests/browser/specs/*.js"]
CONSTANT = re.compile(r'const\s+[A-Z_]*(?:SECRET|KEY|PEPPER|TOKEN|PASSWORD)[A-Z_]*\s*(?::\s*&str)?\s*=\s*(?:process\.env\.[A-Z_]+\s*\|\|\s*)?"([^"]{8,})"')
PATTERNS = {
    "API key": re.compile(r"abc_[0-9a-f]{32,}"),
    "bearer token": re.compile(r"[Bb]earer\s+[A-Za-z0-9_\-.]{12,}"),
    "session cookie": re.compile(r"__Host-[a-z_]+=[A-Za-z0-9_.\-]{12,}"),
    "email address": re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"),
    "phone number": re.compile(r"\+[1-9][0-9]{7,14}\b"),
}
MIN_LINES = 1000


def secrets():
    found = set()
    for pattern in SOURCES:
        for path in glob.glob(pattern, recursive=True):
            with open(path, encoding="utf-8") as f:
                found.update(CONSTANT.findall(f.read()))
    return sorted(found)


def log_lines():
    paths = glob.glob("target/test-logs/*.jsonl")
    paths += [p for p in ("tests/browser/test-results/dev.log", "target/fuzz-server.log") if glob.glob(p)]
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                if line.startswith("{"):
                    yield path, number, line


def main():
    known = secrets()
    if not known:
        sys.exit("scan-logs: found no test secrets to look for")
    # The patterns catch what they are for (a planted line of each kind).
    planted = {
        "API key": "abc_" + "0" * 32,
        "bearer token": "Bearer abcdefghijklmnop",
        "session cookie": "__Host-session=abcdefghijklmnop",
        "email address": "olivia@lumoco.dev",
        "phone number": "+14155552671",
    }
    for name, sample in planted.items():
        if not PATTERNS[name].search(f'{{"message": "{sample}"}}'):
            sys.exit(f"scan-logs: the {name} pattern misses {sample}")
    leaks, lines = [], 0
    for path, number, line in log_lines():
        lines += 1
        try:
            json.loads(line)
        except ValueError:
            pass
        for secret in known:
            if secret in line:
                leaks.append((path, number, "secret " + secret[:6] + "…"))
        for name, pattern in PATTERNS.items():
            match = pattern.search(line)
            if match:
                leaks.append((path, number, f"{name} {match.group(0)[:6]}…"))
    if lines < MIN_LINES:
        sys.exit(f"scan-logs: only {lines} log lines; were the tests run (target/test-logs)?")
    for path, number, what in leaks[:20]:
        print(f"{path}:{number}: {what}", file=sys.stderr)
    if leaks:
        sys.exit(f"scan-logs: {len(leaks)} log lines hold a key, secret or personal data")
    print(f"scan-logs: {lines} log lines, none holds any of {len(known)} secrets, an API key, a bearer token, a session cookie, an email or a phone number")


if __name__ == "__main__":
    main()
