#!/usr/bin/env bash
# make dev: installs the emulator, builds, and runs the local service in the foreground.
# The dev binary starts and stops the emulator itself (see tools/src/bin/dev.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --quiet -p contacts-tools --bin dev
export MOTO_SERVER="$PWD/.venv/bin/moto_server"
exec target/debug/dev
