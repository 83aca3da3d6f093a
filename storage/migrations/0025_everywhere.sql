-- "Everywhere" is a choice of its own. It used to be read from no regions and no watched
-- sites, so a chat that stopped watching its only base was silently sent every alert,
-- and a chat that watched a base could never choose everywhere. Now 1 means every place
-- (whatever regions and watches say), and 0 with no regions and no watches means the
-- chat follows no place: no alerts, no digest, until it chooses some.
ALTER TABLE subscribers ADD COLUMN everywhere INTEGER NOT NULL DEFAULT 0
    CHECK (everywhere = 0 OR everywhere = 1);
UPDATE subscribers SET everywhere = 1 WHERE regions = '[]' AND watches = '[]';

-- Alert matching reads the followers of everywhere from this index alone (as in 0022,
-- it holds every column the match tests).
DROP INDEX subscribers_everywhere;
CREATE INDEX subscribers_everywhere ON subscribers
    (min_severity, alert_directions, active, everywhere)
    WHERE active = 1 AND everywhere = 1;
