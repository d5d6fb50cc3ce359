#!/usr/bin/env bash
# Installs what the tests need and runs the whole test suite. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests need, installed only when missing. (The core tests need no
# server; the protocol connectors add their servers here.)
packages=()
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
cargo build --workspace --all-targets --locked
cargo test --workspace --locked -- --test-threads="${FERRY_TEST_THREADS:-2}"
echo "ferry: all tests passed"
