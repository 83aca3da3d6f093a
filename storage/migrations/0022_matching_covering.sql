-- Alert matching from covering indexes alone. Each part of the match (country, province,
-- site by name, site by box) used to join every row it found to the subscriber's row to
-- check activity, minimum severity and directions: 66,000 random lookups for one attack
-- at a million incidents and 100,000 subscribers. The place tables now carry copies of
-- those three, kept equal to the subscriber's row by the triggers below, and each part is
-- one range of a partial index holding everything it tests and the chat id it returns.
ALTER TABLE subscriber_countries ADD COLUMN active INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subscriber_countries ADD COLUMN min_severity INTEGER;
ALTER TABLE subscriber_countries ADD COLUMN alert_directions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subscriber_provinces ADD COLUMN active INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subscriber_provinces ADD COLUMN min_severity INTEGER;
ALTER TABLE subscriber_provinces ADD COLUMN alert_directions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subscriber_sites ADD COLUMN active INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subscriber_sites ADD COLUMN min_severity INTEGER;
ALTER TABLE subscriber_sites ADD COLUMN alert_directions INTEGER NOT NULL DEFAULT 0;
-- 1: the box is the area itself (a sea area: everything inside its bounding box), rather
-- than the box around the site's radius, inside which the distance still decides.
ALTER TABLE subscriber_sites ADD COLUMN whole_box INTEGER NOT NULL DEFAULT 0;

UPDATE subscriber_countries SET (active, min_severity, alert_directions) =
    (SELECT active, min_severity, alert_directions FROM subscribers s
     WHERE s.chat_id = subscriber_countries.chat_id);
UPDATE subscriber_provinces SET (active, min_severity, alert_directions) =
    (SELECT active, min_severity, alert_directions FROM subscribers s
     WHERE s.chat_id = subscriber_provinces.chat_id);
UPDATE subscriber_sites SET (active, min_severity, alert_directions) =
    (SELECT active, min_severity, alert_directions FROM subscribers s
     WHERE s.chat_id = subscriber_sites.chat_id);

CREATE TRIGGER subscriber_countries_copy AFTER INSERT ON subscriber_countries BEGIN
    UPDATE subscriber_countries SET (active, min_severity, alert_directions) =
        (SELECT active, min_severity, alert_directions FROM subscribers WHERE chat_id = NEW.chat_id)
    WHERE chat_id = NEW.chat_id AND country = NEW.country;
END;
CREATE TRIGGER subscriber_provinces_copy AFTER INSERT ON subscriber_provinces BEGIN
    UPDATE subscriber_provinces SET (active, min_severity, alert_directions) =
        (SELECT active, min_severity, alert_directions FROM subscribers WHERE chat_id = NEW.chat_id)
    WHERE chat_id = NEW.chat_id AND country = NEW.country AND admin1 = NEW.admin1;
END;
CREATE TRIGGER subscriber_sites_copy AFTER INSERT ON subscriber_sites BEGIN
    UPDATE subscriber_sites SET (active, min_severity, alert_directions) =
        (SELECT active, min_severity, alert_directions FROM subscribers WHERE chat_id = NEW.chat_id)
    WHERE chat_id = NEW.chat_id AND site = NEW.site;
END;
CREATE TRIGGER subscribers_copy_to_places
AFTER UPDATE OF active, min_severity, alert_directions ON subscribers
WHEN OLD.active IS NOT NEW.active OR OLD.min_severity IS NOT NEW.min_severity
    OR OLD.alert_directions IS NOT NEW.alert_directions
BEGIN
    UPDATE subscriber_countries SET active = NEW.active, min_severity = NEW.min_severity,
        alert_directions = NEW.alert_directions WHERE chat_id = NEW.chat_id;
    UPDATE subscriber_provinces SET active = NEW.active, min_severity = NEW.min_severity,
        alert_directions = NEW.alert_directions WHERE chat_id = NEW.chat_id;
    UPDATE subscriber_sites SET active = NEW.active, min_severity = NEW.min_severity,
        alert_directions = NEW.alert_directions WHERE chat_id = NEW.chat_id;
END;

-- Each index holds every column its part of the match tests, even `active`, which its
-- WHERE fixes: SQLite reads a column that is not among an index's own from the table.
DROP INDEX subscriber_countries_by_country;
CREATE INDEX subscriber_countries_matching ON subscriber_countries
    (country, min_severity, alert_directions, chat_id, active) WHERE active = 1;
DROP INDEX subscriber_provinces_by_place;
CREATE INDEX subscriber_provinces_matching ON subscriber_provinces
    (country, admin1, min_severity, alert_directions, chat_id, active) WHERE active = 1;
DROP INDEX subscriber_sites_by_name;
CREATE INDEX subscriber_sites_matching ON subscriber_sites
    (site, min_severity, alert_directions, chat_id, active) WHERE active = 1;
DROP INDEX subscriber_sites_by_box;
CREATE INDEX subscriber_sites_matching_box ON subscriber_sites
    (south, north, west, east, site, whole_box, latitude, longitude, radius_km, min_severity,
     alert_directions, chat_id, active) WHERE active = 1;
DROP INDEX subscribers_everywhere;
CREATE INDEX subscribers_everywhere ON subscribers
    (min_severity, alert_directions, active, regions, watches)
    WHERE active = 1 AND regions = '[]' AND watches = '[]';

-- An escalation notice is told to each follower in their own time zone: what it says is
-- kept as facts (the earlier attacks' times, the window) besides the line as worded in the
-- bot's time zone. NULL window_days: a notice recorded before, told as its line.
ALTER TABLE escalation_notices ADD COLUMN previous_at TEXT NOT NULL DEFAULT '[]';
ALTER TABLE escalation_notices ADD COLUMN window_days REAL;
