-- News feeds the intake reads. Those listed in the config file are marked, so that
-- /feeds remove can say where they must be removed.
CREATE TABLE feeds (
    id               INTEGER PRIMARY KEY,
    url              TEXT NOT NULL UNIQUE,
    from_config      INTEGER NOT NULL DEFAULT 0,
    title            TEXT NOT NULL DEFAULT '',
    etag             TEXT,
    last_modified    TEXT,
    added_by         INTEGER,
    added_at         TEXT NOT NULL,
    last_fetch_at    TEXT,
    last_new_item_at TEXT,
    last_error       TEXT,
    failures         INTEGER NOT NULL DEFAULT 0,
    next_fetch_at    TEXT NOT NULL
);

-- Every item a feed has delivered, once, and what became of it: a restart or a
-- re-fetch proposes nothing twice.
CREATE TABLE feed_items (
    feed_id      INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    item_key     TEXT NOT NULL,
    title        TEXT NOT NULL,
    link         TEXT,
    published_at TEXT,
    seen_at      TEXT NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('proposed', 'skipped')),
    reason       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (feed_id, item_key)
) WITHOUT ROWID;
CREATE INDEX feed_items_skipped ON feed_items (feed_id, seen_at) WHERE outcome = 'skipped';

-- Drafts proposed from feed items, waiting for an admin's Use, Edit or Discard.
-- occurred_at, admin1 and location are kept apart from the form's fields so that a
-- later report of the same attack can be matched to it.
CREATE TABLE proposals (
    id           INTEGER PRIMARY KEY,
    feed_id      INTEGER REFERENCES feeds (id) ON DELETE SET NULL,
    link         TEXT,
    fields       TEXT NOT NULL,
    notes        TEXT NOT NULL DEFAULT '[]',
    occurred_at  TEXT NOT NULL,
    country      TEXT NOT NULL,
    admin1       TEXT NOT NULL DEFAULT '',
    location     TEXT NOT NULL,
    update_of    INTEGER REFERENCES incidents (id),
    update_of_proposal INTEGER REFERENCES proposals (id),
    status       TEXT NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'used', 'edited', 'applied', 'discarded')),
    decided_by   INTEGER,
    decided_at   TEXT,
    created_at   TEXT NOT NULL
);
CREATE INDEX proposals_pending ON proposals (occurred_at) WHERE status = 'pending';
CREATE INDEX proposals_by_link ON proposals (link);
CREATE INDEX incident_sources_url ON incident_sources (url);

-- Each copy of a proposal sent to an admin, so that deciding it updates every copy.
CREATE TABLE proposal_messages (
    proposal_id INTEGER NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    PRIMARY KEY (proposal_id, chat_id)
) WITHOUT ROWID;

-- Admins who turned the review queue off in their private chat (/settings queue off).
CREATE TABLE queue_opt_outs (
    user_id INTEGER PRIMARY KEY,
    at      TEXT NOT NULL
);
