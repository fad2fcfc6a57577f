# The two commands: `make dev` runs the service locally, `make test` runs every test.
.PHONY: dev test lint

dev:
	@exec scripts/dev.sh

test:
	@scripts/test.sh

lint:
	cargo clippy --workspace --all-targets -- -D warnings
