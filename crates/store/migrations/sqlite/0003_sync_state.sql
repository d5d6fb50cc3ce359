-- Per source/destination pair and vertical: the source's change-tracking state (such as
-- CalDAV/CardDAV sync tokens) after the last complete export without failures, from
-- which an incremental job lists only what changed since.
CREATE TABLE sync_state (
    pair     TEXT NOT NULL,
    vertical TEXT NOT NULL,
    state    TEXT NOT NULL,
    PRIMARY KEY (pair, vertical)
);
