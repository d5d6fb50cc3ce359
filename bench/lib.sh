# Shared start of the server benchmarks (imap.sh, dav.sh, webdav.sh): builds ferry
# (unless SKIP_BUILD=1; FERRY=path picks another binary), starts the test servers
# (scripts/servers.sh) and makes a work directory, both removed on exit (KEEP=1 keeps
# them), and exports the servers' addresses and FERRY_PASSWORD. The peer tools named as
# COMMAND=PACKAGE (and /usr/bin/time) are installed from Debian's packages when missing.
# Usage, after `set -euo pipefail`:  . "$(dirname "$0")/lib.sh" NAME [COMMAND=PACKAGE ...]
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$REPO/bench/steps.sh"
need_tools /usr/bin/time=time "${@:2}"
[ "${SKIP_BUILD:-0}" = 1 ] || (cd "$REPO" && cargo build --release -q -p ferry-cli)
FERRY=${FERRY:-$REPO/target/release/ferry}
servers=$("$REPO/scripts/servers.sh")
work=$(mktemp -d "/tmp/ferry-$1-bench.XXXXXX")
cleanup() { "$REPO/scripts/servers.sh" stop "$servers"; [ "${KEEP:-0}" = 1 ] || rm -rf "$work" "$servers"; }
trap cleanup EXIT
set -a; . "$servers/servers.env"; set +a
export FERRY_PASSWORD=$FERRY_TEST_PASSWORD
