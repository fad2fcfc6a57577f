#!/usr/bin/env bash
# Installs what `make bench` needs for arm64: rustup's aarch64 standard library (to build
# every function for Graviton) and, to time their cold starts on this x86_64 machine, qemu's
# user-mode emulator with Debian's arm64 C library. Each once.
set -euo pipefail

rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
[ "$(uname -m)" = aarch64 ] && exit 0  # runs arm64 itself
missing=()
command -v qemu-aarch64-static > /dev/null || missing+=(qemu-user-static)
[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || missing+=(libc6-arm64-cross libgcc-s1-arm64-cross)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-arm64: installing Debian's ${missing[*]} (once)"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi
