#!/usr/bin/env bash
# An Apple Health export read by ferry and by healthkit-to-sqlite (PyPI), on the same file.
#
#   bench/apple_health.sh [SIZE_GB]        SIZE_GB: 2 by default
#
# Generates apple_health_export/ (bench/gen_health.py: export.xml of SIZE_GB x 10^9 bytes,
# with the DOCTYPE the Health app writes, Records of many types, Correlations, Workouts
# with WorkoutRoute, ActivitySummary; the workouts' GPX routes beside it). Then, each under
# /usr/bin/time with a `sync` before:
#   reader        read_health export.xml            ferry's reader (ferry_verticals::health::
#                                                   read_apple_health, crates/verticals/examples)
#   reader+items  read_health export.xml --items    the same, each record made the item the
#                                                   connector hands on (JSON, SHA-256 version)
#   peer-reader   healthkit-to-sqlite's own pull parser (healthkit_to_sqlite.utils.find_all_tags
#                 over Record, Workout, ActivitySummary), counting what it yields
#   peer          healthkit-to-sqlite --xml -s export.xml hk.db   (parse and write SQLite)
# and, when the archive connector reads Apple Health (crates/connectors/src/archive/layouts.rs
# names it), the export zipped as the Health app shares it (`zip -1 -r export.zip
# apple_health_export`, not timed) and:
#   archive       ferry --json export archive:export.zip -o health.ferry.zip
#   peer-zip      healthkit-to-sqlite -s export.zip hk.db
# Prints seconds, items per second, peak RSS and the ratios reader/peer-reader and
# ferry/peer (peer seconds / ferry seconds). Fails unless ferry's reader finds every
# top-level element the generator wrote.
#
# Environment:
#   BENCH_DIR (default /tmp/ferry-health), KEEP=1 keeps the run directory, SEED (default 1),
#   SKIP_BUILD=1 (READ_HEALTH=path, FERRY=path), SKIP_PEER=1 runs ferry only, VENV:
#   healthkit-to-sqlite's virtualenv (default $CARGO_TARGET_DIR/hk-venv, made with pip).
set -euo pipefail

SIZE=${1:-2}
if ! [[ $SIZE =~ ^([0-9]+\.?[0-9]*|\.[0-9]+)$ ]] || ! awk -v s="$SIZE" 'BEGIN { exit !(s > 0 && s <= 20) }'; then
    echo "usage: $0 [SIZE_GB]   (0 < SIZE_GB <= 20, default 2)" >&2
    exit 2
fi
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-health}
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
VENV=${VENV:-$TARGET/hk-venv}
ARCHIVE=0
grep -q '"Apple Health"' "$REPO/crates/connectors/src/archive/layouts.rs" && ARCHIVE=1

. "$REPO/bench/steps.sh"
need_tools /usr/bin/time=time zip=zip
if [ "${SKIP_PEER:-0}" != 1 ] && [ ! -x "$VENV/bin/healthkit-to-sqlite" ]; then
    echo "== making $VENV with healthkit-to-sqlite"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "healthkit-to-sqlite==${HK_VERSION:-1.0.1}"
fi
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    echo "== cargo build --release -p ferry-verticals --example read_health"
    (cd "$REPO" && cargo build --release -q -p ferry-verticals --example read_health)
    if [ "$ARCHIVE" = 1 ]; then
        (cd "$REPO" && cargo build --release -q -p ferry-cli --bin ferry)
    fi
fi
READ_HEALTH=${READ_HEALTH:-$TARGET/release/examples/read_health}
FERRY=${FERRY:-$TARGET/release/ferry}
[ -x "$READ_HEALTH" ] || { echo "not found: $READ_HEALTH" >&2; exit 1; }

# export.xml, the peer's database (about as large), the zip (a tenth) and ferry's package
work_dir "$BENCH_DIR" "$(awk -v s="$SIZE" 'BEGIN { printf "%d", s * 1e9 * 2.6 / 1024 }')" run
XML=$WORK/apple_health_export/export.xml

echo "== host: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== ferry: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'); archive connector reads Apple Health: $([ "$ARCHIVE" = 1 ] && echo yes || echo 'not yet')"
echo "== generating export.xml of $SIZE GB"
python3 "$REPO/bench/gen_health.py" "$WORK" "$SIZE" --seed "${SEED:-1}" >"$WORK/expected.json"
read -r ITEMS BYTES PEER_ITEMS < <(python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); print(e["items"], e["bytes"], e["records"] + 2 * e["correlations"] + e["workouts"] + e["summaries"])' "$WORK/expected.json")
echo "   $(python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); print(", ".join(f"{k} {v}" for k, v in e.items()))' "$WORK/expected.json")"

ROWS=()
# measure TOOL ITEMS LOG CMD... -> appends "TOOL SECONDS MAXRSS_KB ITEMS" to ROWS (ITEMS: a
# number, or "json" to take the count from the command's JSON output)
measure() {
    local tool=$1 items=$2
    timed "$tool" "${@:3}"
    ROWS+=("$tool $SECS $RSS $items")
}
json_items() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["items"])' "$1"; }

measure reader "$ITEMS" "$OUT/reader.json" "$READ_HEALTH" "$XML"
got=$(json_items "$OUT/reader.json")
[ "$got" = "$ITEMS" ] || { echo "ferry's reader found $got items, the generator wrote $ITEMS" >&2; cat "$OUT/reader.json" >&2; exit 1; }
measure reader+items "$ITEMS" "$OUT/items.json" "$READ_HEALTH" "$XML" --items
if [ "${SKIP_PEER:-0}" != 1 ]; then
    measure peer-reader "$PEER_ITEMS" "$OUT/peer-reader.log" "$VENV/bin/python" -c '
import sys
from healthkit_to_sqlite.utils import find_all_tags
n = 0
with open(sys.argv[1], "rb") as fp:
    for tag, el in find_all_tags(fp, {"Record", "Workout", "ActivitySummary"}):
        n += 1
        el.clear()
print(n)' "$XML"
    [ "$(cat "$OUT/peer-reader.log")" = "$PEER_ITEMS" ] || echo "   note: the peer's reader yielded $(cat "$OUT/peer-reader.log"), expected $PEER_ITEMS"
    measure peer "$PEER_ITEMS" "$OUT/peer.log" "$VENV/bin/healthkit-to-sqlite" --xml -s "$XML" "$OUT/hk.db"
    rm -f "$OUT/hk.db"
fi
if [ "$ARCHIVE" = 1 ]; then
    (cd "$WORK" && zip -q -1 -r export.zip apple_health_export)
    mkdir -p "$OUT/data"
    measure archive "$ITEMS" "$OUT/archive.log" "$FERRY" --json --data-dir "$OUT/data" export "archive:$WORK/export.zip" -o "$OUT/health.ferry.zip"
    python3 - "$OUT/archive.log" "$ITEMS" <<'EOF'
import json, sys
t = open(sys.argv[1]).read()
r = json.loads(t[t.index("{"):])["report"]["verticals"].get("health", {})
print(f"   archive: health transferred {r.get('transferred')}, failed {r.get('failed')}, expected {sys.argv[2]}")
if r.get("transferred") != int(sys.argv[2]):
    sys.exit("ferry's archive export did not transfer every item")
EOF
    rm -f "$OUT/health.ferry.zip"
    if [ "${SKIP_PEER:-0}" != 1 ]; then
        measure peer-zip "$PEER_ITEMS" "$OUT/peer-zip.log" "$VENV/bin/healthkit-to-sqlite" -s "$WORK/export.zip" "$OUT/hk-zip.db"
    fi
fi

echo
printf '%s\n' "${ROWS[@]}" | awk -v bytes="$BYTES" '
    { tool[NR] = $1; secs[NR] = $2; rss[NR] = $3; items[NR] = $4; t[$1] = $2 }
    END {
        printf "%-13s %9s %12s %9s %14s %10s\n", "tool", "seconds", "items/s", "MB/s", "peak RSS MiB", "ratio"
        for (i = 1; i <= NR; i++) {
            s = secs[i] > 0 ? secs[i] : 0.01
            r = "-"
            if (tool[i] == "reader" && ("peer-reader" in t)) r = sprintf("%.2f", t["peer-reader"] / s)
            if (tool[i] == "reader+items" && ("peer" in t)) r = sprintf("%.2f", t["peer"] / s)
            if (tool[i] == "archive" && ("peer-zip" in t)) r = sprintf("%.2f", t["peer-zip"] / s)
            printf "%-13s %9.2f %12.0f %9.1f %14.1f %10s\n", tool[i], secs[i], items[i] / s, bytes / 1e6 / s, rss[i] / 1024, r
        }
    }'
echo "ratio = peer seconds / ferry seconds (above 1: ferry is faster): reader against peer-reader,"
echo "reader+items against peer (its SQLite written), archive against peer-zip. items/s: each tool's own count"
echo "(the peer counts a correlation's two samples again and reads no Correlation or Me); MB/s: export.xml's bytes."
