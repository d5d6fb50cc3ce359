-- The sample shop's tables in SQLite. The same tables as schema.postgres.sql and
-- schema.mariadb.sql; seed.sql fills any of them. Every column ferry searches (identity
-- and link columns, and the columns links point to) leads an index: check-map says so.

CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    email VARCHAR(255) NOT NULL,
    name VARCHAR(255) NOT NULL,
    phone VARCHAR(40),
    created_at TEXT NOT NULL,
    referred_by INTEGER REFERENCES customers (id)
);
CREATE UNIQUE INDEX customers_email ON customers (email);
CREATE INDEX customers_referred_by ON customers (referred_by);

CREATE TABLE addresses (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    label VARCHAR(40) NOT NULL,
    street VARCHAR(255) NOT NULL,
    city VARCHAR(120) NOT NULL,
    postcode VARCHAR(20) NOT NULL,
    country CHAR(2) NOT NULL
);
CREATE INDEX addresses_customer ON addresses (customer_id);

CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    price_cents INTEGER NOT NULL
);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    shipping_address_id INTEGER REFERENCES addresses (id),
    placed_at TEXT NOT NULL,
    status VARCHAR(20) NOT NULL,
    total_cents INTEGER NOT NULL
);
CREATE INDEX orders_customer ON orders (customer_id, placed_at);
CREATE INDEX orders_shipping_address ON orders (shipping_address_id);

CREATE TABLE order_lines (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    product_id INTEGER NOT NULL REFERENCES products (id),
    quantity INTEGER NOT NULL,
    unit_price_cents INTEGER NOT NULL
);
CREATE INDEX order_lines_order ON order_lines (order_id);
CREATE INDEX order_lines_product ON order_lines (product_id);

CREATE TABLE invoices (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    number VARCHAR(40) NOT NULL,
    issued_at TEXT NOT NULL,
    billing_name VARCHAR(255) NOT NULL,
    net_cents INTEGER NOT NULL,
    vat_cents INTEGER NOT NULL
);
CREATE INDEX invoices_order ON invoices (order_id);

CREATE TABLE reviews (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    product_id INTEGER NOT NULL REFERENCES products (id),
    rating INTEGER NOT NULL,
    body TEXT NOT NULL,
    written_at TEXT NOT NULL
);
CREATE INDEX reviews_customer ON reviews (customer_id);
CREATE INDEX reviews_product ON reviews (product_id);

CREATE TABLE support_tickets (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    opened_at TEXT NOT NULL,
    subject VARCHAR(255) NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX support_tickets_customer ON support_tickets (customer_id);

CREATE TABLE ticket_notes (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES support_tickets (id),
    staff_member VARCHAR(120) NOT NULL,
    note TEXT NOT NULL,
    written_at TEXT NOT NULL
);
CREATE INDEX ticket_notes_ticket ON ticket_notes (ticket_id);

CREATE TABLE login_history (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    logged_in_at TEXT NOT NULL,
    ip_address VARCHAR(45) NOT NULL,
    user_agent VARCHAR(255) NOT NULL
);
CREATE INDEX login_history_customer ON login_history (customer_id, logged_in_at);

CREATE TABLE marketing_consents (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    channel VARCHAR(20) NOT NULL,
    granted BOOLEAN NOT NULL,
    wording TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX marketing_consents_customer ON marketing_consents (customer_id);

CREATE TABLE recommendation_scores (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    score REAL NOT NULL,
    segment VARCHAR(40) NOT NULL,
    computed_at TEXT NOT NULL
);
CREATE INDEX recommendation_scores_customer ON recommendation_scores (customer_id);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    sender_id INTEGER NOT NULL REFERENCES customers (id),
    recipient_id INTEGER NOT NULL REFERENCES customers (id),
    sent_at TEXT NOT NULL,
    subject VARCHAR(255) NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX messages_sender ON messages (sender_id);
CREATE INDEX messages_recipient ON messages (recipient_id);
