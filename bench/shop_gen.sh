# The generated shop of bench/requests.sh, for it and bench/fides.sh: the sample shop's
# schema (examples/requests/shop/schema.postgres.sql) in database DB of SERVER (dropped
# and made again), CUSTOMERS customers and 23 rows each in the other eleven tables, and
# one customer heavy@example.com with HEAVY more sign-ins.
# Usage, after `set -euo pipefail`:  . bench/shop_gen.sh; shop_generate SERVER DB CUSTOMERS HEAVY
shop_generate() {
    local SERVER=$1 DB=$2 CUSTOMERS=$3 HEAVY=$4
    local URL="${SERVER%/*}/$DB" REPO start rows
    REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    psql -q -v ON_ERROR_STOP=1 "$SERVER" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
    psql -q -v ON_ERROR_STOP=1 "$URL" -f "$REPO/examples/requests/shop/schema.postgres.sql"
    start=$(date +%s)
    psql -q -v ON_ERROR_STOP=1 -v C="$CUSTOMERS" -v H="$HEAVY" "$URL" <<'SQL'
SET synchronous_commit = off;
INSERT INTO customers SELECT c, 'c' || c || '@example.com', 'Customer ' || c, '+44 20 7946 ' || lpad((c % 10000)::text, 4, '0'),
    TIMESTAMP '2022-01-01' + (c % 1000) * INTERVAL '1 day', NULL FROM generate_series(1, :C) c;
UPDATE customers SET referred_by = id - 1 WHERE id % 10 = 0;
INSERT INTO addresses SELECT c, c, 'home', c || ' High Street', 'London', 'N' || (c % 20) || ' 1AA', 'GB' FROM generate_series(1, :C) c;
INSERT INTO products SELECT p, 'Product ' || p, 100 + p * 7 % 5000 FROM generate_series(1, 1000) p;
INSERT INTO orders SELECT o, (o - 1) / 3 + 1, (o - 1) / 3 + 1, TIMESTAMP '2024-01-01' + ((o * 113) % 900) * INTERVAL '1 day', 'delivered', 1000 + o % 9000
    FROM generate_series(1, 3 * :C) o;
INSERT INTO order_lines SELECT l, (l - 1) / 2 + 1, (l * 31) % 1000 + 1, 1 + l % 3, 500 + l % 4000 FROM generate_series(1, 6 * :C) l;
INSERT INTO invoices SELECT o, o, 'INV-' || o, TIMESTAMP '2024-01-01' + ((o * 113) % 900) * INTERVAL '1 day', 'Customer ' || ((o - 1) / 3 + 1), 1000, 200
    FROM generate_series(1, 3 * :C) o;
INSERT INTO reviews SELECT c, c, (c * 17) % 1000 + 1, 1 + c % 5, 'Review number ' || c, TIMESTAMP '2025-01-01' + (c % 500) * INTERVAL '1 day'
    FROM generate_series(1, :C) c;
INSERT INTO support_tickets SELECT c, c, TIMESTAMP '2025-01-01' + (c % 500) * INTERVAL '1 day', 'Ticket ' || c, 'Help with order ' || (3 * c)
    FROM generate_series(1, :C) c;
INSERT INTO ticket_notes SELECT c, c, 'Sam', 'Answered.', TIMESTAMP '2025-01-02' + (c % 500) * INTERVAL '1 day' FROM generate_series(1, :C) c;
INSERT INTO login_history SELECT l, (l - 1) / 4 + 1, TIMESTAMP '2025-01-01' + (l % 540) * INTERVAL '1 day', '198.51.100.' || (l % 250), 'Firefox on Linux'
    FROM generate_series(1, 4 * :C) l;
INSERT INTO marketing_consents SELECT c, c, 'email', c % 2 = 0, 'Send me offers by email.', TIMESTAMP '2024-06-01' + (c % 700) * INTERVAL '1 day'
    FROM generate_series(1, :C) c;
INSERT INTO recommendation_scores SELECT c, c, (c % 100) / 100.0, 'segment ' || (c % 7), TIMESTAMP '2026-06-28' FROM generate_series(1, :C) c;
INSERT INTO messages SELECT c, c, c % :C + 1, TIMESTAMP '2025-07-01' + (c % 360) * INTERVAL '1 day', 'Hello', 'Message ' || c FROM generate_series(1, :C) c;
INSERT INTO customers VALUES (:C + 1, 'heavy@example.com', 'Heavy User', NULL, TIMESTAMP '2020-01-01', NULL);
INSERT INTO login_history SELECT 4 * :C + l, :C + 1, TIMESTAMP '2025-07-01' + (l % 31536000) * INTERVAL '1 second', '203.0.113.' || (l % 250),
    'Safari on iPhone, session ' || l FROM generate_series(1, :H) l;
ANALYZE;
SQL
    rows=$(psql -At "$URL" -c "SELECT (SELECT count(*) FROM customers) + (SELECT count(*) FROM addresses) + (SELECT count(*) FROM orders)
        + (SELECT count(*) FROM order_lines) + (SELECT count(*) FROM invoices) + (SELECT count(*) FROM reviews) + (SELECT count(*) FROM support_tickets)
        + (SELECT count(*) FROM ticket_notes) + (SELECT count(*) FROM login_history) + (SELECT count(*) FROM marketing_consents)
        + (SELECT count(*) FROM recommendation_scores) + (SELECT count(*) FROM messages)")
    echo "generated: $CUSTOMERS customers, $rows rows in all (HEAVY=$HEAVY), in $(( $(date +%s) - start )) s"
}
