-- Editors granted by the owners (owners themselves live in the config file).
CREATE TABLE editors (
    user_id    INTEGER PRIMARY KEY,
    granted_by INTEGER NOT NULL,
    granted_at TEXT NOT NULL
);

-- Every admin action and every refused attempt, newest last.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    actor_id INTEGER NOT NULL,
    action   TEXT NOT NULL,
    subject  TEXT NOT NULL DEFAULT '',
    detail   TEXT NOT NULL DEFAULT '{}'
);

-- The incident as it was before each edit or retraction, so corrections can be traced
-- and sent to whoever saw the earlier version.
CREATE TABLE incident_versions (
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    change      TEXT NOT NULL CHECK (change IN ('edit', 'retract')),
    fields      TEXT NOT NULL,
    snapshot    TEXT NOT NULL,
    changed_by  INTEGER NOT NULL,
    changed_at  TEXT NOT NULL,
    PRIMARY KEY (incident_id, version)
) WITHOUT ROWID;

-- Drafts waiting for an admin to publish them; written at every step so none is lost.
CREATE TABLE drafts (
    id         INTEGER PRIMARY KEY,
    owner_id   INTEGER NOT NULL,
    origin     TEXT NOT NULL CHECK (origin IN ('form', 'guided', 'article')),
    fields     TEXT NOT NULL DEFAULT '{}',
    status     TEXT NOT NULL DEFAULT 'open'
               CHECK (status IN ('open', 'published', 'cancelled')),
    incident_id INTEGER REFERENCES incidents (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX drafts_open_by_owner ON drafts (owner_id, origin) WHERE status = 'open';

-- The channel message that mirrors each published incident, so edits can follow it.
CREATE TABLE channel_posts (
    incident_id INTEGER PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE,
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL
);

-- python-telegram-bot conversation states (which step of /post a user is at).
CREATE TABLE conversations (
    name  TEXT NOT NULL,
    key   TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (name, key)
) WITHOUT ROWID;

CREATE INDEX incidents_location_time ON incidents (location COLLATE NOCASE, occurred_at);
