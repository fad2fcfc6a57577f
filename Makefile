# The two commands: `make dev` runs the service locally, `make test` runs every test.
.PHONY: dev test lint job bench load openapi

dev:
	@exec scripts/dev.sh

test:
	@scripts/test.sh

# Runs a scheduled job of the running `make dev` at once: make job NAME=retention
job:
	@curl -sS -X POST "http://127.0.0.1:$${PORT:-3000}/_local/jobs/$(NAME)"; echo

# Writes the API's OpenAPI document, generated from the handlers, to docs/openapi.json (a test
# fails while the committed file differs from what the code generates).
openapi:
	@cargo run --quiet -p contacts-tools --bin openapi

# A bounded load test against the running `make dev` (127.0.0.1 only, not part of `make test`):
# 2,000 webhook events from 200 new visitors over the five channels, 64 at a time; checks
# the exact contact and message counts and an empty dead-letter queue; reports webhook
# latency and capture throughput into docs/benchmarks.md. LOAD_VISITORS, LOAD_EVENTS_EACH,
# LOAD_CONCURRENCY and LOAD_TIMEOUT_SECONDS (1800) change its size and bound.
load:
	@cargo run --quiet -p contacts-tools --bin load

lint:
	cargo clippy --workspace --all-targets -- -D warnings

# What each operation costs in DynamoDB calls and capacity, at 1k and 10k contacts, CPU per
# webhook call and capture decision, export memory and speed (100k and 1M rows); writes
# bench/results.json and the tables of docs/benchmarks.md. QUICK=1: 1k contacts and 10k rows only, 1.5 min,
# figures left in target/bench/. CONTACTS=100000: one workspace of that size, figures left in
# target/bench/results-100000.json. IMPORT=100000: a CSV of that many rows (1% bad, 5% duplicates)
# imported through the whole local stack, figures in target/bench/results-import-100000.json.
# EXPORT=1000000: every contact of a workspace that size exported end to end by the export
# worker, in FORMATS (default csv,xlsx,json), figures in target/bench/results-export-1000000.json.
# Then (full runs) the emulator patch's own measurements (transaction and query time at two
# table sizes, memory at 100k items). Not part of `make test`.
# The cold-start part (full runs; COLDSTART=1 runs it alone, ARCH=arm64 or x86_64 for one,
# figures in target/bench/) builds with cargo-lambda, installed into .venv with its zig, and
# for arm64 with rustup's target; arm64 cold starts run under qemu (scripts/setup-arm64.sh).
bench:
	@scripts/setup.sh
	@$(if $(QUICK)$(CONTACTS)$(IMPORT)$(EXPORT),,test -x .venv/bin/cargo-lambda || .venv/bin/pip install --quiet --disable-pip-version-check cargo-lambda==1.9.2)
	@$(if $(QUICK)$(CONTACTS)$(IMPORT)$(EXPORT),,scripts/setup-arm64.sh)
	@cargo run --quiet -p contacts-tools --bin bench -- $(if $(QUICK),--quick) $(if $(CONTACTS),--contacts=$(CONTACTS)) $(if $(COLDSTART),--coldstart $(if $(ARCH),--arch=$(ARCH))) $(if $(IMPORT),--import=$(IMPORT)) $(if $(EXPORT),--export=$(EXPORT) $(if $(FORMATS),--formats=$(FORMATS)))
	@$(if $(QUICK)$(CONTACTS)$(COLDSTART)$(IMPORT)$(EXPORT),,EMULATOR_BENCH=1 .venv/bin/python scripts/test_patch_moto.py)
