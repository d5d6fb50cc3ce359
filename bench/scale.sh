#!/usr/bin/env bash
# Many small items: ferry's export of N one-contact vCard files into a package, side by
# side with `zip -1 -r` and `tar c` of the same files.
#
#   bench/scale.sh N [N...]        e.g. bench/scale.sh 100000 1000000
#
# For each N: generates N files (bench/gen_account.py --card-files N) into
# $BENCH_DIR/cards-N (reused when complete), reads them once to warm the page cache, then
# runs, each under /usr/bin/time with a `sync` before:
#   tar   tar -cf OUT/cards.tar -C DATA .
#   zip   (cd DATA && zip -1 -r -q OUT/cards.zip .)
#   ferry ferry --data-dir OUT/data export dir:DATA -o OUT/cards.ferry.zip
# and prints seconds, items/s, peak RSS and zip_seconds / ferry_seconds. ferry's report
# must say N contacts transferred, or the run fails.
#
# Environment:
#   BENCH_DIR    where data and outputs go          (default /tmp/ferry-scale)
#   PER_DIR      files per subfolder, 0 = one folder (default 0)
#   KEEP_DATA=1  keep the generated files (default: removed after each N)
#   SKIP_BUILD=1 use an existing binary; FERRY=path picks it
#   FORCE=1      run even if the space or inode estimate says it will not fit
set -euo pipefail

if [ $# -eq 0 ]; then
    echo "usage: $0 N [N...]" >&2
    exit 2
fi
for n in "$@"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "N must be a positive integer: $n" >&2; exit 2; }
done

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-scale}
PER_DIR=${PER_DIR:-0}
missing=()
for need in /usr/bin/time=time zip=zip; do
    command -v "${need%%=*}" >/dev/null || missing+=("${need#*=}")
done
if ((${#missing[@]})); then
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
[ "${SKIP_BUILD:-0}" = 1 ] || (cd "$REPO" && cargo build --release -q -p ferry-cli)
FERRY=${FERRY:-${CARGO_TARGET_DIR:-$REPO/target}/release/ferry}
[ -x "$FERRY" ] || { echo "ferry binary not found at $FERRY" >&2; exit 1; }
mkdir -p "$BENCH_DIR"

echo "== host: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), $(df -PT "$BENCH_DIR" | awk 'NR == 2 { print $2 }'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== ferry: $FERRY"

ROWS=()
# measure N TOOL LOG CMD... -> appends "N TOOL SECONDS MAXRSS_KB" to ROWS
measure() {
    local n=$1 tool=$2 log=$3
    shift 3
    sync
    echo "-- $tool: $*"
    if ! /usr/bin/time -o "$log.time" -f '%e %M' "$@" >"$log" 2>&1; then
        echo "FAILED ($tool): $*" >&2
        tail -n 20 "$log" >&2
        exit 1
    fi
    local secs rss
    read -r secs rss < <(tail -n 1 "$log.time")
    ROWS+=("$n $tool $secs $rss")
}

for N in "$@"; do
    DATA=$BENCH_DIR/cards-$N
    [ "$PER_DIR" = 0 ] || DATA=$DATA-per$PER_DIR
    if [ ! -e "$DATA/.complete" ]; then
        # ~4 KiB block per file for the data, ~0.5 KiB per item for each archive
        need_kb=$((N * 6)) have_kb=$(df -Pk "$BENCH_DIR" | awk 'NR == 2 { print $4 }')
        have_inodes=$(df -Pi "$BENCH_DIR" | awk 'NR == 2 { print $4 }')
        if { [ "$have_kb" -lt "$need_kb" ] || [ "$have_inodes" -lt $((N + 1000)) ]; } && [ "${FORCE:-0}" != 1 ]; then
            echo "not enough room in $BENCH_DIR for $N files: need ~$((need_kb / 1024)) MiB and $N inodes, have $((have_kb / 1024)) MiB and $have_inodes (FORCE=1 to try)" >&2
            exit 1
        fi
        rm -rf "$DATA"
        echo "== generating $N card files in $DATA"
        python3 "$REPO/bench/gen_account.py" "$DATA" --contacts 0 --messages 0 --photos 0 \
            --card-files "$N" --per-dir "$PER_DIR" --seed "${SEED:-1}" | tail -n 1
        touch "$DATA/.complete"
    fi
    OUT=$(mktemp -d "$BENCH_DIR/out.XXXXXX")
    # .complete is not a card: the archivers leave it out too
    echo "== $N files, $(du -sb "$DATA/contacts" | cut -f1) bytes; warming the page cache"
    tar -cf - -C "$DATA" contacts | cat >/dev/null
    measure "$N" tar "$OUT/tar.log" tar -cf "$OUT/cards.tar" -C "$DATA" contacts
    measure "$N" zip "$OUT/zip.log" sh -c 'cd "$1" && zip -1 -r -q "$2" contacts' sh "$DATA" "$OUT/cards.zip"
    mkdir "$OUT/data"
    measure "$N" ferry "$OUT/ferry.log" "$FERRY" --json --data-dir "$OUT/data" export "dir:$DATA" -o "$OUT/cards.ferry.zip"
    got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["report"]["verticals"]["contacts"]["transferred"])' "$OUT/ferry.log")
    if [ "$got" != "$N" ]; then
        echo "ferry transferred $got contacts, expected $N" >&2
        exit 1
    fi
    printf '   archive sizes: tar %s, zip %s, ferry %s bytes\n' \
        "$(stat -c %s "$OUT/cards.tar")" "$(stat -c %s "$OUT/cards.zip")" "$(stat -c %s "$OUT/cards.ferry.zip")"
    rm -rf "$OUT"
    [ "${KEEP_DATA:-0}" = 1 ] || rm -rf "$DATA"
done

echo
printf '%s\n' "${ROWS[@]}" | awk '
    { n[NR] = $1; tool[NR] = $2; secs[NR] = $3; rss[NR] = $4; if ($2 == "zip") zip[$1] = $3 }
    END {
        printf "%9s %-6s %9s %10s %14s %10s\n", "items", "tool", "seconds", "items/s", "peak RSS MiB", "ferry/zip"
        for (i = 1; i <= NR; i++) {
            s = secs[i] > 0 ? secs[i] : 0.01
            ratio = tool[i] == "ferry" ? sprintf("%.2f", zip[n[i]] / s) : "-"
            printf "%9d %-6s %9.2f %10.0f %14.1f %10s\n", n[i], tool[i], secs[i], n[i] / s, rss[i] / 1024, ratio
        }
    }'
echo "ferry/zip = zip_seconds / ferry_seconds (1.00 = as fast as zip -1, above 1 = faster)"
