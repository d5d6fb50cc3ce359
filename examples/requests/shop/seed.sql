-- The sample shop's data: five customers, in SQL that PostgreSQL, MariaDB and SQLite all
-- take (after the schema file for the database). Dates are fixed, so that a request
-- "as of 30 June 2026" has a known 12-month look-back (from 30 June 2025). Alice
-- (customer 1) has something in every table; the tests list what each answer gives her.

INSERT INTO customers (id, email, name, phone, created_at, referred_by) VALUES
    (2, 'bob@example.com', 'Bob Brown', '+44 20 7946 0002', '2022-11-01 08:00:00', NULL),
    (1, 'alice@example.com', 'Alice Adams', '+44 20 7946 0001', '2023-03-14 10:15:00', 2),
    (3, 'carol@example.com', 'Carol Clark', NULL, '2024-01-09 19:40:00', 1),
    (4, 'dara.o''brien@example.com', 'Dara O''Brien', '+353 1 555 0104', '2025-02-02 12:00:00', NULL),
    (5, 'erin@example.com', 'Erin Evans', NULL, '2026-06-20 09:00:00', NULL);

INSERT INTO addresses (id, customer_id, label, street, city, postcode, country) VALUES
    (1, 1, 'home', '1 Teapot Lane', 'London', 'N1 1AA', 'GB'),
    (2, 1, 'work', '20 Kettle Street', 'London', 'EC1 2BB', 'GB'),
    (3, 2, 'home', '3 Saucer Road', 'Leeds', 'LS1 3CC', 'GB'),
    (4, 3, 'home', '4 Cup Close', 'York', 'YO1 4DD', 'GB'),
    (5, 4, 'home', '5 Strand Street', 'Dublin', 'D01 X2Y3', 'IE');

INSERT INTO products (id, name, price_cents) VALUES
    (1, 'Teapot', 3500),
    (2, 'Kettle', 4200),
    (3, 'Mug', 900),
    (4, 'Tea towel', 600);

INSERT INTO orders (id, customer_id, shipping_address_id, placed_at, status, total_cents) VALUES
    (1, 1, 1, '2024-11-02 14:00:00', 'delivered', 5300),
    (2, 1, 2, '2025-09-15 09:30:00', 'delivered', 4200),
    (3, 1, 1, '2026-04-01 18:45:00', 'shipped', 4200),
    (4, 2, 3, '2026-01-10 11:00:00', 'delivered', 3500),
    (5, 3, 4, '2025-12-01 16:20:00', 'delivered', 8400),
    (6, 4, 5, '2026-05-05 10:10:00', 'placed', 900);

INSERT INTO order_lines (id, order_id, product_id, quantity, unit_price_cents) VALUES
    (1, 1, 1, 1, 3500),
    (2, 1, 3, 2, 900),
    (3, 2, 2, 1, 4200),
    (4, 3, 3, 4, 900),
    (5, 3, 4, 1, 600),
    (6, 4, 1, 1, 3500),
    (7, 5, 2, 2, 4200),
    (8, 6, 3, 1, 900);

INSERT INTO invoices (id, order_id, number, issued_at, billing_name, net_cents, vat_cents) VALUES
    (1, 1, 'INV-2024-0001', '2024-11-02 14:05:00', 'Alice Adams', 4417, 883),
    (2, 2, 'INV-2025-0107', '2025-09-15 09:35:00', 'Alice Adams', 3500, 700),
    (3, 3, 'INV-2026-0042', '2026-04-01 18:50:00', 'Alice Adams', 3500, 700),
    (4, 4, 'INV-2026-0003', '2026-01-10 11:05:00', 'Bob Brown', 2917, 583),
    (5, 5, 'INV-2025-0230', '2025-12-01 16:25:00', 'Carol Clark', 7000, 1400),
    (6, 6, 'INV-2026-0077', '2026-05-05 10:15:00', 'Dara O''Brien', 750, 150);

INSERT INTO reviews (id, customer_id, product_id, rating, body, written_at) VALUES
    (1, 1, 1, 5, 'Pours without a drip. <b>Lovely</b> & sturdy.', '2024-12-01 20:00:00'),
    (2, 1, 2, 4, 'Boils fast; a little loud.', '2025-10-01 07:30:00'),
    (3, 2, 1, 2, 'The lid rattles.', '2026-02-01 12:00:00'),
    (4, 3, 3, 5, 'My favourite mug.', '2026-01-01 10:00:00');

INSERT INTO support_tickets (id, customer_id, opened_at, subject, body) VALUES
    (1, 1, '2025-01-20 09:00:00', 'Where is my parcel?', 'Order 1 has not arrived after two weeks.'),
    (2, 1, '2026-04-05 13:10:00', 'Broken mug', 'One of the four mugs arrived broken.'),
    (3, 2, '2026-02-02 15:00:00', 'Rattling lid', 'The teapot lid rattles. Can I get a new one?');

INSERT INTO ticket_notes (id, ticket_id, staff_member, note, written_at) VALUES
    (1, 1, 'Sam (support)', 'Carrier lost the parcel; sent a replacement.', '2025-01-21 10:00:00'),
    (2, 2, 'Kim (support)', 'Second breakage this year; Bob Brown reported the same batch.', '2026-04-06 09:00:00'),
    (3, 3, 'Sam (support)', 'Offered a replacement lid.', '2026-02-03 11:00:00');

INSERT INTO login_history (id, customer_id, logged_in_at, ip_address, user_agent) VALUES
    (1, 1, '2024-06-01 08:00:00', '198.51.100.7', 'Firefox 126 on Linux'),
    (2, 1, '2025-08-01 21:15:00', '198.51.100.7', 'Firefox 141 on Linux'),
    (3, 1, '2026-06-01 07:45:00', '203.0.113.20', 'Safari on iPhone'),
    (4, 2, '2026-06-02 12:00:00', '192.0.2.44', 'Chrome 150 on Windows');

INSERT INTO marketing_consents (id, customer_id, channel, granted, wording, recorded_at) VALUES
    (1, 1, 'email', TRUE, 'Send me offers by email.', '2023-03-14 10:16:00'),
    (2, 1, 'sms', TRUE, 'Send me offers by text message.', '2025-11-11 11:11:00'),
    (3, 1, 'email', FALSE, 'Send me offers by email.', '2026-02-01 08:00:00'),
    (4, 2, 'email', TRUE, 'Send me offers by email.', '2022-11-01 08:01:00');

INSERT INTO recommendation_scores (id, customer_id, score, segment, computed_at) VALUES
    (1, 1, 0.82, 'tea enthusiast', '2026-06-28 02:00:00'),
    (2, 2, 0.31, 'occasional', '2026-06-28 02:00:00'),
    (3, 3, 0.55, 'gift buyer', '2026-06-28 02:00:00');

INSERT INTO messages (id, sender_id, recipient_id, sent_at, subject, body) VALUES
    (1, 1, 2, '2025-07-01 18:00:00', 'Your teapot', 'Did your teapot arrive? Carol said hers was chipped.'),
    (2, 2, 1, '2026-03-03 08:30:00', 'Re: Your teapot', 'Yes, but the lid rattles. Ask Dara, she had a refund.'),
    (3, 3, 2, '2026-03-04 19:00:00', 'Mugs', 'Alice loves the mugs, by the way.'),
    (4, 1, 3, '2024-05-05 12:00:00', 'Referral', 'Here is my referral link for the shop.');
