#!/usr/bin/env bash
# Runs ferry's main job on the example account shipped in the repo, with no external
# service: export it into a package, verify the package, and print the report.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p ferry-cli
out="${1:-$(mktemp -d)}"
mkdir -p "$out"
ferry=target/release/ferry
"$ferry" --data-dir "$out/data" export dir:examples/account -o "$out/example.zip"
"$ferry" --data-dir "$out/data" verify "$out/example.zip"
"$ferry" --data-dir "$out/data" inspect "$out/example.zip"
echo "Package: $out/example.zip"
