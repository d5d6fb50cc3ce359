#!/usr/bin/env bash
# CardDAV and CalDAV: ferry against vdirsyncer, same contacts and events, same servers, one
# after another: Radicale (HTTPS) to a local folder, and Radicale to Xandikos (plain HTTP;
# ferry writes to one fresh instance, vdirsyncer to the other). Usage: bench/dav.sh [N]
# (default 5000 contacts and 5000 events). The servers are the test
# servers (scripts/servers.sh); vdirsyncer is installed from Debian when missing.
set -euo pipefail
N=${1:-5000}
. "$(dirname "$0")/lib.sh" dav vdirsyncer=vdirsyncer
rad=$FERRY_TEST_RADICALE; xa=$FERRY_TEST_XANDIKOS_A; xb=$FERRY_TEST_XANDIKOS_B
common=(--ca-file "$FERRY_TEST_CA" --allow-private-network)

# what a place holds: "items=… uids=… digest=…" and counts of properties and components
# that must survive the trip (EMAIL, TEL, ADR, BDAY, PHOTO; VEVENT, VALARM, VTIMEZONE,
# RRULE, EXDATE, RECURRENCE-ID). A folder is read file by file; a server is listed with
# PROPFIND (current-user-principal, home set, every collection of the kind in it) and
# read with multiget, 100 resources at a time.
cat > "$work/davcount.py" <<'PY'
import collections, hashlib, http.client, os, ssl, sys, base64
import xml.etree.ElementTree as ET
D, NS = "{DAV:}", {"card": "urn:ietf:params:xml:ns:carddav", "cal": "urn:ietf:params:xml:ns:caldav"}

def stats(texts, kind):
    uids, c = [], collections.Counter()
    for t in texts:
        lines, uid, stack = [], None, []
        for l in t.replace("\r\n", "\n").split("\n"):
            if l[:1] in (" ", "\t") and lines: lines[-1] += l[1:]
            elif l: lines.append(l)
        for l in lines:
            name = l.split(":", 1)[0].split(";", 1)[0].upper()
            value = l.split(":", 1)[1] if ":" in l else ""
            if name == "BEGIN":
                stack.append(value.upper())
                if kind == "cal": c[value.upper()] += 1
            elif name == "END" and stack: stack.pop()
            elif name == "UID" and uid is None: uid = value.strip()
            elif kind == "card" and name in ("EMAIL", "TEL", "ADR", "BDAY", "PHOTO"): c[name] += 1
            elif kind == "cal" and stack[-1:] == ["VEVENT"] and name in ("RRULE", "EXDATE", "RECURRENCE-ID"): c[name] += 1
        uids.append(uid)
    c.pop("VCALENDAR", None)
    digest = hashlib.sha256("\n".join(sorted(u or "" for u in uids)).encode()).hexdigest()[:16]
    return f"items={len(texts)} uids={len(set(uids))} digest={digest} " + " ".join(f"{k}={c[k]}" for k in sorted(c))

def request(origin, method, path, body, depth, auth, ca):
    scheme, host = origin.split("://")
    conn = (http.client.HTTPSConnection(host, context=ssl.create_default_context(cafile=ca)) if scheme == "https"
            else http.client.HTTPConnection(host))
    headers = {"Content-Type": "application/xml; charset=utf-8", "Depth": str(depth),
               "Authorization": "Basic " + base64.b64encode(auth.encode()).decode()}
    conn.request(method, path, body.encode(), headers)
    r = conn.getresponse(); data = r.read(); conn.close()
    if r.status != 207: sys.exit(f"davcount: {method} {origin}{path}: {r.status}")
    return ET.fromstring(data).findall(D + "response")

def prop(resp, name):
    for ps in resp.findall(D + "propstat"):
        if " 200" in (ps.findtext(D + "status") or ""):
            e = ps.find(D + "prop/" + name)
            if e is not None: return e
    return None

def server(origin, kind, auth, ca):
    ns = NS[kind]; home_set = "{%s}%s" % (ns, "addressbook-home-set" if kind == "card" else "calendar-home-set")
    pf = lambda props: f'<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:x="{ns}"><d:prop>{props}</d:prop></d:propfind>'
    r = request(origin, "PROPFIND", "/", pf("<d:current-user-principal/>"), 0, auth, ca)
    principal = prop(r[0], D + "current-user-principal").findtext(D + "href")
    r = request(origin, "PROPFIND", principal, pf(f"<x:{home_set.split('}')[1]}/>"), 0, auth, ca)
    home = prop(r[0], home_set).findtext(D + "href")
    want = "{%s}%s" % (ns, "addressbook" if kind == "card" else "calendar")
    cols = [x.findtext(D + "href") for x in request(origin, "PROPFIND", home, pf("<d:resourcetype/>"), 1, auth, ca)
            if prop(x, D + "resourcetype") is not None and prop(x, D + "resourcetype").find(want) is not None]
    texts = []
    data = "{%s}%s" % (ns, "address-data" if kind == "card" else "calendar-data")
    multiget = "addressbook-multiget" if kind == "card" else "calendar-multiget"
    for col in cols:
        hrefs = [x.findtext(D + "href") for x in request(origin, "PROPFIND", col, pf("<d:getetag/><d:resourcetype/>"), 1, auth, ca)
                 if prop(x, D + "resourcetype") is None or prop(x, D + "resourcetype").find(D + "collection") is None]
        for i in range(0, len(hrefs), 100):
            body = (f'<?xml version="1.0"?><x:{multiget} xmlns:d="DAV:" xmlns:x="{ns}"><d:prop><d:getetag/><x:{data.split("}")[1]}/></d:prop>'
                    + "".join(f"<d:href>{h}</d:href>" for h in hrefs[i:i + 100]) + f"</x:{multiget}>")
            for x in request(origin, "REPORT", col, body, 1, auth, ca):
                e = prop(x, data)
                if e is not None and e.text: texts.append(e.text)
    return texts

def folder(path, kind):
    ext = ".vcf" if kind == "card" else ".ics"
    return [open(os.path.join(dp, f), encoding="utf-8").read() for dp, _, fs in os.walk(path) for f in fs if f.endswith(ext)]

kind, where = sys.argv[1], sys.argv[2]
texts = server(where, kind, sys.argv[3], sys.argv[4]) if "://" in where else folder(where, kind)
print(stats(texts, kind))
PY
# davcount KIND FOLDER  |  davcount KIND URL (Radicale as alice; Xandikos ignores the login)
davcount() { python3 "$work/davcount.py" "$1" "$2" "alice:$FERRY_PASSWORD" "$FERRY_TEST_CA"; }

echo "== generating $N contacts and $N events"
python3 "$REPO/bench/gen_dav.py" "$work/account" --contacts "$N" --events "$N" >/dev/null
card_bytes=$(find "$work/account/contacts" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
cal_bytes=$(find "$work/account/calendar" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
want_card=$(davcount card "$work/account/contacts")
want_cal=$(davcount cal "$work/account/calendar")

# CPU seconds (user + system) a server process has used so far
hz=$(getconf CLK_TCK)
cpu() { awk -v hz="$hz" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$(cat "$servers/$1.pid")/stat"; }
# CPU seconds the whole machine has been busy (all cores): what the tool and the servers
# did not use of it was other work, which competed with them
busy() { awk -v hz="$hz" '/^cpu /{printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / hz}' /proc/stat; }

echo "== seeding the source account (ferry, folder -> Radicale, alice)"
seed_start=$(date +%s.%N); seed_cpu=$(cpu radicale)
"$FERRY" -q --data-dir "$work/seed" transfer --from "dir:$work/account" --to "carddav://alice@$rad" "${common[@]}"
"$FERRY" -q --data-dir "$work/seed" transfer --from "dir:$work/account" --to "caldav://alice@$rad" "${common[@]}"
seeding=$(printf "seeding (not compared): %.0f s, Radicale CPU %.0f s" "$(echo "$(date +%s.%N) - $seed_start" | bc)" "$(echo "$(cpu radicale) - $seed_cpu" | bc)")
echo "   $seeding"
# read back in full (this also warms Radicale's item cache, for both tools alike)
for k in card cal; do
    want=want_$k; got=$(davcount $k "https://$rad")
    [ "$got" = "${!want}" ] || { echo "seeding failed: Radicale holds [$got], the account [${!want}]" >&2; exit 1; }
done

: > "$work/results"; : > "$work/notes"
measure() { # step tool kind where-stored command...
    local step=$1 tool=$2 kind=$3 dest=$4; shift 4
    echo "== $step: $tool"
    sync
    local r0 a0 b0 m0; r0=$(cpu radicale); a0=$(cpu xandikos-a); b0=$(cpu xandikos-b); m0=$(busy)
    /usr/bin/time -f '%e %M %U %S' -o "$work/time.$step.$tool" "$@" >"$work/log.$step.$tool" 2>&1 || { echo "$step/$tool failed:"; tail -20 "$work/log.$step.$tool"; exit 1; }
    local rcpu xcpu mcpu; rcpu=$(echo "$(cpu radicale) - $r0" | bc); xcpu=$(echo "$(cpu xandikos-a) + $(cpu xandikos-b) - $a0 - $b0" | bc); mcpu=$(echo "$(busy) - $m0" | bc)
    read -r secs rss usr sys < "$work/time.$step.$tool"
    local got want=want_$kind bytes=${kind}_bytes
    got=$(davcount "$kind" "$dest")
    local stored; stored=$(echo "$got" | sed 's/^items=\([0-9]*\).*/\1/')
    if [ "$stored" != "$N" ]; then
        echo "$step/$tool: the destination holds $stored items, not $N:" >&2; echo "  got  $got" >&2; echo "  want ${!want}" >&2; exit 1
    fi
    [ "$got" = "${!want}" ] || printf '%s/%s: stored differs from the source\n  got  %s\n  want %s\n' "$step" "$tool" "$got" "${!want}" >> "$work/notes"
    local other; other=$(echo "$mcpu - $usr - $sys - $rcpu - $xcpu" | bc)
    printf '%s %s %s %s %s %s %s %s %s\n' "$step" "$tool" "$secs" "$rss" "$(echo "$usr + $sys" | bc)" "$rcpu" "$xcpu" "$stored ${!bytes}" "$other" >> "$work/results"
}

# vdirsyncer: one pair per step; `discover` (creating the collections, answered yes) is part
# of the measured time, as a first sync needs it
mkdir -p "$work/vds-dir/contacts" "$work/vds-dir/calendar" "$work/vds-status"
cat > "$work/vdirsyncer.conf" <<CONF
[general]
status_path = "$work/vds-status/"

[storage rad_card]
type = "carddav"
url = "https://$rad/"
username = "alice"
password = "$FERRY_PASSWORD"
verify = "$FERRY_TEST_CA"

[storage rad_cal]
type = "caldav"
url = "https://$rad/"
username = "alice"
password = "$FERRY_PASSWORD"
verify = "$FERRY_TEST_CA"

[storage dir_card]
type = "filesystem"
path = "$work/vds-dir/contacts/"
fileext = ".vcf"

[storage dir_cal]
type = "filesystem"
path = "$work/vds-dir/calendar/"
fileext = ".ics"

[storage xb_card]
type = "carddav"
url = "http://$xb/"

[storage xb_cal]
type = "caldav"
url = "http://$xb/"
CONF
for p in "card_to_dir rad_card dir_card" "cal_to_dir rad_cal dir_cal" "card_to_dav rad_card xb_card" "cal_to_dav rad_cal xb_cal"; do
    read -r name a b <<< "$p"
    printf '\n[pair %s]\na = "%s"\nb = "%s"\ncollections = ["from a"]\nconflict_resolution = "a wins"\n' "$name" "$a" "$b" >> "$work/vdirsyncer.conf"
done
vds() { yes | vdirsyncer -c "$work/vdirsyncer.conf" discover "$1" && vdirsyncer -c "$work/vdirsyncer.conf" sync "$1"; }
export -f vds; export work

measure card-to-dir ferry card "$work/ferry-dir/contacts" "$FERRY" -q --data-dir "$work/fd1" transfer --from "carddav://alice@$rad" --to "dir:$work/ferry-dir" "${common[@]}"
measure card-to-dir vdirsyncer card "$work/vds-dir/contacts" bash -c "vds card_to_dir"
measure cal-to-dir ferry cal "$work/ferry-dir/calendar" "$FERRY" -q --data-dir "$work/fd2" transfer --from "caldav://alice@$rad" --to "dir:$work/ferry-dir" "${common[@]}"
measure cal-to-dir vdirsyncer cal "$work/vds-dir/calendar" bash -c "vds cal_to_dir"
measure card-to-dav ferry card "http://$xa" "$FERRY" -q --data-dir "$work/fd3" transfer --from "carddav://alice@$rad" --to "carddav+http://ferry@$xa" --insecure "${common[@]}"
measure card-to-dav vdirsyncer card "http://$xb" bash -c "vds card_to_dav"
measure cal-to-dav ferry cal "http://$xa" "$FERRY" -q --data-dir "$work/fd4" transfer --from "caldav://alice@$rad" --to "caldav+http://ferry@$xa" --insecure "${common[@]}"
measure cal-to-dav vdirsyncer cal "http://$xb" bash -c "vds cal_to_dav"

echo
printf "%d contacts (%.1f MB), %d events (%.1f MB); source: Radicale (HTTPS), destinations: a folder, Xandikos (HTTP)\n" \
    "$N" "$(echo "$card_bytes / 1000000" | bc -l)" "$N" "$(echo "$cal_bytes / 1000000" | bc -l)"
echo "$seeding"
printf "%-12s %-10s %8s %8s %7s %13s %6s %14s %14s %11s %7s %11s\n" step tool seconds items/s MB/s "peak RSS MiB" "CPU s" "radicale CPU s" "xandikos CPU s" "other CPU s" stored ferry/peer
awk '{ if ($2=="ferry") f[$1]=$3; s[NR]=$0 } END {
    for (i=1; i<=NR; i++) { split(s[i], a, " ");
        ratio = (a[2]=="ferry") ? "-" : sprintf("%.2f", a[3] / f[a[1]]);
        printf "%-12s %-10s %8.2f %8.0f %7.2f %13.1f %6.1f %14.1f %14.1f %11.1f %7d %11s\n", a[1], a[2], a[3], a[8]/a[3], a[9]/1e6/a[3], a[4]/1024, a[5], a[6], a[7], a[10], a[8], ratio } }' "$work/results"
echo "ferry/peer = peer_seconds / ferry_seconds (above 1: ferry is faster); CPU s = the tool's user + system time;"
echo "other CPU s = CPU the machine spent meanwhile on anything else (other work competing with the run)"
echo "vdirsyncer's time includes its 'discover' (which creates the collections); stored = items counted at the destination"
if [ -s "$work/notes" ]; then echo; echo "fidelity (UIDs and property/component counts, destination against the source):"; cat "$work/notes"; else echo "fidelity: every destination holds the source's UIDs and the same counts of EMAIL/TEL/ADR/BDAY/PHOTO, VEVENT/VALARM/VTIMEZONE/RRULE/EXDATE/RECURRENCE-ID"; fi
