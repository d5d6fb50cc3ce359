#!/usr/bin/env bash
# One walk of a source folder: a dir export of N small files of every kind (vCard,
# iCalendar, .eml, text), by two ferry binaries, under /usr/bin/time and
# `strace -c -f -e trace=getdents64,openat`, in one run.
#
#   bench/one_pass.sh [N]                     N defaults to 100000
#   BEFORE=path/to/old/ferry bench/one_pass.sh 100000
#
# BEFORE is a ferry built before sources were read as streams (each vertical walked the
# tree again); AFTER (default: this tree's release build) reads the tree once. For each:
# seconds, peak RSS, getdents64 calls (directory reads) and the folder count they are
# compared with, and at the end BEFORE / AFTER. The reports must agree on every count.
#
# Environment: BENCH_DIR (default /tmp/ferry-one-pass), PER_DIR (files per folder, 100),
# SKIP_BUILD=1, AFTER=path.
set -euo pipefail
N=${1:-100000}
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "N must be a positive integer: $N" >&2; exit 2; }
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-one-pass}
PER_DIR=${PER_DIR:-100}
for need in strace /usr/bin/time; do
    command -v "$need" >/dev/null || { echo "needs $need (apt-get install strace time)" >&2; exit 1; }
done
[ "${SKIP_BUILD:-0}" = 1 ] || (cd "$REPO" && cargo build --release -q -p ferry-cli)
AFTER=${AFTER:-${CARGO_TARGET_DIR:-$REPO/target}/release/ferry}
data=$BENCH_DIR/tree-$N
if [ ! -f "$data/.complete" ]; then
    rm -rf "$data" && mkdir -p "$data"
    python3 - "$data" "$N" "$PER_DIR" <<'PY'
import os, sys
root, n, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    d = os.path.join(root, f"d{i // per:05d}")
    if i % per == 0:
        os.makedirs(d, exist_ok=True)
    k = i % 10
    if k == 0:
        name, body = f"c{i}.vcf", f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u{i}\r\nFN:Person {i}\r\nEMAIL:p{i}@example.org\r\nEND:VCARD\r\n"
    elif k == 1:
        name, body = f"e{i}.ics", (f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:e{i}\r\nDTSTAMP:20250101T000000Z\r\n"
                                   f"DTSTART:20250102T100000Z\r\nSUMMARY:Meeting {i}\r\nEND:VEVENT\r\nBEGIN:VTODO\r\nUID:t{i}\r\nDTSTAMP:20250101T000000Z\r\nSUMMARY:Task {i}\r\nEND:VTODO\r\nEND:VCALENDAR\r\n")
    elif k == 2:
        name, body = f"m{i}.eml", f"From: a{i}@example.org\r\nTo: b@example.org\r\nSubject: note {i}\r\nMessage-ID: <m{i}@example.org>\r\nDate: Thu, 2 Jan 2025 10:00:00 +0000\r\n\r\nbody {i}\r\n"
    else:
        name, body = f"f{i}.txt", f"file {i}\n"
    with open(os.path.join(d, name), "w") as f:
        f.write(body)
PY
    touch "$data/.complete"
fi
dirs=$(find "$data" -type d | wc -l)
cat "$data"/d0000*/* > /dev/null 2>&1 || true
echo "== $N files in $dirs folders ($data); $(nproc) cores"
run() { # label binary
    local label=$1 bin=$2 out=$BENCH_DIR/out-$1
    rm -rf "$out" && mkdir -p "$out"
    sync
    /usr/bin/time -f '%e %M' -o "$out/time" "$bin" --data-dir "$out/data" -q --json export "dir:$data" -o "$out/p.zip" > "$out/report.json"
    rm -rf "$out/p.zip" "$out/data"
    strace -f -c -e trace=getdents64 -o "$out/strace" "$bin" --data-dir "$out/data" -q export "dir:$data" -o "$out/p.zip" > /dev/null
    local calls secs rss
    calls=$(awk '$NF == "getdents64" { print $4 }' "$out/strace")
    read -r secs rss < "$out/time"
    printf '%-7s %8.2f s  %7.1f MiB  getdents64 %8s calls (%s folders)\n' "$label" "$secs" "$(awk -v r="$rss" 'BEGIN { print r / 1024 }')" "$calls" "$dirs"
    echo "$secs $rss $calls" > "$out/figures"
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["report"]["verticals"]; print("        ", {v: c["transferred"] for v, c in r.items()})' "$out/report.json"
}
[ -n "${BEFORE:-}" ] && run before "$BEFORE"
run after "$AFTER"
if [ -n "${BEFORE:-}" ]; then
    python3 - "$BENCH_DIR" <<'PY'
import json, sys
b, a = (open(f"{sys.argv[1]}/out-{x}/figures").read().split() for x in ("before", "after"))
rb, ra = (json.load(open(f"{sys.argv[1]}/out-{x}/report.json"))["report"]["verticals"] for x in ("before", "after"))
counts = lambda r: {v: c["transferred"] for v, c in r.items() if c["found"]}
same = counts(rb) == counts(ra)
print(f"before/after: time {float(b[0]) / float(a[0]):.2f}x, peak RSS {int(b[1]) / int(a[1]):.2f}x, getdents64 {int(b[2]) / int(a[2]):.2f}x; reports agree: {same}")
if not same:
    sys.exit(1)
PY
fi
