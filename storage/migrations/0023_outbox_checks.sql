-- The outbox's CHECKs on kind and status, written with OR instead of IN: the same rules,
-- but SQLite tests an IN list in a CHECK far more slowly, and queueing one attack's
-- 46,000 alerts (one INSERT … SELECT) spent 40 of its 100 ms of CPU on those two tests.
-- A table's CHECKs cannot be altered, so the outbox is rebuilt with its rows and indexes.
-- The old table is renamed first, so that its self-reference (after_id) follows it and
-- dropping it leaves no row of the new table pointing at a table that goes away.
ALTER TABLE outbox RENAME TO outbox_before_0023;

CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    kind        TEXT NOT NULL
                CHECK (kind = 'alert' OR kind = 'correction' OR kind = 'digest'),
    dedupe_key  TEXT NOT NULL UNIQUE,
    incident_id INTEGER REFERENCES incidents (id),
    payload     TEXT,      -- pre-rendered message (JSON); NULL for alerts, rendered when sent
    priority    INTEGER NOT NULL DEFAULT 5,  -- lower goes first
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status = 'pending' OR status = 'sending' OR status = 'sent'
                       OR status = 'failed' OR status = 'dropped'),
    not_before  TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    message_id  INTEGER,
    created_at  TEXT NOT NULL,
    settled_at  TEXT,
    after_id    INTEGER REFERENCES outbox (id)  -- not claimed while that row is unsettled
);
INSERT INTO outbox (id, chat_id, kind, dedupe_key, incident_id, payload, priority, status,
                    not_before, attempts, last_error, message_id, created_at, settled_at,
                    after_id)
SELECT id, chat_id, kind, dedupe_key, incident_id, payload, priority, status, not_before,
       attempts, last_error, message_id, created_at, settled_at, after_id
FROM outbox_before_0023 ORDER BY id;
DROP TABLE outbox_before_0023;

CREATE INDEX outbox_due ON outbox (priority, not_before, id, after_id) WHERE status = 'pending';
CREATE INDEX outbox_in_flight ON outbox (id) WHERE status = 'sending';
CREATE INDEX outbox_by_incident ON outbox (incident_id, kind, status) WHERE incident_id IS NOT NULL;
CREATE INDEX outbox_by_chat ON outbox (chat_id, status);
CREATE INDEX outbox_settled ON outbox (settled_at, kind, status) WHERE settled_at IS NOT NULL;
