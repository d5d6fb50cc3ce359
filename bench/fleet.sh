#!/usr/bin/env bash
# The job store for a fleet, measured with a release build:
#
#  1. Throughput of `ferry worker`: JOBS small transfers (ITEMS files each, dir -> dir) are
#     queued with `transfer --detach` on PostgreSQL, then 1, 2 and 4 workers (one job at a
#     time each) run them; the time from the workers' start to the last job completed gives
#     jobs per minute.
#  2. The store's cost per item: one transfer of BIG small files (dir -> dir), once on the
#     SQLite store and once on PostgreSQL, on the same machine; and the same again with
#     --dry-run (the source is read and every item committed, nothing written to the
#     destination), which leaves the store's part more alone. Prints the PostgreSQL/SQLite
#     ratio of each.
#
#   bench/fleet.sh                    JOBS=200 ITEMS=100 BIG=100000 WORKERS="1 2 4"
#   PG=postgres://postgres@127.0.0.1:5432/postgres bench/fleet.sh
#
# PG is a URL on a server whose role may create databases (default: FERRY_TEST_POSTGRES,
# else the machine's server as `postgres`); each run makes its own database and drops it.
# Environment: BENCH_DIR (default /tmp/ferry-fleet-bench), SKIP_BUILD=1, FERRY=path,
# LEASE (lease seconds, default 30), PARTS ("1 2" to run one part only).
set -euo pipefail
JOBS=${JOBS:-200}
ITEMS=${ITEMS:-100}
BIG=${BIG:-100000}
WORKERS=${WORKERS:-"1 2 4"}
PARTS=${PARTS:-"1 2"}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-fleet-bench}
PG=${PG:-${FERRY_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}}
for need in psql python3 /usr/bin/time; do
    command -v "$need" >/dev/null || { echo "needs $need (apt-get install postgresql-client python3 time)" >&2; exit 1; }
done
[ "${SKIP_BUILD:-0}" = 1 ] || (cd "$REPO" && cargo build --release -q -p ferry-cli)
FERRY=${FERRY:-${CARGO_TARGET_DIR:-$REPO/target}/release/ferry}
export FERRY_SECRET_KEY=${FERRY_SECRET_KEY:-$(python3 -c 'import secrets; print(secrets.token_hex(32))')}
export FERRY_LEASE_SECONDS=${LEASE:-30}
unset FERRY_DATABASE
export PGOPTIONS="--client-min-messages=warning"
mkdir -p "$BENCH_DIR"

# `url` with its database replaced
with_db() { python3 - "$1" "$2" <<'PY'
import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))
PY
}
PIDS=()
# the databases it makes (new_db runs in a subshell: the names are known here instead)
DBS=(ferry_bench_big ferry_bench_big_dry)
for n in $WORKERS; do DBS+=("ferry_bench_fleet_$n"); done
cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for d in "${DBS[@]}"; do psql -q "$PG" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
new_db() { # NAME -> its URL
    psql -q "$PG" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
    with_db "$PG" "$1"
}
tree() { # DIR N: N small text files, 100 a folder (DIR.complete marks it made)
    [ -f "$1.complete" ] && return
    rm -rf "$1" && mkdir -p "$1"
    python3 - "$1" "$2" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, f"d{i // 100:05d}")
    if i % 100 == 0:
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i}.txt"), "w") as f:
        f.write(f"file {i}\n" * (1 + i % 20))
PY
    touch "$1.complete"
}
echo "== ferry $("$FERRY" --version | cut -d' ' -f2), $(nproc) cores, PostgreSQL $(psql -tA "$PG" -c 'SHOW server_version')"

if [[ " $PARTS " == *" 1 "* ]]; then
    src=$BENCH_DIR/small-$ITEMS
    tree "$src" "$ITEMS"
    echo "== 1. $JOBS queued transfers of $ITEMS files each (dir -> dir), run by N workers"
    for n in $WORKERS; do
        url=$(new_db "ferry_bench_fleet_$n")
        run=$BENCH_DIR/fleet-$n
        rm -rf "$run" && mkdir -p "$run"
        for j in $(seq 1 "$JOBS"); do
            "$FERRY" --data-dir "$run/submit" --database "$url" -q transfer --detach --from "dir:$src" --to "dir:$run/out/$j" >/dev/null
        done
        start=$(date +%s.%N)
        PIDS=()
        for w in $(seq 1 "$n"); do
            "$FERRY" --data-dir "$run/w$w" --database "$url" -q worker 2>"$run/w$w.log" &
            PIDS+=($!)
        done
        while [ "$(psql -tA "$url" -c "SELECT count(*) FROM jobs WHERE state NOT IN ('completed', 'failed', 'completed_with_errors')")" != 0 ]; do
            sleep 0.2
        done
        end=$(date +%s.%N)
        for p in "${PIDS[@]}"; do kill -TERM "$p"; done
        for p in "${PIDS[@]}"; do wait "$p" || true; done
        PIDS=()
        done_jobs=$(psql -tA "$url" -c "SELECT count(*) FROM jobs WHERE state = 'completed'")
        items=$(psql -tA "$url" -c "SELECT count(*) FROM job_items")
        python3 - "$n" "$start" "$end" "$done_jobs" "$items" <<'PY'
import sys
n, start, end, done, items = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
s = end - start
print(f"   {n} worker(s): {done} jobs completed ({items} items) in {s:6.1f} s = {done / s * 60:6.1f} jobs/min")
PY
    done
fi

if [[ " $PARTS " == *" 2 "* ]]; then
    src=$BENCH_DIR/big-$BIG
    tree "$src" "$BIG"
    cat "$src"/d0000*/* >/dev/null
    echo "== 2. one transfer of $BIG files (dir -> dir), SQLite and PostgreSQL job stores"
    one() { # LABEL DATABASE [--dry-run]
        local label=$1 out=$BENCH_DIR/big-out-$1 db=$2
        shift 2
        rm -rf "$out" && mkdir -p "$out"
        sync
        /usr/bin/time -f '%e %M' -o "$out/time" "$FERRY" --data-dir "$out/data" ${db:+--database "$db"} -q --json \
            transfer --from "dir:$src" --to "dir:$out/dst" "$@" >"$out/report.json"
        read -r secs rss <"$out/time"
        echo "$secs" >"$out/secs"
        python3 - "$label" "$secs" "$rss" "$BIG" "$out/report.json" <<'PY'
import json, sys
label, secs, rss, n = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
t = json.load(open(sys.argv[5]))["report"]["verticals"]["files"]
print(f"   {label:<18} {secs:7.1f} s  {secs / n * 1e6:7.1f} µs/item  peak {rss / 1024:6.1f} MiB  ({t['transferred']} transferred, {t['failed']} failed)")
PY
        rm -rf "$out/dst"
    }
    one sqlite ""
    one postgres "$(new_db ferry_bench_big)"
    one sqlite-dry-run "" --dry-run
    one postgres-dry-run "$(new_db ferry_bench_big_dry)" --dry-run
    python3 - "$BENCH_DIR" <<'PY'
import sys
r = {k: float(open(f"{sys.argv[1]}/big-out-{k}/secs").read()) for k in ("sqlite", "postgres", "sqlite-dry-run", "postgres-dry-run")}
print(f"   PostgreSQL / SQLite per item: transfer {r['postgres'] / r['sqlite']:.2f}x, dry run {r['postgres-dry-run'] / r['sqlite-dry-run']:.2f}x")
PY
fi
