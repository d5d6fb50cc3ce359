#!/usr/bin/env bash
# What reading a Google Takeout in place as a .tgz costs, against extracting it first with
# `tar -xzf` and reading the folder: a synthetic Takeout of SIZE_MB (photos that do not
# compress with their sidecars, an mbox, contacts, a calendar, Keep notes, Drive files).
#
#   bench/archive_tgz.sh [SIZE_MB]          SIZE_MB defaults to 1000
#   ORDER=shuffled bench/archive_tgz.sh     the tar's entries in a random order
#
# Steps, each after a sync, under /usr/bin/time (seconds, peak RSS), each ferry step with
# a new empty data dir:
#   extract  tar -xzf T.tgz -C OUT/x
#   folder   ferry export archive:OUT/x     -o OUT/from-folder.zip
#   tgz      ferry export archive:T.tgz     -o OUT/from-tgz.zip
# Prints the table, tgz / (extract + folder), tgz - folder (what reading in place costs
# beyond a folder) and what ferry logs of the tgz read (decompressors started, bytes
# decompressed only to move forward). The two packages must count the same items.
#
# Environment: BENCH_DIR (default /tmp/ferry-tgz-bench), KEEP=1 (keep the run
# directory), SKIP_BUILD=1, FERRY=path, ORDER=name|shuffled (default name: as
# `tar --sort=name` writes it), SEED (default 1).
set -euo pipefail
SIZE_MB=${1:-1000}
[[ $SIZE_MB =~ ^[1-9][0-9]*$ ]] || { echo "SIZE_MB must be a positive integer: $SIZE_MB" >&2; exit 2; }
ORDER=${ORDER:-name}
[[ $ORDER = name || $ORDER = shuffled ]] || { echo "ORDER is name or shuffled" >&2; exit 2; }
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-tgz-bench}
SEED=${SEED:-1}
for need in python3 tar gzip /usr/bin/time; do
    command -v "$need" >/dev/null || { echo "needs $need (apt-get install python3 tar gzip time)" >&2; exit 1; }
done
[ "${SKIP_BUILD:-0}" = 1 ] || (cd "$REPO" && cargo build --release -q -p ferry-cli)
FERRY=${FERRY:-${CARGO_TARGET_DIR:-$REPO/target}/release/ferry}
[ -x "$FERRY" ] || { echo "ferry binary not found at $FERRY" >&2; exit 1; }

mkdir -p "$BENCH_DIR"
run=$(mktemp -d "$BENCH_DIR/run.XXXXXX")
cleanup() { [ "${KEEP:-0}" = 1 ] && echo "kept $run" || rm -rf "$run"; }
trap cleanup EXIT

echo "== generating a Takeout of about $SIZE_MB MB"
python3 - "$run/tree" "$SIZE_MB" "$SEED" <<'PY'
import json, os, random, sys
root, size_mb, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
T = os.path.join(root, "Takeout")
def put(rel, data):
    p = os.path.join(T, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
budget = size_mb * 1_000_000
# photos, 88%: year folders, a few albums holding copies of some of them
photos_bytes, n = int(budget * 0.88), 0
albums = ["Lisbon 2021", "Family", "Hiking"]
while photos_bytes > 0:
    size = rng.randint(800_000, 4_500_000)
    year = 2018 + n % 6
    name = f"IMG_{year}{n % 12 + 1:02d}{n % 28 + 1:02d}_{n:06d}.jpg"
    body = b"\xff\xd8\xff\xdb" + rng.randbytes(size)
    folders = [f"Photos from {year}"] + ([albums[n % 3]] if n % 7 == 0 else [])
    for folder in folders:
        put(f"Google Photos/{folder}/{name}", body)
        if n % 10 != 9:  # one in ten without a sidecar: its EXIF, then its name
            put(f"Google Photos/{folder}/{name}.supplemental-metadata.json", json.dumps({
                "title": name, "description": "", "imageViews": "1",
                "photoTakenTime": {"timestamp": str(1514764800 + n * 3600), "formatted": "x"},
                "geoData": {"latitude": 38.7 + n / 1e4, "longitude": -9.1, "altitude": 0.0, "latitudeSpan": 0.0, "longitudeSpan": 0.0}}))
    photos_bytes -= size * len(folders)
    n += 1
for a in albums:
    put(f"Google Photos/{a}/metadata.json", json.dumps({"title": a, "description": "", "access": "protected"}))
# mail, 8%
words = "the quick brown fox jumps over a lazy dog while plans for the quarter move ahead".split()
os.makedirs(os.path.join(T, "Mail"), exist_ok=True)
with open(os.path.join(T, "Mail", "All mail Including Spam and Trash.mbox"), "w") as f:
    left, i = int(budget * 0.08), 0
    while left > 0:
        body = " ".join(rng.choice(words) for _ in range(rng.randint(100, 900)))
        msg = (f"From 1{i:018d}@xxx Mon Jan 04 10:00:00 +0000 2021\nX-GM-THRID: {i}\nX-Gmail-Labels: Inbox,Opened\n"
               f"From: p{i % 300}@example.com\nTo: me@example.com\nSubject: message {i}\nDate: Mon, 4 Jan 2021 10:00:00 +0000\n"
               f"Message-ID: <m{i}@example.com>\n\n{body}\n\n")
        f.write(msg)
        left -= len(msg)
        i += 1
# contacts, a calendar, Keep, Drive
put("Contacts/All Contacts/All Contacts.vcf", "".join(
    f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Person {i}\r\nN:{i};Person;;;\r\nEMAIL;TYPE=INTERNET:p{i}@example.com\r\nCATEGORIES:myContacts\r\nEND:VCARD\r\n" for i in range(3000)))
put("Calendar/me@example.com.ics", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\n" + "".join(
    f"BEGIN:VEVENT\r\nDTSTART:2021{i % 12 + 1:02d}{i % 28 + 1:02d}T090000Z\r\nDTEND:2021{i % 12 + 1:02d}{i % 28 + 1:02d}T100000Z\r\nUID:e{i}@google.com\r\nSUMMARY:Event {i}\r\nEND:VEVENT\r\n" for i in range(1000)) + "END:VCALENDAR\r\n")
for i in range(300):
    put(f"Keep/Note {i}.json", json.dumps({"color": "DEFAULT", "isTrashed": False, "isPinned": False, "isArchived": False, "title": f"Note {i}",
        "textContent": " ".join(rng.choice(words) for _ in range(60)), "userEditedTimestampUsec": 1609754400000000 + i, "createdTimestampUsec": 1609750000000000}))
    put(f"Keep/Note {i}.html", f"<html><body>Note {i}</body></html>")
for i in range(50):
    put(f"Drive/Reports/report-{i}.txt", " ".join(rng.choice(words) for _ in range(20000)))
put("archive_browser.html", "<html>index of this archive</html>")
PY
tgz=$run/takeout-20250101T120000Z-001.tgz
echo "== writing $(basename "$tgz") (entries in $ORDER order)"
if [ "$ORDER" = name ]; then
    tar --sort=name -czf "$tgz" -C "$run/tree" Takeout
else
    (cd "$run/tree" && find Takeout -type f | python3 -c "import random,sys; l=sys.stdin.read().split('\n')[:-1]; random.Random($SEED).shuffle(l); print('\n'.join(l))") > "$run/list"
    tar -czf "$tgz" -C "$run/tree" --no-recursion -T "$run/list"
fi
rm -rf "$run/tree"
input_mb=$(du -sm "$tgz" | cut -f1)
unpacked_mb=$(tar -tvzf "$tgz" | awk '{s += $3} END {printf "%d", s / 1e6}')

step() { # NAME COMMAND...: seconds and peak RSS (MiB) into $run/NAME.time
    local name=$1; shift
    sync
    /usr/bin/time -f '%e %M' -o "$run/$name.time" "$@" >"$run/$name.out" 2>"$run/$name.err" || {
        echo "$name failed:" >&2; cat "$run/$name.err" >&2; exit 1; }
}
mkdir -p "$run/x"
echo "== extract"; step extract tar -xzf "$tgz" -C "$run/x"
echo "== folder";  step folder "$FERRY" --data-dir "$run/data-folder" --json export "archive:$run/x" -o "$run/from-folder.zip"
rm -rf "$run/x"
echo "== tgz";     FERRY_LOG=ferry_connectors=debug step tgz "$FERRY" --data-dir "$run/data-tgz" --json export "archive:$tgz" -o "$run/from-tgz.zip"

counts() { python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['report']['verticals']; print(' '.join(f'{v}={r[v].get(\"transferred\",0)}' for v in sorted(r)))" "$1"; }
a=$(counts "$run/folder.out"); b=$(counts "$run/tgz.out")
[ "$a" = "$b" ] || { echo "the packages differ: folder: $a; tgz: $b" >&2; exit 1; }

read -r te tm <"$run/extract.time"; read -r fe fm <"$run/folder.time"; read -r ge gm <"$run/tgz.time"
echo
echo "Takeout .tgz: $input_mb MB, unpacking to $unpacked_mb MB; entries in $ORDER order; items: $b"
printf '%-8s %-44s %9s %13s\n' step command seconds "peak RSS MiB"
printf '%-8s %-44s %9s %13d\n' extract "tar -xzf T.tgz" "$te" $((tm / 1024))
printf '%-8s %-44s %9s %13d\n' folder "ferry export archive:FOLDER" "$fe" $((fm / 1024))
printf '%-8s %-44s %9s %13d\n' tgz "ferry export archive:T.tgz" "$ge" $((gm / 1024))
awk -v t="$te" -v f="$fe" -v g="$ge" 'BEGIN {
    printf "tgz / (extract + folder) = %.2f;  tgz - folder = %.1f s (%.2f x the extraction)\n", g / (t + f), g - f, (g - f) / t }'
grep -ho 'started=[0-9]* skipped=[0-9]* checkpoints=[0-9]*' "$run/tgz.err" | sed 's/^/ferry tgz read: /' || true
