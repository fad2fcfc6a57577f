#!/usr/bin/env bash
# make test: formatting and lints first, then every test. Domain unit tests, repository and API tests against the local
# emulator through the real AWS SDK and real HTTP, the template lint, and the dashboard
# driven in headless Chromium (scripts/browser-test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== formatting (cargo fmt --check)"
cargo fmt --all --check

echo "== lints (clippy, warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "== template lint (cfn-lint)"
.venv/bin/cfn-lint infra/template.yaml

echo "== emulator patch (journal rollback and indexes held to moto's own semantics)"
.venv/bin/python scripts/test_patch_moto.py

echo "== emulator"
source scripts/emulator.sh
start_emulator
echo "moto on $AWS_ENDPOINT_URL"

echo "== cargo tests"
rm -rf target/test-logs
cargo test --workspace --quiet

echo "== API fuzzer (Schemathesis, from the OpenAPI document)"
scripts/fuzz.sh

echo "== browser tests (dashboard in headless Chromium)"
scripts/browser-test.sh

echo "== logs (no key, secret, email or phone number in any log line of the runs above)"
.venv/bin/python scripts/scan-logs.py
