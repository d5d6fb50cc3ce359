#!/usr/bin/env bash
# One person's portability package (GDPR Article 20) from a generated shop in PostgreSQL:
# the sample shop's schema (examples/requests/shop/schema.postgres.sql) filled with
# CUSTOMERS customers and 23 rows each in the other eleven tables (an address, 3 orders
# of 2 lines with their invoices, a review, a ticket with a staff note, 4 sign-ins, a
# marketing consent, a recommendation score, a message to another customer): 1,000,000
# customers make 24,000,000 rows. Then PEOPLE customers spread over the shop are
# answered one after another, each package written to disk (median and 90th percentile
# time, packages a minute, peak RSS), and, with
# HEAVY=N, one customer given N more sign-ins is answered alone (time and peak RSS: the
# memory of a person with many rows).
#
# Usage: bench/requests.sh [CUSTOMERS] [PEOPLE]   (defaults 10000 and 1000)
#   HEAVY=1000000          also a person with a million sign-ins
#   FERRY_TEST_POSTGRES    the server (default postgres://postgres@127.0.0.1:5432/test);
#                          the bench makes its own database ferry_bench_requests and drops it
#   KEEP=1                 keep the database (to rerun with SKIP_LOAD=1)
#   SKIP_BUILD=1           use the example already built
set -euo pipefail
CUSTOMERS=${1:-10000}
PEOPLE=${2:-1000}
HEAVY=${HEAVY:-0}
REPO=$(cd "$(dirname "$0")/.." && pwd)
SERVER=${FERRY_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}
export PGOPTIONS="-c client_min_messages=warning"
DB=ferry_bench_requests
URL="${SERVER%/*}/$DB"
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
BIN=$TARGET/release/examples/extract_bench

[ "${SKIP_BUILD:-0}" = 1 ] || (cd "$REPO" && cargo build --release -q -p ferry-requests --example extract_bench)

if [ "${SKIP_LOAD:-0}" != 1 ]; then
    . "$REPO/bench/shop_gen.sh"
    shop_generate "$SERVER" "$DB" "$CUSTOMERS" "$HEAVY"
fi

echo "== $PEOPLE customers, one after another"
"$BIN" "$URL" "$CUSTOMERS" "$PEOPLE"
if [ "$HEAVY" -gt 0 ]; then
    echo "== one customer with $HEAVY more sign-ins"
    "$BIN" "$URL" "$CUSTOMERS" 1 heavy@example.com
    echo "== for comparison, one ordinary customer alone"
    "$BIN" "$URL" "$CUSTOMERS" 1 c1@example.com
fi

[ "${KEEP:-0}" = 1 ] || psql -q "$SERVER" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
