#!/usr/bin/env bash
# Browser tests: the dashboard driven by Playwright in Debian's headless Chromium,
# against the real service: the `dev` binary (every template route, capture worker
# included) on a free port, a fresh table with a few demo contacts, and the emulator
# that `make test` started (or one of its own). Screenshots: tests/browser/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-browser.sh

cargo build --quiet -p contacts-tools --bin dev
source scripts/emulator.sh
if [ -z "${AWS_ENDPOINT_URL:-}" ]; then
  start_emulator
fi

port=$(free_port)
key="abc_browser_tests_$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
mkdir -p tests/browser/screenshots tests/browser/test-results
log=tests/browser/test-results/dev.log
PORT=$port VENDOR_PORT=0 TABLE_NAME="browser-tests-$port-$$" DEMO_CONTACTS=60 DEMO_VISITORS=10 DEV_API_KEY=$key RUST_LOG=warn \
  "${CARGO_TARGET_DIR:-target}/debug/dev" > "$log" 2>&1 &
dev_pid=$!
trap 'kill "$dev_pid" 2>/dev/null || true; kill "${EMULATOR_PID:-}" 2>/dev/null || true' EXIT

# Loading the demo workspace takes seconds alone, longer on a loaded machine.
for _ in $(seq 1 1200); do
  if grep -q "is running on" "$log"; then break; fi
  if ! kill -0 "$dev_pid" 2>/dev/null; then cat "$log" >&2; echo "browser tests: the service did not start" >&2; exit 1; fi
  sleep 0.1
done
grep -q "is running on" "$log" || { cat "$log" >&2; echo "browser tests: the service did not start in 120 s" >&2; exit 1; }

cd tests/browser
BASE_URL="http://127.0.0.1:$port" API_KEY=$key BOT_SECRET=demo-bot-secret-change-me npx playwright test "$@"
