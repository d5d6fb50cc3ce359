#!/usr/bin/env bash
# ferry serve under load, in one run:
#   1. four transfers (dir to dir, FILES small files each) run alone: their time;
#   2. the same four again while wrk (a second process, on loopback) asks for a job's
#      status (GET /api/jobs/ID) and report (GET /api/jobs/ID/report) for DURATION
#      seconds: requests per second, p50 and p99 latency, and how much slower the
#      transfers ran (the ratio loaded/alone);
#   3. time from "start" to the first item moved, as the event stream shows it;
#   4. SSE: CLIENTS clients following one running job's events: events a second in all.
# Usage: bench/serve.sh            (FILES=20000 DURATION=15 CLIENTS=100)
# SKIP_BUILD=1 FERRY=path uses another binary; KEEP=1 keeps the work directory.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
FILES=${FILES:-20000}
DURATION=${DURATION:-15}
CLIENTS=${CLIENTS:-100}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
[ "${SKIP_BUILD:-0}" = 1 ] || (cd "$REPO" && cargo build --release -q -p ferry-cli)
FERRY=${FERRY:-$REPO/target/release/ferry}
work=$(mktemp -d /tmp/ferry-serve-bench.XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; [ "${KEEP:-0}" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT

echo "making 4 trees of $FILES files..."
python3 - "$work/files" "$FILES" <<'EOF'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for t in range(4):
    for i in range(n):
        d = os.path.join(root, f"src{t}", f"d{i % 100}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i}.txt"), "w") as f:
            f.write(f"file {i} of tree {t}\n" * 8)
EOF

FERRY_SERVE_CLIENT_REQUESTS_PER_SECOND=1000000 "$FERRY" --data-dir "$work/data" serve --listen 127.0.0.1:0 \
    --workers 4 --files-root "$work/files" 2> "$work/serve.log" &
pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/serve.log" && break; sleep 0.1; done
url=$(sed -n 's/^ferry serve: listening on \(http[^ ]*\).*/\1/p' "$work/serve.log")
token=$("$FERRY" --data-dir "$work/data" admin token create bench 2>/dev/null)
auth="Authorization: Bearer $token"

# starts the four transfers into folder OUT-N; prints their ids
start4() {
    for t in 0 1 2 3; do
        curl -sf -H "$auth" -H 'content-type: application/json' "$url/api/jobs" \
            -d "{\"source\":{\"connector\":\"dir\",\"address\":\"src$t\"},\"destination\":{\"connector\":\"dir\",\"address\":\"$1-$t\"}}" |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
    done
}
# waits for the jobs given to end; prints the seconds since $2
wait_all() {
    local since=$1; shift
    for id in "$@"; do
        while :; do
            state=$(curl -sf -H "$auth" "$url/api/jobs/$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
            case $state in completed|completed_with_errors|failed|cancelled) break ;; esac
            sleep 0.2
        done
    done
    python3 -c "import time; print(f'{time.time() - $since:.2f}')"
}

t0=$(python3 -c 'import time; print(time.time())')
alone=$(wait_all "$t0" $(start4 alone))

t0=$(python3 -c 'import time; print(time.time())')
ids=$(start4 loaded)
first=$(echo "$ids" | head -1)
cat > "$work/get.lua" <<EOF
wrk.headers["Authorization"] = "Bearer $token"
local paths = {"/api/jobs/$first", "/api/jobs/$first/report"}
local i = 0
request = function() i = i + 1; return wrk.format("GET", paths[(i % 2) + 1]) end
EOF
wrk -t2 -c32 -d"${DURATION}s" --latency -s "$work/get.lua" "$url" > "$work/wrk.txt"
loaded=$(wait_all "$t0" $ids)

# time to the first item, from the event stream
curl -sf -H "$auth" -H 'content-type: application/json' "$url/api/jobs" \
    -d '{"source":{"connector":"dir","address":"src0"},"destination":{"connector":"dir","address":"first"},"start":false}' > "$work/job.json"
job=$(python3 -c 'import json; print(json.load(open("'"$work"'/job.json"))["id"])')
first_item=$(python3 - "$url" "$token" "$job" <<'EOF'
import json, sys, time, urllib.request, threading
url, token, job = sys.argv[1:]
h = {"Authorization": f"Bearer {token}"}
req = urllib.request.Request(f"{url}/api/jobs/{job}/events", headers=h)
stream = urllib.request.urlopen(req)
start = urllib.request.Request(f"{url}/api/jobs/{job}/start", method="POST", headers=h)
t0 = time.time()
urllib.request.urlopen(start).read()
for line in stream:
    line = line.decode()
    if line.startswith("data: ") and '"totals"' in line and json.loads(line[6:])["totals"]["found"] > 0:
        print(f"{(time.time() - t0) * 1000:.0f}")
        break
EOF
)

# SSE: CLIENTS clients on one running job
curl -sf -H "$auth" -H 'content-type: application/json' "$url/api/jobs" \
    -d '{"source":{"connector":"dir","address":"src1"},"destination":{"connector":"dir","address":"sse"},"start":false}' > "$work/job2.json"
job2=$(python3 -c 'import json; print(json.load(open("'"$work"'/job2.json"))["id"])')
sse=$(python3 - "$url" "$token" "$job2" "$CLIENTS" <<'EOF'
import sys, time, threading, urllib.request
url, token, job, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
h = {"Authorization": f"Bearer {token}"}
counts = [0] * n
def follow(i):
    for line in urllib.request.urlopen(urllib.request.Request(f"{url}/api/jobs/{job}/events", headers=h), timeout=300):
        if line.startswith(b"event: "):
            counts[i] += 1
threads = [threading.Thread(target=follow, args=(i,)) for i in range(n)]
for t in threads: t.start()
time.sleep(1)
t0 = time.time()
urllib.request.urlopen(urllib.request.Request(f"{url}/api/jobs/{job}/start", method="POST", headers=h)).read()
for t in threads: t.join()
took = time.time() - t0
print(f"{sum(counts)} {took:.2f} {min(counts)}")
EOF
)

rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
p50=$(awk '/^ +50%/ {print $2}' "$work/wrk.txt")
p99=$(awk '/^ +99%/ {print $2}' "$work/wrk.txt")
errors=$(grep -c "Non-2xx\|Socket errors" "$work/wrk.txt" || true)
read -r sse_events sse_secs sse_min <<< "$sse"
echo
echo "four transfers of $FILES files (dir to dir, 4 in-process workers)"
echo "  alone:                 ${alone} s"
echo "  under API load:        ${loaded} s   ratio loaded/alone: $(python3 -c "print(f'{$loaded/$alone:.2f}')")"
echo "API under load (wrk -t2 -c32 ${DURATION}s, status and report of a running job)"
echo "  requests/s:            $rps   p50: $p50   p99: $p99   (error lines: $errors)"
echo "start to first item:     ${first_item} ms"
echo "SSE, $CLIENTS clients on one job: $sse_events events in ${sse_secs} s = $(python3 -c "print(f'{$sse_events/$sse_secs:.0f}')") events/s (each client got at least $sse_min)"
