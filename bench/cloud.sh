#!/usr/bin/env bash
# Contacts through the stand-ins for Google's People API and Microsoft Graph
# (scripts/fakes/), with the providers' real page sizes (People: 500 a page of its 1,000, 200 a
# batchCreateContacts; Graph: 200 a delta page) and their published limits where they have
# one. No peer tool can run against them here (Data Transfer Project's adapters need the
# real services), so each figure stands alone: items a second, and ferry's peak RSS.
# Usage: bench/cloud.sh [N] [WHAT] — N items (default 10000) of WHAT: contacts, calendar,
# mail (gmail or outlook for one service's half, to run the two side by side) or all
# (default). SKIP_BUILD=1, FERRY=path as elsewhere. Mail is bounded by the
# providers' quotas (Gmail: 6,000 units a user a minute, 25 an import; Outlook: 10,000
# requests in 10 minutes a mailbox), so its runs take minutes even for 1,000 messages.
set -euo pipefail
N=${1:-10000}
WHAT=${2:-all}
REPO=$(cd "$(dirname "$0")/.." && pwd)
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
[ "${SKIP_BUILD:-0}" = 1 ] || (cd "$REPO" && cargo build --release -q -p ferry-cli)
FERRY=${FERRY:-$REPO/target/release/ferry}
work=$(mktemp -d /tmp/ferry-cloud-bench.XXXXXX)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; [ "${KEEP:-0}" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT

# start a stand-in; its port on stdout once it listens
stand() {
    local name=$1; shift
    python3 "$REPO/scripts/fakes/$name/server.py" --listen 127.0.0.1:0 "$@" > "$work/$name.out" 2> "$work/$name.log" &
    pids+=($!)
    for _ in $(seq 1 100); do
        grep -q '^listening on' "$work/$name.out" 2>/dev/null && break
        sleep 0.1
    done
    sed -n 's/^listening on http:\/\/127.0.0.1://p' "$work/$name.out"
}
gscopes="https://www.googleapis.com/auth/contacts https://www.googleapis.com/auth/calendar https://mail.google.com/"
gport=$(stand google --grant "alice-refresh=$gscopes" --grant "bob-refresh=$gscopes")
mscopes="Contacts.ReadWrite Calendars.ReadWrite Mail.ReadWrite offline_access"
mport=$(stand microsoft --grant "dave-refresh=$mscopes" --grant "erin-refresh=$mscopes")

tokens() { # FILE REFRESH PORT TOKEN_PATH [AUTH_METHOD]
    printf '{"access_token":"stale","refresh_token":"%s","token_type":"Bearer","expires_in":3600,"token_endpoint":"http://127.0.0.1:%s%s","client_id":"bench","client_secret":"s","token_endpoint_auth_method":"%s"}' \
        "$2" "$3" "$4" "${5:-client_secret_basic}" > "$1"
}
tokens "$work/alice.json" alice-refresh "$gport" /token
tokens "$work/bob.json" bob-refresh "$gport" /token
tokens "$work/dave.json" dave-refresh "$mport" /common/oauth2/v2.0/token client_secret_post
tokens "$work/erin.json" erin-refresh "$mport" /common/oauth2/v2.0/token client_secret_post

run() { # LABEL ARGS...: runs ferry, prints the items it moved a second, what failed, peak RSS
    local label=$1; shift
    local start end secs rss moved failed state
    start=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$work/rss" "$FERRY" --data-dir "$work/data" --json "$@" --insecure --allow-private-network > "$work/report.json" 2> "$work/stderr" || true
    end=$(date +%s.%N)
    secs=$(echo "$end - $start" | bc -l)
    rss=$(( $(tail -1 "$work/rss") / 1024 ))
    read -r moved failed state < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["report"]; v=r["verticals"].values(); print(sum(x.get("transferred",0)+x.get("already_present",0) for x in v), sum(x.get("failed",0) for x in v), r["state"])' "$work/report.json" 2>/dev/null || echo "0 0 no-report")
    printf '%-44s %8.2f s %9.0f items/s  peak RSS %4d MiB  (%s moved, %s failed, %s)\n' "$label" "$secs" "$(echo "$moved / $secs" | bc -l)" "$rss" "$moved" "$failed" "$state"
    if [ "$failed" != 0 ] || [ "$state" != completed ]; then
        python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["report"]; [print("   ", f.get("id"), f.get("reason")) for v in r["verticals"].values() for f in v.get("failures", [])[:3]]; print("   ", r.get("reason", ""))' "$work/report.json" 2>/dev/null || tail -3 "$work/stderr"
    fi
}

g() { echo "google://$1?api=http://127.0.0.1:$gport"; }
m="microsoft://dave?api=http://127.0.0.1:$mport"
if [ "$WHAT" = contacts ] || [ "$WHAT" = all ]; then
echo "== generating $N contacts"
python3 - "$work/src/contacts" "$N" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
os.makedirs(root, exist_ok=True)
for book, rng in (("Family", range(0, n // 2)), ("Work", range(n // 2, n))):
    with open(os.path.join(root, book + ".vcf"), "w") as f:
        for i in rng:
            f.write(f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c{i}\r\nFN:Person {i}\r\nN:{i};Person;;;\r\n"
                    f"EMAIL;TYPE=HOME:p{i}@example.org\r\nTEL;TYPE=CELL:+49 30 {i:07}\r\n"
                    f"ADR;TYPE=HOME:;;Street {i};Berlin;;10115;Germany\r\nEND:VCARD\r\n")
PY

echo "== $N contacts"
run "dir -> Google (People API, batches of 200)" transfer --from "dir:$work/src" --to "$(g alice)" --to-token-file "$work/alice.json"
run "Google -> package (500 a page)" transfer --only contacts --from "$(g alice)" --from-token-file "$work/alice.json" --to "package:$work/out.zip"
run "Google -> Google (another account)" transfer --only contacts --from "$(g alice)" --from-token-file "$work/alice.json" --to "$(g bob)" --to-token-file "$work/bob.json"
run "Google -> Microsoft (Graph, one at a time x4)" transfer --only contacts --from "$(g alice)" --from-token-file "$work/alice.json" --to "$m" --to-token-file "$work/dave.json"
run "Microsoft -> package (delta, 200 a page)" transfer --only contacts --from "$m" --from-token-file "$work/dave.json" --to "package:$work/out2.zip"
echo "(Outlook's published limit is 10,000 requests per 10 minutes per mailbox, 16.7 a second:"
echo " ferry keeps a tenth under it, so writing $N contacts into Graph one request each takes"
echo " at least $(( N * 10 / 9 / 16 )) s against the real service; the stand-in does not enforce it unless asked.)"
fi

if [ "$WHAT" = calendar ] || [ "$WHAT" = all ]; then
echo "== generating $N events (one in 20 a weekly series with a moved and a cancelled occurrence)"
python3 - "$work/cal/calendar" "$N" <<'PY'
import datetime, os, sys
root, n = sys.argv[1], int(sys.argv[2])
os.makedirs(root, exist_ok=True)
fmt = lambda d: d.strftime("%Y%m%d")
for cal, rng in (("Home", range(0, n // 2)), ("Work", range(n // 2, n))):
    with open(os.path.join(root, cal + ".ics"), "w") as f:
        for i in rng:
            d = datetime.date(2025, 1 + i % 12, 1 + i % 28)
            ev = (f"BEGIN:VEVENT\r\nUID:e{i}@bench\r\nDTSTAMP:20250101T000000Z\r\nSUMMARY:Event {i}\r\n"
                  f"DTSTART;TZID=Europe/Berlin:{fmt(d)}T090000\r\nDTEND;TZID=Europe/Berlin:{fmt(d)}T100000\r\nLOCATION:Room {i % 40}\r\n")
            if i % 20 == 0:
                week2, week3 = d + datetime.timedelta(days=7), d + datetime.timedelta(days=14)
                ev += f"RRULE:FREQ=WEEKLY;COUNT=10\r\nEXDATE;TZID=Europe/Berlin:{fmt(week2)}T090000\r\nEND:VEVENT\r\n"
                ev += (f"BEGIN:VEVENT\r\nUID:e{i}@bench\r\nDTSTAMP:20250101T000000Z\r\nRECURRENCE-ID;TZID=Europe/Berlin:{fmt(week3)}T090000\r\n"
                       f"DTSTART;TZID=Europe/Berlin:{fmt(week3)}T110000\r\nDTEND;TZID=Europe/Berlin:{fmt(week3)}T120000\r\nSUMMARY:Event {i} (moved)\r\n")
            f.write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n" + ev + "END:VEVENT\r\nEND:VCALENDAR\r\n")
PY
echo "== $N events"
run "dir -> Google Calendar (events.import)" transfer --only calendar --from "dir:$work/cal" --to "$(g alice)" --to-token-file "$work/alice.json"
run "Google Calendar -> package (1,000 a page)" transfer --only calendar --from "$(g alice)" --from-token-file "$work/alice.json" --to "package:$work/cal.zip"
run "Google Calendar -> Google (another account)" transfer --only calendar --from "$(g alice)" --from-token-file "$work/alice.json" --to "$(g bob)" --to-token-file "$work/bob.json"
run "Google Calendar -> Outlook (Graph, x4)" transfer --only calendar --from "$(g alice)" --from-token-file "$work/alice.json" --to "$m" --to-token-file "$work/dave.json"
fi

if [ "$WHAT" = mail ] || [ "$WHAT" = gmail ] || [ "$WHAT" = outlook ] || [ "$WHAT" = all ]; then
echo "== generating $N messages (maildir, 2 to 40 KB, one in 10 with an attachment)"
python3 - "$work/mail/mail" "$N" "$work/outlook-seed.json" <<'PY'
import base64, json, os, random, sys
root, n, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = random.Random(5)
msgs = []
for folder in ("INBOX", "Archive"):
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(root, folder, sub), exist_ok=True)
for i in range(n):
    body = "".join(rng.choice("abcdefghij klmnop\r\n") for _ in range(rng.randint(2000, 40000)))
    m = (f"From: Sender {i} <s{i}@example.org>\r\nTo: you@example.com\r\nSubject: Message {i}\r\n"
         f"Date: Mon, 6 Jan 2025 {i % 24:02}:{i % 60:02}:00 +0000\r\nMessage-ID: <m{i}@bench.example>\r\n")
    if i % 10 == 0:
        att = base64.encodebytes(bytes(rng.getrandbits(8) for _ in range(8000))).decode().replace("\n", "\r\n")
        m += ("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
              + body + "\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" + att + "--b--\r\n")
    else:
        m += "\r\n" + body + "\r\n"
    folder = "INBOX" if i % 3 else "Archive"
    with open(os.path.join(root, folder, "cur", f"{1700000000 + i}.b{i}.bench:2,S"), "w", newline="") as f:
        f.write(m)
    msgs.append({"folder": "inbox" if i % 3 else "archive", "mime": base64.b64encode(m.encode()).decode()})
# the stand-in takes 8 MiB a request: the messages in parts
part, size, parts = [], 0, []
for m in msgs:
    if part and size + len(m["mime"]) > 6_000_000:
        parts.append(part); part, size = [], 0
    part.append(m); size += len(m["mime"])
parts.append(part)
for k, p in enumerate(parts):
    json.dump({"user": "dave", "mimeMessages": p}, open(f"{seed}.{k}", "w"))
PY
for f in "$work"/outlook-seed.json.*; do
    curl -sf -X POST --data-binary @"$f" -H 'Content-Type: application/json' "http://127.0.0.1:$mport/_fake/seed" > /dev/null
done
echo "== $N messages"
if [ "$WHAT" != outlook ]; then
run "dir -> Gmail (messages.import, 30 units each)" transfer --only mail --from "dir:$work/mail" --to "$(g alice)" --to-token-file "$work/alice.json"
run "Gmail -> package (format=raw)" transfer --only mail --from "$(g alice)" --from-token-file "$work/alice.json" --to "package:$work/mail.zip"
fi
if [ "$WHAT" != gmail ]; then
run "Outlook -> package (delta + \$value, x4)" transfer --only mail --from "$m" --from-token-file "$work/dave.json" --to "package:$work/mail2.zip"
run "maildir -> Outlook (MIME upload, x4)" transfer --only mail --from "dir:$work/mail" --to "microsoft://erin?api=http://127.0.0.1:$mport" --to-token-file "$work/erin.json"
fi
echo "(Gmail's ceiling: 6,000 units a user a minute at 30 units a message (import 25, the"
echo " rfc822msgid look-up 5) is 200 messages a minute, 3.3 a second; reading at 5 units a"
echo " message, 20 a second. Outlook's: 10,000 requests in 10 minutes, 16.7 a second, a list"
echo " page of 200 and one \$value each, so about 16 messages a second.)"
fi
