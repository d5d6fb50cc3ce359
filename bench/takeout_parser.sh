#!/usr/bin/env bash
# The same generated Takeout read by ferry and by google_takeout_parser (PyPI), for the
# files both read.
#
#   bench/takeout_parser.sh [SCALE_GB]       SCALE_GB: 5 by default (the Takeout of bench/takeout.sh)
#
# google_takeout_parser reads an extracted Takeout folder, and of the files this Takeout
# holds it reads Keep's notes (one JSON file each), My Activity (JSON, one file a
# product) and Chrome's History.json; it ignores Google Photos, Contacts, Calendar and
# Mail. ferry reads Keep's notes and lists My Activity and Chrome's history as files it
# does not understand (kept as files when the files vertical is asked for). So:
#   keep   both read the Keep notes of the same extracted folder, each writing what it
#          read: google_takeout_parser parse -a json -f Keep TREE/Takeout > keep.json
#          against ferry --json export archive:TREE --only notes -o keep.zip. Like for like.
#   all    everything each reads of the folder: google_takeout_parser parse -a json
#          against ferry export archive:TREE (notes, and the other files kept as files).
#          Not like for like: shown for what each does with the same input.
#   zips   ferry straight from the parts (archive:PART1 --only notes) against the peer's
#          unzip of the folders it reads plus its parse: what each needs from the download.
# Fails unless both find every Keep note the generator wrote.
#
# Environment:
#   BENCH_DIR, KEEP=1, DATA=DIR (parts of an earlier `KEEP=1 bench/takeout.sh`), SKIP_BUILD=1,
#   FERRY, GEN, FORCE=1: as bench/takeout.sh. VENV: google_takeout_parser's virtualenv
#   (default $CARGO_TARGET_DIR/gtp-venv, made with pip when missing; GTP_VERSION pins it).
set -euo pipefail

SCALE=${1:-5}
if ! [[ $SCALE =~ ^([0-9]+\.?[0-9]*|\.[0-9]+)$ ]] || ! awk -v s="$SCALE" 'BEGIN { exit !(s > 0 && s <= 20) }'; then
    echo "usage: $0 [SCALE_GB]   (0 < SCALE_GB <= 20, default 5)" >&2
    exit 2
fi
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-takeout}
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
VENV=${VENV:-$TARGET/gtp-venv}
GTP_VERSION=${GTP_VERSION:-0.1.13}

. "$REPO/bench/steps.sh"
need_tools /usr/bin/time=time unzip=unzip
if [ ! -x "$VENV/bin/google_takeout_parser" ]; then
    echo "== making $VENV with google_takeout_parser $GTP_VERSION"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "google_takeout_parser==$GTP_VERSION"
fi
GTP=$VENV/bin/google_takeout_parser
takeout_tools

work_dir "$BENCH_DIR" "$(awk -v s="$SCALE" 'BEGIN { printf "%d", s * 1.1e9 * (ENVIRON["DATA"] == "" ? 1.2 : 0.2) / 1024 }')" gtp
echo "== host: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== ferry: $FERRY ($(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')); google_takeout_parser $("$VENV/bin/pip" show google_takeout_parser 2>/dev/null | awk '/^Version/ { print $2 }'), $("$VENV/bin/python" --version)"
if [ -n "${DATA:-}" ]; then
    PARTS_DIR=$DATA
    cp "$DATA/expected.json" "$WORK/expected.json"
else
    PARTS_DIR=$WORK/parts
    echo "== generating a Takeout of $SCALE GB in $PARTS_DIR"
    "$GEN" takeout "$PARTS_DIR" "$SCALE" "${PART_BYTES:-2000000000}" >"$WORK/expected.json"
fi
mapfile -t PARTS < <(find "$PARTS_DIR" -maxdepth 1 -name 'takeout-*.zip' | sort)
read -r NOTES ACTIVITY VISITS < <(python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); print(e["notes"], e["activity"], e["chrome_visits"])' "$WORK/expected.json")
echo "== ${#PARTS[@]} parts; both read: $NOTES Keep notes; google_takeout_parser only: $ACTIVITY My Activity entries, $VISITS Chrome visits"

ROWS=()
# measure CASE TOOL LOG CMD... -> appends "CASE TOOL SECONDS MAXRSS_KB" to ROWS
measure() {
    timed "$1/$2" "${@:3}"
    ROWS+=("$1 $2 $SECS $RSS")
}
ferry_export() { # LOG SOURCE PKG [ARGS...]
    local log=$1 source=$2 pkg=$3
    shift 3
    rm -rf "$OUT/data" && mkdir -p "$OUT/data"
    measure "$CASE" ferry "$log" "$FERRY" --json --data-dir "$OUT/data" export "$source" -o "$pkg" "$@"
}
transferred() { python3 -c 'import json,sys; t=open(sys.argv[1]).read(); print(json.loads(t[t.index("{"):])["report"]["verticals"].get(sys.argv[2],{}).get("transferred",0))' "$@"; }
gtp_count() { python3 -c 'import json,sys,collections; print(dict(collections.Counter(x.get("type") for x in json.load(open(sys.argv[1])))))' "$1"; }

# the peer needs a folder: what it reads, unzipped
TREE=$OUT/tree
CASE=zips measure zips unzip "$OUT/unzip.log" sh -c 'for p in "$@"; do unzip -q -o "$p" "Takeout/Keep/*" "Takeout/My Activity/*" "Takeout/Chrome/*" -d "$0"; s=$?; [ $s = 0 ] || [ $s = 11 ] || exit $s; done' "$TREE" "${PARTS[@]}"
echo "   unzipped what google_takeout_parser reads: $(find "$TREE" -type f | wc -l) files, $(du -sb "$TREE" | cut -f1) bytes"

CASE=keep
measure keep google_takeout_parser "$OUT/gtp-keep.json" "$GTP" parse -a json -f Keep "$TREE/Takeout"
ferry_export "$OUT/ferry-keep.log" "archive:$TREE" "$OUT/keep.zip" --only notes
CASE=all
measure all google_takeout_parser "$OUT/gtp-all.json" "$GTP" parse -a json "$TREE/Takeout"
ferry_export "$OUT/ferry-all.log" "archive:$TREE" "$OUT/all.zip"
CASE=zips
ferry_export "$OUT/ferry-zips.log" "archive:${PARTS[0]}" "$OUT/zips.zip" --only notes

GTP_KEEP=$(python3 -c 'import json,sys; print(sum(1 for x in json.load(open(sys.argv[1])) if x.get("type") == "Keep"))' "$OUT/gtp-keep.json")
echo
echo "   Keep notes: generated $NOTES; google_takeout_parser $GTP_KEEP; ferry (folder) $(transferred "$OUT/ferry-keep.log" notes), ferry (parts) $(transferred "$OUT/ferry-zips.log" notes)"
echo "   google_takeout_parser, everything: $(gtp_count "$OUT/gtp-all.json")"
echo "   ferry, everything: $(transferred "$OUT/ferry-all.log" notes) notes, $(transferred "$OUT/ferry-all.log" files) files kept as not understood"
for n in "$GTP_KEEP" "$(transferred "$OUT/ferry-keep.log" notes)" "$(transferred "$OUT/ferry-zips.log" notes)"; do
    [ "$n" = "$NOTES" ] || { echo "a reader missed Keep notes: $n of $NOTES" >&2; exit 1; }
done

echo
printf '%s\n' "${ROWS[@]}" | awk '
    { c[NR] = $1; tool[NR] = $2; secs[NR] = $3; rss[NR] = $4; if ($2 != "ferry") peer[$1] += $3 }
    END {
        peer["zips"] += peer["keep"]
        printf "%-6s %-22s %9s %14s %11s\n", "case", "tool", "seconds", "peak RSS MiB", "peer/ferry"
        for (i = 1; i <= NR; i++) {
            s = secs[i] > 0 ? secs[i] : 0.01
            r = tool[i] == "ferry" ? sprintf("%.2f", peer[c[i]] / s) : "-"
            printf "%-6s %-22s %9.2f %14.1f %11s\n", c[i], tool[i], secs[i], rss[i] / 1024, r
        }
    }'
echo "peer/ferry = peer seconds / ferry seconds (above 1: ferry is faster). zips: the peer's unzip plus its Keep parse."
[ -n "${DATA:-}" ] || [ "${KEEP:-0}" = 1 ] || rm -rf "$PARTS_DIR"
