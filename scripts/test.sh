#!/usr/bin/env bash
# Installs what the tests need and runs the whole test suite. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests need, installed only when missing: the real servers the
# connectors are tested against, PostgreSQL for the job store, and openssl for the
# servers' throwaway certificates; MariaDB for the dataset-map checks of the controller side; Node.js runs the OAuth 2.0 authorization server
# (oidc-provider, which scripts/servers.sh installs from scripts/oauth/package-lock.json);
# Debian's chromium is the browser of the web app's tests (driven by playwright-core, with
# axe-core, from scripts/browser/package-lock.json: never a downloaded browser). Info-ZIP's
# unzip and Python's zipfile read back the ZIPs ferry writes.
packages=(dovecot-imapd rclone radicale xandikos postgresql mariadb-server mariadb-client openssl time chromium python3-venv unzip)
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
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
# style and lints first: they fail fast and need no server
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo build --workspace --all-targets --locked

# the authorization server's and the browser tests' packages, exactly as locked
(cd scripts/oauth && npm ci --no-audit --no-fund --loglevel=error)
(cd scripts/browser && npm ci --no-audit --no-fund --loglevel=error)
# schemathesis (PyPI), for the API's fuzz test, in a virtual environment under target/
[ -x target/venv/bin/st ] || { python3 -m venv target/venv && target/venv/bin/pip install -q -r scripts/schemathesis/requirements.txt; }

# start the servers on 127.0.0.1; they stop when this script ends, however it ends
servers=$(./scripts/servers.sh)
trap './scripts/servers.sh stop "$servers"' EXIT
set -a
# shellcheck disable=SC1091
. "$servers/servers.env"
set +a

# the connector protocol's reference service's own tests (Python, standard library)
python3 -m unittest examples/remote-service/test_service.py
# the stand-ins for services that cannot run here, checked against their own contract tests
for fake in scripts/fakes/*/test_fake.py; do python3 -m unittest "$fake"; done
cargo test --workspace --locked -- --test-threads="${FERRY_TEST_THREADS:-2}"
echo "ferry: all tests passed"
