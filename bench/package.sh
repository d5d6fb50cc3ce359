#!/usr/bin/env bash
# Benchmark ferry's export/import against plain tar on a synthetic account.
#
#   bench/package.sh [SCALE]
#
# SCALE (default 0.1) multiplies 100000 contacts / 50000 messages / 10000 photos.
# At 0.1 the account is about 3.2 GB and the run needs about 5x that in free space.
#
# Environment:
#   BENCH_DIR   parent of the temporary run directory   (default /tmp/ferry-bench)
#   KEEP=1      keep the run directory (account, archives, logs) afterwards
#   SEED        generator seed                            (default 1)
#   SKIP_BUILD=1  do not run cargo; use an existing binary
#   FERRY       path to the ferry binary (default ${CARGO_TARGET_DIR:-target}/release/ferry)
#   FORCE=1     run even if the free-space estimate says it will not fit
#   PHOTOS=N    this many photos instead of SCALE x 10000 (photos are 2.6 MB each on
#               average: the full-size account with PHOTOS=200 fits a smaller disk)
#   EXPORT_ONLY=1  measure the export step only (needs the account, tar and zip: ~3x)
set -euo pipefail

SCALE=${1:-0.1}
if ! [[ $SCALE =~ ^([0-9]+\.?[0-9]*|\.[0-9]+)$ ]]; then
    echo "usage: $0 [SCALE]   (SCALE is a positive number, default 0.1)" >&2
    exit 2
fi

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-bench}
SEED=${SEED:-1}

count() { awk -v s="$SCALE" -v n="$1" 'BEGIN { printf "%d", n * s + 0.5 }'; }
CONTACTS=$(count 100000)
MESSAGES=$(count 50000)
PHOTOS=${PHOTOS:-$(count 10000)}
ITEMS=$((CONTACTS + MESSAGES + PHOTOS))
if [ "$ITEMS" -eq 0 ]; then
    echo "SCALE $SCALE gives an empty account" >&2
    exit 2
fi

# ---- tools -----------------------------------------------------------------
if [ ! -x /usr/bin/time ]; then
    echo "== /usr/bin/time missing, installing package 'time'"
    SUDO=
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq time >/dev/null
fi
command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 1; }

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    echo "== cargo build --release -p ferry-cli"
    (cd "$REPO" && cargo build --release -p ferry-cli)
fi
FERRY=${FERRY:-${CARGO_TARGET_DIR:-$REPO/target}/release/ferry}
if [ ! -x "$FERRY" ]; then
    echo "ferry binary not found at $FERRY" >&2
    exit 1
fi

# ---- workspace -------------------------------------------------------------
mkdir -p "$BENCH_DIR"
# estimate: ~360 B/contact, ~103 KB/message, ~2.6 MB/photo; account + tar + zip + 2 extracted trees
EST_KB=$(awk -v c="$CONTACTS" -v m="$MESSAGES" -v p="$PHOTOS" \
    -v k="$([ "${EXPORT_ONLY:-0}" = 1 ] && echo 3 || echo 5)" \
    'BEGIN { printf "%d", (c * 360 + m * 103000 + p * 2650000) * k / 1024 }')
AVAIL_KB=$(df -Pk "$BENCH_DIR" | awk 'NR == 2 { print $4 }')
if [ "$AVAIL_KB" -lt "$EST_KB" ] && [ "${FORCE:-0}" != 1 ]; then
    echo "not enough space in $BENCH_DIR: need ~$((EST_KB / 1024)) MiB, have $((AVAIL_KB / 1024)) MiB (FORCE=1 to try anyway)" >&2
    exit 1
fi

WORK=$(mktemp -d "$BENCH_DIR/run.XXXXXX")
cleanup() {
    if [ "${KEEP:-0}" = 1 ]; then
        echo "== kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

ACCOUNT=$WORK/account
OUT=$WORK/out
LOGS=$WORK/logs
mkdir -p "$OUT" "$LOGS"

echo "== generating account: scale $SCALE, $CONTACTS contacts, $MESSAGES messages, $PHOTOS photos (seed $SEED)"
python3 "$REPO/bench/gen_account.py" "$ACCOUNT" \
    --contacts "$CONTACTS" --messages "$MESSAGES" --photos "$PHOTOS" --seed "$SEED"
IN_BYTES=$(du -sb "$ACCOUNT" | cut -f1)
echo "== input: $IN_BYTES bytes, $ITEMS items"
echo "== ferry: $FERRY ($("$FERRY" --version 2>/dev/null || echo 'version unknown'))"
echo "== host: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"

# ---- measuring ---------------------------------------------------------------
RESULTS=()

# measure STEP TOOL CMD...  -> appends "STEP TOOL SECONDS MAXRSS_KB" to RESULTS
measure() {
    local step=$1 tool=$2
    shift 2
    local tf=$LOGS/$step-$tool.time log=$LOGS/$step-$tool.log
    sync
    echo "-- $step/$tool: $*"
    if ! /usr/bin/time -o "$tf" -f '%e %M' "$@" >"$log" 2>&1; then
        echo "FAILED ($step/$tool): $*" >&2
        tail -n 30 "$log" >&2
        cat "$tf" >&2 || true
        exit 1
    fi
    local secs rss
    read -r secs rss < <(tail -n 1 "$tf")
    RESULTS+=("$step $tool $secs $rss")
}

fresh_data_dir() {
    rm -rf "$OUT/ferry-data"
    mkdir -p "$OUT/ferry-data"
}

# (a) pack
measure export tar tar -cf "$OUT/acct.tar" -C "$ACCOUNT" .
fresh_data_dir
measure export ferry "$FERRY" --data-dir "$OUT/ferry-data" export "dir:$ACCOUNT" -o "$OUT/acct.ferry.zip"

# (b) unpack
mkdir -p "$OUT/untar" "$OUT/imported"
if [ "${EXPORT_ONLY:-0}" != 1 ]; then
    measure import tar tar -xf "$OUT/acct.tar" -C "$OUT/untar"
    fresh_data_dir
    measure import ferry "$FERRY" --data-dir "$OUT/ferry-data" import "$OUT/acct.ferry.zip" --to "dir:$OUT/imported"
fi
sync

# ---- report ------------------------------------------------------------------
TAR_BYTES=$(stat -c %s "$OUT/acct.tar")
ZIP_BYTES=$(stat -c %s "$OUT/acct.ferry.zip")
UNTAR_BYTES=$(du -sb "$OUT/untar" | cut -f1)
IMPORTED_BYTES=$(du -sb "$OUT/imported" | cut -f1)

echo
echo "scale $SCALE: $CONTACTS contacts + $MESSAGES messages + $PHOTOS photos = $ITEMS items, input $(awk -v b="$IN_BYTES" 'BEGIN { printf "%.1f MB", b / 1e6 }')"
printf '%s\n' "${RESULTS[@]}" | awk -v items="$ITEMS" -v bytes="$IN_BYTES" '
    {
        step[NR] = $1; tool[NR] = $2; secs[NR] = $3; rss[NR] = $4
        if ($2 == "tar") tar[$1] = $3
    }
    END {
        printf "%-7s %-6s %9s %11s %9s %14s %12s\n", "step", "tool", "seconds", "items/s", "MB/s", "peak RSS MiB", "ferry/tar"
        for (i = 1; i <= NR; i++) {
            s = secs[i] > 0 ? secs[i] : 0.01
            ratio = "-"
            if (tool[i] == "ferry" && (step[i] in tar)) {
                t = tar[step[i]] > 0 ? tar[step[i]] : 0.01
                ratio = sprintf("%.2f", t / s)
            }
            printf "%-7s %-6s %9.2f %11.0f %9.1f %14.1f %12s\n", step[i], tool[i], secs[i], items / s, bytes / 1e6 / s, rss[i] / 1024, ratio
        }
    }'
echo
echo "ferry/tar = tar_seconds / ferry_seconds (1.00 = as fast as tar, 0.50 = twice as slow)"
awk -v a="$TAR_BYTES" -v b="$ZIP_BYTES" -v c="$UNTAR_BYTES" -v d="$IMPORTED_BYTES" 'BEGIN {
    printf "archive size: tar %.1f MB, ferry zip %.1f MB (%.3f x tar)\n", a / 1e6, b / 1e6, b / a
    printf "restored size (du -sb): untar %.1f MB, ferry import %.1f MB\n", c / 1e6, d / 1e6
}'
if [ "${KEEP:-0}" = 1 ]; then
    echo "logs: $LOGS"
fi
