# The two commands: `make dev` runs the service locally, `make test` runs every test.
.PHONY: dev test lint job

dev:
	@exec scripts/dev.sh

test:
	@scripts/test.sh

# Runs a scheduled job of the running `make dev` at once: make job NAME=retention
job:
	@curl -sS -X POST "http://127.0.0.1:$${PORT:-3000}/_local/jobs/$(NAME)"; echo

lint:
	cargo clippy --workspace --all-targets -- -D warnings
