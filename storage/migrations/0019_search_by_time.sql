-- /search walks the full-text index newest first and stops after ten matches: the index
-- holds published incidents only, each under a key that orders by when it happened,
--   key = (occurred_at in Unix seconds) × 2^24 + id,
-- so FTS5's own rowid order is (occurred_at, id) and "ORDER BY rowid DESC LIMIT 10" reads
-- ten matches, not every match. The id is the key's low 24 bits (ids below 16,777,216).
-- Contentless: the text stays in incidents; a delete names the old values, as FTS5 requires.
-- Prefix indexes of 3 to 6 characters: a word searched as a prefix ("drone" finds "drones")
-- is then read from one doclist in key order; without one, FTS5 first merges the doclists
-- of every term with that prefix (100 ms for a common word at a million incidents).
-- Longer words still take that path, on fewer and rarer terms.
DROP TRIGGER incidents_fts_insert;
DROP TRIGGER incidents_fts_delete;
DROP TRIGGER incidents_fts_update;
DROP TABLE incidents_fts;

CREATE VIRTUAL TABLE incidents_search USING fts5 (
    title, summary, location,
    content = '',
    prefix = '3 4 5 6',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER incidents_search_insert AFTER INSERT ON incidents
WHEN new.status = 'published' BEGIN
    INSERT INTO incidents_search (rowid, title, summary, location) VALUES (
        CAST(strftime('%s', new.occurred_at) AS INTEGER) * 16777216 + new.id,
        new.title, new.summary, new.location);
END;

CREATE TRIGGER incidents_search_delete AFTER DELETE ON incidents
WHEN old.status = 'published' BEGIN
    INSERT INTO incidents_search (incidents_search, rowid, title, summary, location) VALUES (
        'delete', CAST(strftime('%s', old.occurred_at) AS INTEGER) * 16777216 + old.id,
        old.title, old.summary, old.location);
END;

-- One trigger for both halves, so the old entry is gone before the new one goes in.
CREATE TRIGGER incidents_search_update
AFTER UPDATE OF title, summary, location, occurred_at, status ON incidents BEGIN
    INSERT INTO incidents_search (incidents_search, rowid, title, summary, location)
    SELECT 'delete', CAST(strftime('%s', old.occurred_at) AS INTEGER) * 16777216 + old.id,
        old.title, old.summary, old.location
    WHERE old.status = 'published';
    INSERT INTO incidents_search (rowid, title, summary, location)
    SELECT CAST(strftime('%s', new.occurred_at) AS INTEGER) * 16777216 + new.id,
        new.title, new.summary, new.location
    WHERE new.status = 'published';
END;

INSERT INTO incidents_search (rowid, title, summary, location)
SELECT CAST(strftime('%s', occurred_at) AS INTEGER) * 16777216 + id, title, summary, location
FROM incidents WHERE status = 'published';
