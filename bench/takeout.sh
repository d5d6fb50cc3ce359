#!/usr/bin/env bash
# A multi-part Google Takeout into a package: ferry against what a person does by hand.
#
#   bench/takeout.sh [SCALE_GB]        SCALE_GB: 5 by default, at most 20
#
# Generates a Takeout of about SCALE_GB x 10^9 bytes with crates/cli/examples/gen_archive.rs
# (the layout of the archive tests' fixtures, tests/fixtures/takeout/large.rs), written as
# 2 GB parts takeout-20250101T120000Z-00N.zip (photos stored, text deflated). Then, each
# under /usr/bin/time with a `sync` before:
#   peer   unzip -q -o PART -d TREE   for every part, then   tar -cf OUT/takeout.tar -C TREE .
#   ferry  ferry --json --data-dir OUT/data export archive:PART1 -o OUT/takeout.ferry.zip
# and `ferry verify` of the package. Prints seconds, MB/s (parts' bytes / seconds), peak
# RSS, and peer_seconds / ferry_seconds. Fails unless ferry's report finds every item the
# generator says it wrote (contacts, events, messages, photos and videos, notes), lists
# every file no rule reads, and the package verifies.
#
# Environment:
#   BENCH_DIR    parent of the run directory        (default /tmp/ferry-takeout)
#   KEEP=1       keep the run directory (parts, package, logs)
#   DATA=DIR     use the parts already in DIR (made by an earlier KEEP=1 run); not removed
#   PART_BYTES   part size                           (default 2000000000, Takeout's 2 GB)
#   SKIP_PEER=1  run ferry alone (at 20 GB the tree and the tar need twice the disk):
#                the ratio is not printed
#   SKIP_BUILD=1 do not run cargo; FERRY=path and GEN=path pick the binaries
#   FORCE=1      run even if the free-space estimate says it will not fit
set -euo pipefail

SCALE=${1:-5}
if ! [[ $SCALE =~ ^([0-9]+\.?[0-9]*|\.[0-9]+)$ ]] || ! awk -v s="$SCALE" 'BEGIN { exit !(s > 0 && s <= 20) }'; then
    echo "usage: $0 [SCALE_GB]   (0 < SCALE_GB <= 20, default 5)" >&2
    exit 2
fi
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-takeout}
PART_BYTES=${PART_BYTES:-2000000000}
TARGET=${CARGO_TARGET_DIR:-$REPO/target}

. "$REPO/bench/steps.sh"
need_tools /usr/bin/time=time unzip=unzip
takeout_tools

# parts, the unzipped tree and the tar at once (the tree and the tar are removed before
# ferry runs; its package is about the parts' size)
work_dir "$BENCH_DIR" "$(awk -v s="$SCALE" 'BEGIN { printf "%d", s * 1.1e9 * ((ENVIRON["DATA"] == "" ? 1 : 0) + (ENVIRON["SKIP_PEER"] == "1" ? 1 : 2)) / 1024 }')" run

echo "== host: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), $(df -PT "$BENCH_DIR" | awk 'NR == 2 { print $2 }'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== ferry: $FERRY ($(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'))"
if [ -n "${DATA:-}" ]; then
    PARTS_DIR=$DATA
    [ -s "$DATA/expected.json" ] || { echo "$DATA has no expected.json (made by an earlier run)" >&2; exit 1; }
    cp "$DATA/expected.json" "$WORK/expected.json"
else
    PARTS_DIR=$WORK/parts
    echo "== generating a Takeout of $SCALE GB in $PARTS_DIR"
    /usr/bin/time -o "$WORK/gen.time" -f '%e %M' "$GEN" takeout "$PARTS_DIR" "$SCALE" "$PART_BYTES" >"$WORK/expected.json"
    cp "$WORK/expected.json" "$PARTS_DIR/expected.json"
    read -r gsecs grss <"$WORK/gen.time"
    echo "   generated in ${gsecs}s, peak RSS $((grss / 1024)) MiB"
fi
mapfile -t PARTS < <(find "$PARTS_DIR" -maxdepth 1 -name 'takeout-*.zip' | sort)
IN_BYTES=$(cat "${PARTS[@]}" /dev/null | wc -c)
python3 - "$WORK/expected.json" <<'EOF'
import json, sys
e = json.load(open(sys.argv[1]))
print(f"== {len(e['parts'])} parts, {e['bytes'] / 1e9:.2f} GB: {e['media']} photos and videos ({e['videos']} videos, {e['edited']} edited copies, "
      f"{e['album_copies']} album copies), {e['messages']} messages ({e['mbox_bytes'] / 1e6:.0f} MB mbox), {e['contacts']} contacts, "
      f"{e['events']} events, {e['notes']} Keep notes, {e['activity']} My Activity entries, {e['chrome_visits']} Chrome visits")
EOF

ROWS=()
# measure TOOL LOG CMD... -> appends "TOOL SECONDS MAXRSS_KB" to ROWS
measure() {
    timed "$1" "${@:2}"
    ROWS+=("$1 $SECS $RSS")
}

# the peer: what a person does by hand, every part unzipped into one folder, then packed
TREE_FILES=0 TAR_BYTES=0
if [ "${SKIP_PEER:-0}" != 1 ]; then
    measure unzip "$OUT/unzip.log" sh -c 'for p in "$@"; do unzip -q -o "$p" -d "$0" || exit 1; done' "$OUT/tree" "${PARTS[@]}"
    measure tar "$OUT/tar.log" tar -cf "$OUT/takeout.tar" -C "$OUT/tree" .
    TREE_FILES=$(find "$OUT/tree" -type f | wc -l)
    TAR_BYTES=$(stat -c %s "$OUT/takeout.tar")
    rm -rf "$OUT/tree" "$OUT/takeout.tar"
fi

mkdir -p "$OUT/data"
measure ferry "$OUT/ferry.log" "$FERRY" --json --data-dir "$OUT/data" export "archive:${PARTS[0]}" -o "$OUT/takeout.ferry.zip"
measure verify "$OUT/verify.log" "$FERRY" --data-dir "$OUT/data" verify "$OUT/takeout.ferry.zip"
PKG_BYTES=$(stat -c %s "$OUT/takeout.ferry.zip")

# what ferry found, against what was written
python3 - "$WORK/expected.json" "$OUT/ferry.log" <<'EOF'
import json, sys
e = json.load(open(sys.argv[1]))
out = open(sys.argv[2]).read()
r = json.loads(out[out.index("{"):])["report"]["verticals"]
want = {"contacts": e["contacts"], "calendar": e["events"], "mail": e["messages"], "media": e["media"], "notes": e["notes"], "web": e["chrome_visits"]}
bad = []
for v, n in want.items():
    got = r.get(v, {})
    print(f"   {v:9} transferred {got.get('transferred', 0):>7}  expected {n:>7}  failed {got.get('failed', 0)}")
    if got.get("transferred") != n or got.get("failed", 0):
        bad.append(v)
# files no rule reads: kept as files, with why
files = r.get("files", {})
kept = e["not_understood"]
print(f"   files     kept as not understood {files.get('transferred', 0)}, expected {kept}")
if files.get("transferred") != kept or files.get("failed", 0):
    bad.append("files")
# listed, not items: album copies, the year-folder sidecars of photos also in an album
# (their album copy's sidecar is read), label files, Keep's HTML, and the index page (one
# id, however many parts repeat it)
listed = e["album_copies"] + e["album_sidecars"] + e["label_files"] + e["repeats"] + 1
print(f"   files     listed as repeats {files.get('skipped', 0)}, expected {listed}")
if files.get("skipped") != listed:
    bad.append("repeats")
if bad:
    sys.exit(f"ferry's counts differ from the generator's: {', '.join(bad)}")
EOF

echo
printf '%s\n' "${ROWS[@]}" | awk -v bytes="$IN_BYTES" '
    { tool[NR] = $1; secs[NR] = $2; rss[NR] = $3; if ($1 == "unzip" || $1 == "tar") peer += $2; if ($1 == "unzip" || $1 == "tar") prss = (rss[NR] > prss ? rss[NR] : prss) }
    END {
        printf "%-12s %9s %9s %14s %11s\n", "step", "seconds", "MB/s", "peak RSS MiB", "peer/ferry"
        for (i = 1; i <= NR; i++) {
            s = secs[i] > 0 ? secs[i] : 0.01
            ratio = tool[i] == "ferry" && peer > 0 ? sprintf("%.2f", peer / s) : "-"
            name = tool[i] == "unzip" || tool[i] == "tar" ? "peer " tool[i] : tool[i]
            printf "%-12s %9.2f %9.1f %14.1f %11s\n", name, secs[i], bytes / 1e6 / s, rss[i] / 1024, ratio
            if (tool[i] == "tar") printf "%-12s %9.2f %9.1f %14.1f %11s\n", "peer total", peer, bytes / 1e6 / peer, prss / 1024, "-"
        }
    }'
echo "peer/ferry = (unzip + tar seconds) / ferry export seconds (above 1: ferry is faster); MB/s = parts' bytes / seconds"
awk -v a="$IN_BYTES" -v b="$TAR_BYTES" -v c="$PKG_BYTES" -v f="$TREE_FILES" 'BEGIN {
    printf "sizes: parts %.1f MB, tar %.1f MB (%d files), ferry package %.1f MB\n", a / 1e6, b / 1e6, f, c / 1e6 }'
[ -n "${DATA:-}" ] || [ "${KEEP:-0}" = 1 ] || rm -rf "$PARTS_DIR"
