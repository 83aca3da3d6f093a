-- Which way an incident went as far as US/coalition forces are concerned: an attack on
-- them, a strike by them, or neither. Alerts, /latest, /count and the tension index use it.
ALTER TABLE incidents ADD COLUMN direction TEXT NOT NULL DEFAULT 'other'
    CHECK (direction IN ('on_coalition', 'by_coalition', 'other'));

-- Incidents stored before the field existed take it from their actor names, as new ones
-- do when the form leaves it out (bot.models.direction_from_actors, in outline: GLOB keeps
-- "US" case-sensitive, LIKE matches the longer names in any case).
UPDATE incidents SET direction = CASE
    WHEN target GLOB '*US[^a-zA-Z]*' OR target GLOB '*US' OR target GLOB '*U.S.*'
        OR target LIKE '%United States%' OR target LIKE '%American%'
        OR target LIKE '%coalition%' OR target LIKE '%British%' OR target LIKE '%United Kingdom%'
        THEN 'on_coalition'
    WHEN perpetrator GLOB '*US[^a-zA-Z]*' OR perpetrator GLOB '*US' OR perpetrator GLOB '*U.S.*'
        OR perpetrator LIKE '%United States%' OR perpetrator LIKE '%American%'
        OR perpetrator LIKE '%coalition%' OR perpetrator LIKE '%British%'
        OR perpetrator LIKE '%United Kingdom%'
        THEN 'by_coalition'
    ELSE 'other'
END;

-- The directions a subscriber is alerted about, as bits: 1 attacks on US/coalition forces,
-- 2 strikes by them, 4 other. Default 5: attacks and other; strikes are opt-in.
ALTER TABLE subscribers ADD COLUMN alert_directions INTEGER NOT NULL DEFAULT 5
    CHECK (alert_directions BETWEEN 1 AND 7);
