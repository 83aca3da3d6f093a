-- Who hears about what. A subscriber is a chat: a person, a group or a channel.
CREATE TABLE subscribers (
    chat_id           INTEGER PRIMARY KEY,
    chat_type         TEXT NOT NULL
                      CHECK (chat_type IN ('private', 'group', 'supergroup', 'channel')),
    active            INTEGER NOT NULL DEFAULT 1,
    inactive_reason   TEXT,
    regions           TEXT NOT NULL DEFAULT '[]',   -- what they chose, as shown; [] = everywhere
    min_severity      INTEGER CHECK (min_severity BETWEEN 1 AND 5),  -- NULL = no instant alerts
    digest            TEXT NOT NULL DEFAULT 'daily' CHECK (digest IN ('daily', 'weekly', 'off')),
    digest_weekday    INTEGER NOT NULL DEFAULT 0 CHECK (digest_weekday BETWEEN 0 AND 6),  -- Monday 0
    digest_time       TEXT NOT NULL DEFAULT '08:00',  -- local HH:MM
    timezone          TEXT NOT NULL DEFAULT 'UTC',
    quiet_start       TEXT,                          -- local HH:MM; both NULL = no quiet hours
    quiet_end         TEXT,
    skip_empty_digest INTEGER NOT NULL DEFAULT 0,
    digest_chart      INTEGER NOT NULL DEFAULT 1,
    last_digest_at    TEXT,  -- UTC end of what the previous digest covered
    next_digest_at    TEXT,  -- UTC time the next digest is due; NULL when there is none
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX subscribers_due ON subscribers (next_digest_at)
    WHERE active = 1 AND next_digest_at IS NOT NULL;

-- The countries a subscriber's choice covers, for matching alerts in SQL.
-- No rows for a subscriber means everywhere.
CREATE TABLE subscriber_countries (
    chat_id INTEGER NOT NULL REFERENCES subscribers (chat_id) ON DELETE CASCADE ON UPDATE CASCADE,
    country TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (chat_id, country)
) WITHOUT ROWID;
CREATE INDEX subscriber_countries_by_country ON subscriber_countries (country, chat_id);

-- Every message to subscribers, written before it is sent. A row is claimed
-- ('sending') before the send and settled after it, so a restart knows exactly
-- which messages may have been in flight.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('alert', 'correction', 'digest')),
    dedupe_key  TEXT NOT NULL UNIQUE,
    incident_id INTEGER REFERENCES incidents (id),
    payload     TEXT,      -- pre-rendered message (JSON); NULL for alerts, rendered when sent
    priority    INTEGER NOT NULL DEFAULT 5,  -- lower goes first
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'dropped')),
    not_before  TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    message_id  INTEGER,
    created_at  TEXT NOT NULL,
    settled_at  TEXT
);
CREATE INDEX outbox_due ON outbox (priority, not_before, id) WHERE status = 'pending';
CREATE INDEX outbox_in_flight ON outbox (id) WHERE status = 'sending';
CREATE INDEX outbox_by_incident ON outbox (incident_id, kind, status) WHERE incident_id IS NOT NULL;
CREATE INDEX outbox_by_chat ON outbox (chat_id, status);
CREATE INDEX outbox_settled ON outbox (settled_at, kind, status) WHERE settled_at IS NOT NULL;
