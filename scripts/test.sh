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

echo "== IAM check's evaluator and the emulator's request log"
.venv/bin/python scripts/test_check_iam.py

echo "== emulator (recording DynamoDB requests for the IAM check)"
export EMULATOR_REQUEST_LOG=target/dynamodb-requests.jsonl
rm -f "$EMULATOR_REQUEST_LOG"
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

echo "== IAM (every DynamoDB request the functions made in the runs above allowed by their policies in the template)"
.venv/bin/python scripts/check-iam.py
