-- Escalation notices given: one row per notice, so a site's cool-down can be checked and
-- what was said can be traced to the attack that triggered it.
CREATE TABLE escalation_notices (
    id          INTEGER PRIMARY KEY,
    site        TEXT NOT NULL COLLATE NOCASE,
    country     TEXT NOT NULL,  -- the site's country and province: who follows it
    admin1      TEXT NOT NULL,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    ordinal     INTEGER NOT NULL,  -- the attack was the ordinal-th in the window
    occurred_at TEXT NOT NULL,     -- when that attack occurred (the cool-down runs from it)
    previous    TEXT NOT NULL,     -- ids of the earlier attacks in the window, JSON
    line        TEXT NOT NULL,     -- what followers are told (HTML), added to their alert
    created_at  TEXT NOT NULL
);
CREATE INDEX escalation_notices_by_site ON escalation_notices (site, occurred_at);
-- Attacks near a site are found by their coordinates' box.
CREATE INDEX incidents_attacks_by_place ON incidents (latitude, longitude, occurred_at)
    WHERE status = 'published' AND direction = 'on_coalition';
