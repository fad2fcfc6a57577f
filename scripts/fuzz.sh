#!/usr/bin/env bash
# The API fuzzer (part of make test): Schemathesis generates requests from the OpenAPI
# document, valid and invalid, and sends them to the server `make dev` runs, on a free
# loopback port with a key of every scope, on a table of its own. It fails on any 5xx, any
# response the document does not allow (status, content type, headers, body), and any
# invalid request that is not refused. Needs the emulator (AWS_ENDPOINT_URL, scripts/emulator.sh).
# FUZZ_EXAMPLES: test cases per operation (default 12, about a minute on 2 cores). Requests
# may take 30 s: a bulk action on 100 ids is 100 transactions, which a debug build on moto
# can take over 10 s to make (Lambda's own limit is the template's 10 s).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${AWS_ENDPOINT_URL:?start the emulator first: source scripts/emulator.sh && start_emulator}"
source scripts/emulator.sh

cargo build --quiet -p contacts-tools --bin dev
port=$(free_port)
key="abc_fuzz_$(python3 -c 'import secrets; print(secrets.token_hex(20))')"
log=target/fuzz-server.log
PORT=$port VENDOR_PORT=0 DEV_API_KEY=$key TABLE_NAME="fuzz-$(date +%s)" DEMO_CONTACTS=30 DEMO_VISITORS=3 \
  RUST_LOG=warn target/debug/dev > "$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT

base="http://127.0.0.1:$port"
for _ in $(seq 1 600); do
  curl -fs "$base/api/v1/openapi.json" > /dev/null && break
  kill -0 "$server" 2>/dev/null || { echo "fuzz: the server did not start; see $log" >&2; exit 1; }
  sleep 0.2
done

.venv/bin/schemathesis run "$base/api/v1/openapi.json" \
  --header "Authorization: Bearer $key" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection \
  --phases examples,coverage,fuzzing \
  --max-examples "${FUZZ_EXAMPLES:-12}" \
  --request-timeout 30 \
  --workers 1 \
  --seed "${FUZZ_SEED:-20251122}" \
  --suppress-health-check all \
  --no-color \
  --report junit --report-dir target/fuzz
