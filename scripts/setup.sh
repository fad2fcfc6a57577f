#!/usr/bin/env bash
# Installs what the project needs into the project: a Python virtualenv with the AWS
# emulator (moto), cfn-lint and the API fuzzer (Schemathesis). Safe to run again; does
# nothing when up to date.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
stamp="$venv/.installed"
if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating $venv"
  python3 -m venv "$venv"
fi
if [ ! -f "$stamp" ] || ! cmp -s scripts/requirements.txt "$stamp"; then
  echo "setup: installing the emulator, linter and fuzzer (about 40 s)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements.txt
  cp scripts/requirements.txt "$stamp"
fi
"$venv/bin/python" scripts/patch_moto.py
