-- Incidents follow the ACLED event model; times are ISO-8601 UTC text ("2024-08-05T18:30:00Z"),
-- which sorts correctly as text and reads correctly in the sqlite3 shell.
CREATE TABLE incidents (
    id                INTEGER PRIMARY KEY,
    external_id       TEXT NOT NULL UNIQUE,
    occurred_at       TEXT NOT NULL,
    reported_at       TEXT,
    title             TEXT NOT NULL,
    summary           TEXT NOT NULL DEFAULT '',
    event_type        TEXT NOT NULL,
    sub_event_type    TEXT NOT NULL DEFAULT '',
    country           TEXT NOT NULL,
    admin1            TEXT NOT NULL DEFAULT '',
    location          TEXT NOT NULL,
    latitude          REAL,
    longitude         REAL,
    perpetrator       TEXT NOT NULL DEFAULT '',
    target            TEXT NOT NULL DEFAULT '',
    claimed_by        TEXT,
    killed            INTEGER CHECK (killed >= 0),
    killed_qualifier  TEXT CHECK (killed_qualifier IN ('exact', 'at least', 'about', 'nearly')),
    injured           INTEGER CHECK (injured >= 0),
    injured_qualifier TEXT CHECK (injured_qualifier IN ('exact', 'at least', 'about', 'nearly')),
    severity          INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 5),
    tags              TEXT NOT NULL DEFAULT '[]',
    status            TEXT NOT NULL DEFAULT 'published' CHECK (status IN ('published', 'retracted')),
    retraction_reason TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

-- Newest-first listings page by (occurred_at, id); the partial index holds only what users see.
CREATE INDEX incidents_published_newest
    ON incidents (occurred_at DESC, id DESC) WHERE status = 'published';
CREATE INDEX incidents_country_newest
    ON incidents (country COLLATE NOCASE, occurred_at DESC, id DESC) WHERE status = 'published';

CREATE TABLE incident_sources (
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    url         TEXT,
    PRIMARY KEY (incident_id, position)
) WITHOUT ROWID;

-- External-content FTS5 index kept in step with incidents by triggers.
CREATE VIRTUAL TABLE incidents_fts USING fts5 (
    title, summary, location,
    content = 'incidents', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER incidents_fts_insert AFTER INSERT ON incidents BEGIN
    INSERT INTO incidents_fts (rowid, title, summary, location)
    VALUES (new.id, new.title, new.summary, new.location);
END;

CREATE TRIGGER incidents_fts_delete AFTER DELETE ON incidents BEGIN
    INSERT INTO incidents_fts (incidents_fts, rowid, title, summary, location)
    VALUES ('delete', old.id, old.title, old.summary, old.location);
END;

CREATE TRIGGER incidents_fts_update AFTER UPDATE OF title, summary, location ON incidents BEGIN
    INSERT INTO incidents_fts (incidents_fts, rowid, title, summary, location)
    VALUES ('delete', old.id, old.title, old.summary, old.location);
    INSERT INTO incidents_fts (rowid, title, summary, location)
    VALUES (new.id, new.title, new.summary, new.location);
END;

-- Troop figures are never overwritten: each report is a row, so /troops can show the change.
CREATE TABLE troop_figures (
    id           INTEGER PRIMARY KEY,
    force        TEXT NOT NULL,
    host_country TEXT NOT NULL,
    count        INTEGER NOT NULL CHECK (count >= 0),
    qualifier    TEXT NOT NULL CHECK (qualifier IN ('exact', 'at least', 'about', 'nearly')),
    as_of        TEXT NOT NULL,
    source_name  TEXT NOT NULL,
    source_url   TEXT,
    created_at   TEXT NOT NULL,
    UNIQUE (force, host_country, as_of)
);
