#!/usr/bin/env bash
# Starts the real servers the connector tests talk to, on 127.0.0.1, with throwaway
# configuration under $FERRY_SERVERS_DIR (default: a new temporary directory), and writes
# their addresses to $FERRY_SERVERS_DIR/servers.env. `servers.sh stop DIR` stops them.
#
#   Dovecot: IMAP with STARTTLS (self-signed certificate). Any user name logs in with
#   the password in servers.env (FERRY_TEST_PASSWORD), so each test uses its own users.
#   A second Dovecot (FERRY_TEST_IMAP_DOTTED) looks to a client as Cyrus and Courier do:
#   personal namespace `INBOX.`, separator `.`, no special-use folders.
#   rclone serve webdav: WebDAV over HTTPS, user `ferry` with the same password; each test
#   uses its own folder. A second instance (FERRY_TEST_WEBDAV_SELFSIGNED) serves a
#   certificate made by `openssl req -x509` alone (self-signed, CA:TRUE as openssl's
#   default configuration writes), given to ferry as its own CA (FERRY_TEST_SELFSIGNED).
#   Radicale: CalDAV and CardDAV over HTTPS, users alice, bob, carol, dave, erin, frank
#   with the same password.
#   Xandikos: CalDAV and CardDAV over plain HTTP (it has no TLS or accounts of its own),
#   two instances (two users), for tests that pass --insecure.
#   oidc-provider (npm, pinned in scripts/oauth/package-lock.json, installed with `npm ci`
#   when missing): an OAuth 2.0 authorization server on plain HTTP (FERRY_TEST_OAUTH), for
#   the token tests; scripts/oauth/server.mjs says which clients it knows.
#   The connector protocol's reference service (examples/remote-service, Python): any
#   account under its base (`/NAME/`), a bearer token FERRY_TEST_REMOTE_TOKEN, a signing
#   key `ferry-key` with the password, test hooks on.
#   MariaDB, for the controller side's dataset-map checks (FERRY_TEST_MARIADB, a URL of a
#   database `ferry_test`; root may create databases): the machine's server on
#   127.0.0.1:3306 when root gets in without a password, else a private server under DIR
#   on a free port (also when FERRY_SERVERS_PRIVATE_MARIADB=1).
#   PostgreSQL, for the job store's tests (FERRY_TEST_POSTGRES, a URL of a database
#   `ferry_test` whose role may create databases: each test makes its own): the machine's
#   server on 127.0.0.1:5432 when it lets `postgres` in without a password, else a private
#   cluster under DIR on a free port (also when FERRY_SERVERS_PRIVATE_POSTGRES=1), made with
#   initdb and run by pg_ctl as the postgres user (PostgreSQL refuses to run as root).
set -euo pipefail

if [ "${1:-start}" = stop ]; then
    dir=${2:?usage: servers.sh stop DIR}
    for conf in "$dir/dovecot/dovecot.conf" "$dir/dovecot-dotted/dovecot.conf"; do
        [ -f "$conf" ] && dovecot -c "$conf" stop 2>/dev/null || true
    done
    for pidfile in "$dir"/*.pid; do
        [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    done
    if [ -f "$dir/postgres/data/postmaster.pid" ] && [ -f "$dir/postgres/bin" ]; then
        owner=$(stat -c %U "$dir/postgres/data")
        if [ "$(id -un)" = "$owner" ]; then as_owner=(); else as_owner=(runuser -u "$owner" --); fi
        "${as_owner[@]}" "$(cat "$dir/postgres/bin")/pg_ctl" -D "$dir/postgres/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    exit 0
fi

dir=${FERRY_SERVERS_DIR:-$(mktemp -d /tmp/ferry-servers.XXXXXX)}
mkdir -p "$dir"
chmod 755 "$dir"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() {
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "servers.sh: $2 did not start on port $1; see $dir" >&2
    return 1
}

# --- a throwaway CA and a server certificate it signs (for 127.0.0.1 and localhost)
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=ferry test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
    -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$dir/key.pem" -out "$dir/server.csr" >/dev/null 2>&1
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$dir/server.ext"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial \
    -days 2 -extfile "$dir/server.ext" -out "$dir/cert.pem" >/dev/null 2>&1

# --- Dovecot
imap_port=$(free_port)
d="$dir/dovecot"
mkdir -p "$d/run" "$d/state" "$d/home"
chown nobody:nogroup "$d/home"
cat > "$d/dovecot.conf" <<CONF
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
info_log_path = $d/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = yes
ssl_cert = <$dir/cert.pem
ssl_key = <$dir/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
default_login_user = dovenull
default_internal_user = dovecot
passdb {
  driver = static
  args = password=ferry-test-secret
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$d/home/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap_port
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = subscribe
  }
  mailbox Archive {
    special_use = \\Archive
    auto = subscribe
  }
}
CONF
dovecot -c "$d/dovecot.conf"
wait_port "$imap_port" Dovecot

# --- a second Dovecot, Courier/Cyrus style: every folder under INBOX., `.` between levels
imap_dotted_port=$(free_port)
d="$dir/dovecot-dotted"
mkdir -p "$d/run" "$d/state" "$d/home"
chown nobody:nogroup "$d/home"
cat > "$d/dovecot.conf" <<CONF
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
info_log_path = $d/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = yes
ssl_cert = <$dir/cert.pem
ssl_key = <$dir/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
default_login_user = dovenull
default_internal_user = dovecot
passdb {
  driver = static
  args = password=ferry-test-secret
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$d/home/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap_dotted_port
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
namespace inbox {
  inbox = yes
  prefix = INBOX.
  separator = .
}
CONF
dovecot -c "$d/dovecot.conf"
wait_port "$imap_dotted_port" "Dovecot (dotted namespace)"

# --- WebDAV (rclone)
dav_port=$(free_port)
mkdir -p "$dir/webdav"
: > "$dir/rclone.conf"
RCLONE_CONFIG="$dir/rclone.conf" rclone serve webdav "$dir/webdav" --addr "127.0.0.1:$dav_port" \
    --user ferry --pass ferry-test-secret --cert "$dir/cert.pem" --key "$dir/key.pem" \
    --log-file "$dir/rclone.log" >/dev/null 2>&1 &
echo $! > "$dir/rclone.pid"
wait_port "$dav_port" "rclone serve webdav"

# --- WebDAV (rclone) with a self-signed certificate, as `openssl req -x509` makes one
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$dir/selfsigned-key.pem" -out "$dir/selfsigned.pem" >/dev/null 2>&1
dav_ss_port=$(free_port)
mkdir -p "$dir/webdav-selfsigned"
RCLONE_CONFIG="$dir/rclone.conf" rclone serve webdav "$dir/webdav-selfsigned" --addr "127.0.0.1:$dav_ss_port" \
    --user ferry --pass ferry-test-secret --cert "$dir/selfsigned.pem" --key "$dir/selfsigned-key.pem" \
    --log-file "$dir/rclone-selfsigned.log" >/dev/null 2>&1 &
echo $! > "$dir/rclone-selfsigned.pid"
wait_port "$dav_ss_port" "rclone serve webdav (self-signed)"

# --- Radicale
rad_port=$(free_port)
r="$dir/radicale"
mkdir -p "$r/collections"
: > "$r/users"
for u in alice bob carol dave erin frank; do echo "$u:ferry-test-secret" >> "$r/users"; done
cat > "$r/config" <<CONF
[server]
hosts = 127.0.0.1:$rad_port
ssl = True
certificate = $dir/cert.pem
key = $dir/key.pem
max_content_length = 100000000
[auth]
type = htpasswd
htpasswd_filename = $r/users
htpasswd_encryption = plain
[rights]
type = owner_only
[storage]
filesystem_folder = $r/collections
[logging]
level = warning
CONF
radicale --config "$r/config" > "$r/radicale.log" 2>&1 &
echo $! > "$dir/radicale.pid"
wait_port "$rad_port" Radicale

# --- Xandikos: one account per instance; A and B for the CalDAV/CardDAV tests, C, D and E
# for the behaviour suite's three accounts, F for the test of items the server refuses
declare -A x_port
for x in a b c d e f; do
    x_port[$x]=$(free_port)
    mkdir -p "$dir/xandikos-$x"
    xandikos -d "$dir/xandikos-$x" -l 127.0.0.1 -p "${x_port[$x]}" --defaults > "$dir/xandikos-$x.log" 2>&1 &
    echo $! > "$dir/xandikos-$x.pid"
done
for x in a b c d e f; do wait_port "${x_port[$x]}" "Xandikos $x"; done

# --- OAuth 2.0 authorization server (oidc-provider on Node.js)
oauth_dir=$(cd "$(dirname "$0")/oauth" && pwd)
if ! command -v node >/dev/null; then
    echo "servers.sh: Node.js is not installed (apt-get install nodejs npm)" >&2
    exit 1
fi
pinned() { node -p "require('$1').dependencies?.['oidc-provider'] ?? require('$1').version" 2>/dev/null; }
if [ "$(pinned "$oauth_dir/package.json")" != "$(pinned "$oauth_dir/node_modules/oidc-provider/package.json")" ]; then
    (cd "$oauth_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
oauth_port=$(free_port)
PORT=$oauth_port node "$oauth_dir/server.mjs" > "$dir/oauth.log" 2>&1 &
echo $! > "$dir/oauth.pid"
wait_port "$oauth_port" "oidc-provider"

# --- the connector protocol's reference service
remote_port=$(free_port)
mkdir -p "$dir/remote"
python3 "$(dirname "$0")/../examples/remote-service/ferry_service.py" --data "$dir/remote" --listen "127.0.0.1:$remote_port" \
    --token ferry-remote-token --key ferry-key:ferry-test-secret --test-hooks > /dev/null 2> "$dir/remote.log" &
echo $! > "$dir/remote.pid"
wait_port "$remote_port" "the reference service"

# --- an SMTP server for identity verification codes (aiosmtpd from PyPI, in the venv under
# target/), delivering every message into a maildir the tests read
venv="$(dirname "$0")/../target/venv"
if [ ! -x "$venv/bin/aiosmtpd" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$(dirname "$0")/smtp/requirements.txt"
fi
smtp_port=$(free_port)
mkdir -p "$dir/smtp-maildir/tmp" "$dir/smtp-maildir/new" "$dir/smtp-maildir/cur"
"$venv/bin/aiosmtpd" -n -l "127.0.0.1:$smtp_port" -c aiosmtpd.handlers.Mailbox "$dir/smtp-maildir" > "$dir/smtp.log" 2>&1 &
echo $! > "$dir/smtp.pid"
wait_port "$smtp_port" "the SMTP server"

# --- PostgreSQL
pg_ok() { PGCONNECT_TIMEOUT=3 psql -w -X -q -h 127.0.0.1 -p "$1" -U postgres -d postgres "${@:2}" 2>/dev/null; }
if [ "${FERRY_SERVERS_PRIVATE_POSTGRES:-0}" != 1 ] && command -v psql >/dev/null && pg_ok 5432 -Atc 'SELECT 1' >/dev/null; then
    pg_port=5432
else
    pg_bin=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
        echo "servers.sh: PostgreSQL is not installed and none answers on 127.0.0.1:5432 (apt-get install postgresql)" >&2
        exit 1
    fi
    pg_port=$(free_port)
    p="$dir/postgres"
    mkdir -p "$p"
    echo "$pg_bin" > "$p/bin"
    as_pg=()
    if [ "$(id -u)" -eq 0 ]; then
        pg_user=postgres
        id "$pg_user" >/dev/null 2>&1 || pg_user=nobody
        chown "$pg_user" "$p"
        as_pg=(runuser -u "$pg_user" --)
    fi
    # throwaway data: no fsync; trust on the loopback and the private socket only
    "${as_pg[@]}" "$pg_bin/initdb" -D "$p/data" -U postgres -A trust -E UTF8 --no-sync > "$p/initdb.log" 2>&1
    "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$p/data" -l "$p/postgres.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $p -c fsync=off -c max_connections=200" start > /dev/null
    wait_port "$pg_port" PostgreSQL
fi
pg() { PGCONNECT_TIMEOUT=5 psql -w -X -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres "$@"; }
if [ -z "$(pg -Atc "SELECT 1 FROM pg_database WHERE datname = 'ferry_test'")" ]; then
    pg -c 'CREATE DATABASE ferry_test'
fi

# --- MariaDB
my_ok() { mariadb -h 127.0.0.1 -P "$1" -u root --connect-timeout=3 "${@:2}" 2>/dev/null; }
if [ "${FERRY_SERVERS_PRIVATE_MARIADB:-0}" != 1 ] && command -v mariadb >/dev/null && my_ok 3306 -e 'SELECT 1' >/dev/null; then
    my_port=3306
else
    if ! command -v mariadbd >/dev/null && [ ! -x /usr/sbin/mariadbd ]; then
        echo "servers.sh: MariaDB is not installed and none answers on 127.0.0.1:3306 (apt-get install mariadb-server)" >&2
        exit 1
    fi
    my_port=$(free_port)
    m="$dir/mariadb"
    mkdir -p "$m"
    as_my=()
    if [ "$(id -u)" -eq 0 ]; then
        my_user=mysql
        id "$my_user" >/dev/null 2>&1 || my_user=nobody
        chown "$my_user" "$m"
        as_my=(runuser -u "$my_user" --)
    fi
    # throwaway data; root without a password, on the loopback and the private socket only
    "${as_my[@]}" mariadb-install-db --no-defaults --datadir="$m/data" --auth-root-authentication-method=normal \
        --skip-test-db > "$m/install.log" 2>&1
    "${as_my[@]}" /usr/sbin/mariadbd --no-defaults --datadir="$m/data" --port="$my_port" --bind-address=127.0.0.1 \
        --socket="$m/mariadb.sock" --pid-file="$m/mariadb.pid" --skip-log-bin --innodb-flush-log-at-trx-commit=0 \
        > "$m/mariadb.log" 2>&1 &
    wait_port "$my_port" MariaDB
    # the server's own pid (runuser's would not pass the signal on)
    for _ in $(seq 1 50); do [ -s "$m/mariadb.pid" ] && break; sleep 0.1; done
    cp "$m/mariadb.pid" "$dir/mariadb.pid"
fi
my_ok "$my_port" -e 'CREATE DATABASE IF NOT EXISTS ferry_test'

cat > "$dir/servers.env" <<ENV
FERRY_SERVERS_DIR=$dir
FERRY_TEST_CA=$dir/ca.pem
FERRY_TEST_IMAP=127.0.0.1:$imap_port
FERRY_TEST_IMAP_DOTTED=127.0.0.1:$imap_dotted_port
FERRY_TEST_PASSWORD=ferry-test-secret
FERRY_TEST_WEBDAV=127.0.0.1:$dav_port
FERRY_TEST_WEBDAV_SELFSIGNED=127.0.0.1:$dav_ss_port
FERRY_TEST_SELFSIGNED=$dir/selfsigned.pem
FERRY_TEST_RADICALE=127.0.0.1:$rad_port
FERRY_TEST_XANDIKOS_A=127.0.0.1:${x_port[a]}
FERRY_TEST_XANDIKOS_B=127.0.0.1:${x_port[b]}
FERRY_TEST_XANDIKOS_C=127.0.0.1:${x_port[c]}
FERRY_TEST_XANDIKOS_D=127.0.0.1:${x_port[d]}
FERRY_TEST_XANDIKOS_E=127.0.0.1:${x_port[e]}
FERRY_TEST_XANDIKOS_F=127.0.0.1:${x_port[f]}
FERRY_TEST_POSTGRES=postgres://postgres@127.0.0.1:$pg_port/ferry_test
FERRY_TEST_OAUTH=http://127.0.0.1:$oauth_port
FERRY_TEST_MARIADB=mysql://root@127.0.0.1:$my_port/ferry_test
FERRY_TEST_REMOTE=127.0.0.1:$remote_port
FERRY_TEST_REMOTE_TOKEN=ferry-remote-token
FERRY_TEST_SMTP=smtp://127.0.0.1:$smtp_port
FERRY_TEST_SMTP_MAILDIR=$dir/smtp-maildir
ENV
echo "$dir"
