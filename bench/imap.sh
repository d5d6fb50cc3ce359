#!/usr/bin/env bash
# IMAP to IMAP: ferry against mbsync (isync) and doveadm backup, same messages, same
# Dovecot, one after another. Usage: bench/imap.sh [MESSAGES] (default 10000; 2-200 KB,
# with attachments, in 4 folders). Dovecot from scripts/servers.sh; isync installed when missing.
set -euo pipefail
N=${1:-10000}
. "$(dirname "$0")/lib.sh" imap mbsync=isync
imap_host=${FERRY_TEST_IMAP%:*}; imap_port=${FERRY_TEST_IMAP#*:}
common=(--ca-file "$FERRY_TEST_CA" --allow-private-network)

echo "== generating $N messages"
python3 "$REPO/bench/gen_account.py" "$work/account" --contacts 0 --messages "$N" --photos 0 >/dev/null
bytes=$(du -sb "$work/account/mail" | cut -f1)
echo "== seeding the source account (ferry, folder -> IMAP)"
"$FERRY" -q --data-dir "$work/seed" transfer --from "dir:$work/account" --to "imap://src@$FERRY_TEST_IMAP" "${common[@]}"
# Dovecot's CPU seconds: the master with its reaped children (the per-connection imap
# processes end at logout), plus children still running
server_cpu() {
    local master; master=$(cat "$servers/dovecot/run/master.pid")
    { awk '{print ($14+$15+$16+$17)/100}' "/proc/$master/stat"
      for c in $(pgrep -P "$master"); do awk '{print ($14+$15)/100}' "/proc/$c/stat" 2>/dev/null || true; done
    } | awk '{s+=$1} END {printf "%.2f", s}'
}

# messages stored for a user: files in the Maildir's cur/ and new/ folders
stored() { find "$servers/dovecot/home/$1/Maildir" -path '*/cur/*' -o -path '*/new/*' -type f 2>/dev/null | wc -l; }

measure() { # name, user, command...
    local name=$1 user=$2; shift 2
    sync
    local before; before=$(server_cpu)
    /usr/bin/time -f '%e %M' -o "$work/time.$name" "$@" >"$work/log.$name" 2>&1 || { echo "$name failed:"; tail -5 "$work/log.$name"; exit 1; }
    read -r secs rss < "$work/time.$name"
    printf '%s %s %s %s %s\n' "$name" "$secs" "$rss" "$(echo "$(server_cpu) - $before" | bc)" "$(stored "$user")" >> "$work/results"
}

measure ferry dst-ferry "$FERRY" -q --data-dir "$work/ferry-data" transfer --from "imap://src@$FERRY_TEST_IMAP" --to "imap://dst-ferry@$FERRY_TEST_IMAP" "${common[@]}"

cat > "$work/mbsyncrc" <<RC
IMAPAccount src
Host localhost
Port $imap_port
User src
Pass $FERRY_PASSWORD
SSLType STARTTLS
CertificateFile $FERRY_TEST_CA
PipelineDepth 50

IMAPAccount dst
Host localhost
Port $imap_port
User dst-mbsync
Pass $FERRY_PASSWORD
SSLType STARTTLS
CertificateFile $FERRY_TEST_CA
PipelineDepth 50

IMAPStore src
Account src

IMAPStore dst
Account dst

Channel all
Far :src:
Near :dst:
Patterns *
Create Near
Sync Pull
SyncState $work/mbsync-state/
RC
mkdir -p "$work/mbsync-state"
measure mbsync dst-mbsync mbsync -c "$work/mbsyncrc" -a -q

# doveadm backup: Dovecot copies the source account into a new user's Maildir by itself
# (no IMAP): the server-side limit
dst_home="$servers/dovecot/home/dst-doveadm"
mkdir -p "$dst_home" && chown --reference="$servers/dovecot/home/src" "$dst_home"
measure doveadm dst-doveadm doveadm -c "$servers/dovecot/dovecot.conf" backup -u src "maildir:$dst_home/Maildir"

echo
printf "%d messages, %.1f MB (as mbox)\n" "$N" "$(echo "$bytes / 1000000" | bc -l)"
printf "%-8s %9s %10s %9s %13s %13s %9s %11s\n" tool seconds msgs/s MB/s "peak RSS MiB" "server CPU s" stored "ferry/peer"
ferry_secs=$(awk '$1=="ferry"{print $2}' "$work/results")
while read -r name secs rss cpu count; do
    awk -v n="$name" -v s="$secs" -v r="$rss" -v c="$cpu" -v k="$count" -v m="$N" -v b="$bytes" -v f="$ferry_secs" 'BEGIN {
        ratio = (n == "ferry") ? "-" : sprintf("%.2f", s / f);
        printf "%-8s %9.2f %10.0f %9.1f %13.1f %13s %9s %11s\n", n, s, m / s, b / 1e6 / s, r / 1024, c, k, ratio }'
done < "$work/results"
echo "ferry/peer = peer_seconds / ferry_seconds (above 1: ferry is faster)"
