#!/usr/bin/env bash
# One person's access request (GDPR Article 15) answered by ferry and by Fides (Ethyca's
# open-source privacy request tool, PyPI `ethyca-fides`) from the same generated shop in
# PostgreSQL (bench/shop_gen.sh, as bench/requests.sh makes it): wall time and peak RSS
# of each, median of N runs, and whether both found the same rows.
#
# ferry: `ferry requests new --kind access`, `verify --how`, then `answer --map
# examples/requests/shop/map.toml` timed under /usr/bin/time (one process: opening the
# register, connecting, checking the map against the database, the walk, writing the
# package). Fides: bench/fides/driver.py in its own venv (target/fides-venv), in-process,
# no webserver: the request is submitted as the API endpoint does and Fides' Celery app
# (task_always_eager, its default) runs the access graph inline (DSR 3.0, one request task
# per collection), through to the access package uploaded to local storage; timed from
# submission to `complete`. Fides needs its own app database (ferry_bench_fides_app in the
# same server) and Redis. The dataset Fides is given is bench/fides/shop.yml, the same
# tables and links as ferry's map.
#
# Usage: bench/fides.sh
#   SIZE=1000000     customers in the generated shop (23 more rows each)
#   N=5              runs of each
#   PERSON=EMAIL     who asks (default the customer in the middle of the shop)
#   FERRY_TEST_POSTGRES  the server (default postgres://postgres@127.0.0.1:5432/test)
#   REDIS_HOST, REDIS_PORT   (default 127.0.0.1, 6379; no password)
#   FIDES_VERSION=2.78.2     the ethyca-fides release installed
#   SKIP_LOAD=1      reuse the shop database of an earlier run with KEEP=1
#   KEEP=1           keep the databases
#   SHOP_DB_NAME     the shop database (default ferry_bench_fides; Fides' app database is its name + _app)
#   SKIP_BUILD=1     use target/release/ferry as built
set -euo pipefail
SIZE=${SIZE:-1000000}
N=${N:-5}
PERSON=${PERSON:-c$((SIZE / 2))@example.com}
REPO=$(cd "$(dirname "$0")/.." && pwd)
SERVER=${FERRY_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}
export PGOPTIONS="-c client_min_messages=warning"
DB=${SHOP_DB_NAME:-ferry_bench_fides}
APPDB=${DB}_app
URL="${SERVER%/*}/$DB"
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
FERRY=$TARGET/release/ferry
VENV=$REPO/target/fides-venv
FIDES_VERSION=${FIDES_VERSION:-2.78.2}
# The role Fides connects as (to the shop, read-only, and to its app database): the
# connection config takes a user name and password.
ROLE=fides_bench
ROLE_PASSWORD=fides_bench
hostport=${SERVER#*@}; hostport=${hostport%%/*}
PGHOST_=${hostport%%:*}; PGPORT_=${hostport##*:}

command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (Debian package time)"; exit 1; }

# 1. Fides, in a venv: ethyca-fides 2.78 needs Python >= 3.11 (numpy 2.3); python3 here is 3.11.
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import fides" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q "ethyca-fides==$FIDES_VERSION"
fi
echo "Fides: $("$VENV/bin/pip" show ethyca-fides | sed -n 's/^Version: //p'), Python $("$VENV/bin/python" -c 'import sys; print(sys.version.split()[0])')"

[ "${SKIP_BUILD:-0}" = 1 ] || (cd "$REPO" && cargo build --release -q -p ferry-cli)

# 2. The shop.
if [ "${SKIP_LOAD:-0}" != 1 ]; then
    . "$REPO/bench/shop_gen.sh"
    shop_generate "$SERVER" "$DB" "$SIZE" 0
fi
psql -q -v ON_ERROR_STOP=1 "$SERVER" <<SQL
DO \$\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
        CREATE ROLE $ROLE LOGIN PASSWORD '$ROLE_PASSWORD';
    END IF;
END \$\$;
DROP DATABASE IF EXISTS $APPDB WITH (FORCE);
CREATE DATABASE $APPDB OWNER $ROLE;
SQL
psql -q -v ON_ERROR_STOP=1 "$URL" -c "GRANT USAGE ON SCHEMA public TO $ROLE" -c "GRANT SELECT ON ALL TABLES IN SCHEMA public TO $ROLE"

work=$(mktemp -d /tmp/ferry-fides-bench.XXXXXX)
cleanup() {
    [ "${KEEP:-0}" = 1 ] || { psql -q "$SERVER" -c "DROP DATABASE IF EXISTS $APPDB WITH (FORCE)" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"; rm -rf "$work"; }
}
trap cleanup EXIT

# 3. Fides' configuration: its app database, Redis, keys of its own for this bench.
export FIDES__DATABASE__SERVER=$PGHOST_ FIDES__DATABASE__PORT=$PGPORT_ FIDES__DATABASE__DB=$APPDB
export FIDES__DATABASE__USER=$ROLE FIDES__DATABASE__PASSWORD=$ROLE_PASSWORD
export FIDES__REDIS__HOST=${REDIS_HOST:-127.0.0.1} FIDES__REDIS__PORT=${REDIS_PORT:-6379} FIDES__REDIS__PASSWORD=""
export FIDES__SECURITY__APP_ENCRYPTION_KEY=ferrybenchferrybenchferrybench32
export FIDES__SECURITY__OAUTH_ROOT_CLIENT_ID=ferrybench FIDES__SECURITY__OAUTH_ROOT_CLIENT_SECRET=ferrybench
export FIDES__EXECUTION__REQUIRE_MANUAL_REQUEST_APPROVAL=false FIDES__EXECUTION__SUBJECT_IDENTITY_VERIFICATION_REQUIRED=false
export FIDES__LOGGING__LEVEL=${FIDES_LOG_LEVEL:-WARNING} FIDES__USER__ANALYTICS_OPT_OUT=true
export SHOP_HOST=$PGHOST_ SHOP_PORT=$PGPORT_ SHOP_DB=$DB SHOP_USER=$ROLE SHOP_PASSWORD=$ROLE_PASSWORD
(cd "$work" && "$VENV/bin/python" "$REPO/bench/fides/driver.py" setup "$REPO/bench/fides/shop.yml")

echo "== $PERSON, $N runs each (SIZE=$SIZE)"
# 4. ferry: a new request each run, in a register of its own; `answer` is timed.
export SHOP_DATABASE_URL=$URL
: > "$work/ferry.times"
for i in $(seq "$N"); do
    data="$work/ferry-data-$i"
    id=$("$FERRY" --data-dir "$data" --json requests new --regime gdpr --kind access --email "$PERSON" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    "$FERRY" --data-dir "$data" requests verify "$id" --how "signed in to the account" >/dev/null
    /usr/bin/time -f "%e %M %U %S" -o "$work/time" "$FERRY" --data-dir "$data" requests answer "$id" \
        --map "$REPO/examples/requests/shop/map.toml" -o "$work/ferry-out-$i" >/dev/null
    cat "$work/time" >> "$work/ferry.times"
    echo "ferry run $i: $(cat "$work/time") (wall s, peak RSS KiB, user s, system s)"
done

# Fides: a new request each run, two in each process (the second shows a warm process).
: > "$work/fides.times"
for i in $(seq "$N"); do
    (cd "$work" && /usr/bin/time -f "%e %M %U %S" -o "$work/time" "$VENV/bin/python" "$REPO/bench/fides/driver.py" run "$PERSON" "$work/fides-$i.json" 2)
    secs=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["requests"]; print(r[0]["seconds"], r[1]["seconds"], r[0]["cpu_seconds"], r[1]["cpu_seconds"])' "$work/fides-$i.json")
    echo "$(cat "$work/time") $secs" >> "$work/fides.times"
    echo "Fides run $i: $(cat "$work/time") (wall s, peak RSS KiB, user s, system s)  $secs (first and second request: s, CPU s)"
done

# 5 and 6. The rows and the summary.
echo
python3 "$REPO/bench/fides/compare.py" "$work/ferry-out-1/access" "$work/fides-1.json" "$work/ferry.times" "$work/fides.times"
