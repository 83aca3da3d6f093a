-- Say only what is known: a claim or a perpetrator reported as none is not the same as
-- one never reported; every incident has a verification status; troop figures have a kind.
ALTER TABLE incidents ADD COLUMN no_claim INTEGER NOT NULL DEFAULT 0 CHECK (no_claim IN (0, 1));
ALTER TABLE incidents ADD COLUMN no_perpetrator INTEGER NOT NULL DEFAULT 0
    CHECK (no_perpetrator IN (0, 1));
ALTER TABLE incidents ADD COLUMN verification TEXT NOT NULL DEFAULT 'reported'
    CHECK (verification IN ('confirmed', 'reported', 'claimed', 'disputed'));
ALTER TABLE incidents ADD COLUMN confirmed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE troop_figures ADD COLUMN kind TEXT NOT NULL DEFAULT 'reported'
    CHECK (kind IN ('official', 'estimate', 'disclosure', 'reported'));

-- Two more qualifiers, "up to" and "more than". Widening a CHECK changes nothing stored,
-- so the table definition is edited in place, as SQLite's ALTER TABLE documentation
-- describes, rather than rebuilding tables that others reference; RESET reloads it.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, '''about'', ''nearly'')', '''about'', ''nearly'', ''up to'', ''more than'')')
 WHERE type = 'table' AND name IN ('incidents', 'troop_figures');
PRAGMA writable_schema = RESET;
-- A schema change every connection notices, so none keeps the narrower CHECK.
CREATE TABLE schema_reload (unused INTEGER);
DROP TABLE schema_reload;
