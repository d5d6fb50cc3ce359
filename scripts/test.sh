#!/usr/bin/env bash
# Installs what the tests need and runs the whole test suite. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the tests use (none of the core tests needs a server; later
# connectors add theirs here). Installed only when missing, so a warm machine skips apt.
need=()
for cmd in unzip; do
    command -v "$cmd" >/dev/null 2>&1 || need+=("$cmd")
done
if ((${#need[@]})); then
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}"
fi

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
cargo build --workspace --all-targets --locked
cargo test --workspace --locked -- --test-threads="${FERRY_TEST_THREADS:-2}"
echo "ferry: all tests passed"
