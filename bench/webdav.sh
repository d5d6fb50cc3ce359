#!/usr/bin/env bash
# WebDAV both ways: ferry against `rclone copy` (small and large files) and plain curl
# PUT/GET (large files: the practical limit), on the same rclone serve webdav, one after
# another. Usage: bench/webdav.sh [SMALL_FILES] [LARGE_MB] (defaults 2000 files of ~50 KB,
# 2 files of 200 MB).
set -euo pipefail
N=${1:-2000}
LARGE_MB=${2:-200}
. "$(dirname "$0")/lib.sh" webdav
url="https://$FERRY_TEST_WEBDAV"
common=(--ca-file "$FERRY_TEST_CA" --allow-private-network --connections 8 --concurrency 16)
export RCLONE_CONFIG="$work/rclone.conf"
: > "$RCLONE_CONFIG"
rc_remote=":webdav,url='$url',user=ferry,pass='$(rclone obscure "$FERRY_PASSWORD")':"
rc=(rclone --ca-cert "$FERRY_TEST_CA" --transfers 8 --checkers 8)

echo "== generating $N small files and 2 large files of $LARGE_MB MB"
python3 - "$work/small/files" "$N" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
r = random.Random(1)
for i in range(n):
    d = os.path.join(root, f"d{i % 20}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i}.bin"), "wb") as f:
        f.write(r.randbytes(r.randint(25_000, 75_000)))
PY
mkdir -p "$work/large/files"
for i in 1 2; do head -c "$((LARGE_MB * 1024 * 1024))" /dev/urandom > "$work/large/files/big$i.bin"; done

: > "$work/results"
measure() { # step tool bytes items command...
    local step=$1 tool=$2 bytes=$3 items=$4; shift 4
    sync
    /usr/bin/time -f '%e %M' -o "$work/t" "$@" > "$work/log" 2>&1 || { echo "$step/$tool failed:"; tail -5 "$work/log"; exit 1; }
    read -r secs rss < "$work/t"
    echo "$step $tool $secs $rss $bytes $items" >> "$work/results"
}

small_bytes=$(du -sb "$work/small" | cut -f1)
large_bytes=$(du -sb "$work/large" | cut -f1)
measure up-small ferry "$small_bytes" "$N" "$FERRY" -q --data-dir "$work/fd1" transfer --from "dir:$work/small" --to "webdavs://ferry@$FERRY_TEST_WEBDAV/ferry-small" "${common[@]}"
measure up-small rclone "$small_bytes" "$N" "${rc[@]}" copy "$work/small" "${rc_remote}rclone-small"
measure down-small ferry "$small_bytes" "$N" "$FERRY" -q --data-dir "$work/fd2" transfer --from "webdavs://ferry@$FERRY_TEST_WEBDAV/rclone-small" --to "dir:$work/down-ferry" "${common[@]}"
measure down-small rclone "$small_bytes" "$N" "${rc[@]}" copy "${rc_remote}rclone-small" "$work/down-rclone"
measure up-large ferry "$large_bytes" 2 "$FERRY" -q --data-dir "$work/fd3" transfer --from "dir:$work/large" --to "webdavs://ferry@$FERRY_TEST_WEBDAV/ferry-large" "${common[@]}"
measure up-large rclone "$large_bytes" 2 "${rc[@]}" copy "$work/large" "${rc_remote}rclone-large"
curl_put() {
    curl -sf --cacert "$FERRY_TEST_CA" -u "ferry:$FERRY_PASSWORD" -X MKCOL "$url/curl-large/" || true
    for i in 1 2; do curl -sf --cacert "$FERRY_TEST_CA" -u "ferry:$FERRY_PASSWORD" -T "$work/large/files/big$i.bin" "$url/curl-large/big$i.bin"; done
}
curl_get() {
    mkdir -p "$work/down-curl"
    for i in 1 2; do curl -sf --cacert "$FERRY_TEST_CA" -u "ferry:$FERRY_PASSWORD" -o "$work/down-curl/big$i.bin" "$url/curl-large/big$i.bin"; done
}
export -f curl_put curl_get; export work url
measure up-large curl "$large_bytes" 2 bash -c curl_put
measure down-large ferry "$large_bytes" 2 "$FERRY" -q --data-dir "$work/fd4" transfer --from "webdavs://ferry@$FERRY_TEST_WEBDAV/curl-large" --to "dir:$work/down-ferry-large" "${common[@]}"
measure down-large rclone "$large_bytes" 2 "${rc[@]}" copy "${rc_remote}curl-large" "$work/down-rclone-large"
measure down-large curl "$large_bytes" 2 bash -c curl_get

echo
printf "%-11s %-7s %8s %9s %9s %13s %11s\n" step tool seconds items/s MB/s "peak RSS MiB" ferry/peer
awk '{ key=$1; if ($2=="ferry") f[key]=$3; s[NR]=$0 } END {
    for (i=1; i<=NR; i++) { split(s[i], a, " ");
        ratio = (a[2]=="ferry") ? "-" : sprintf("%.2f", a[3] / f[a[1]]);
        printf "%-11s %-7s %8.2f %9.1f %9.1f %13.1f %11s\n", a[1], a[2], a[3], a[6]/a[3], a[5]/1e6/a[3], a[4]/1024, ratio } }' "$work/results"
echo "ferry/peer = peer_seconds / ferry_seconds (above 1: ferry is faster)"
