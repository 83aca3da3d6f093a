-- Places below a country: the provinces and sites a subscriber follows, matched in the
-- same INSERT … SELECT as countries. A site matches incidents named after it and, through
-- its bounding box and then the great-circle distance, incidents within its radius.
CREATE TABLE subscriber_provinces (
    chat_id INTEGER NOT NULL REFERENCES subscribers (chat_id) ON DELETE CASCADE ON UPDATE CASCADE,
    country TEXT NOT NULL COLLATE NOCASE,
    admin1  TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (chat_id, country, admin1)
) WITHOUT ROWID;
CREATE INDEX subscriber_provinces_by_place ON subscriber_provinces (country, admin1, chat_id);

CREATE TABLE subscriber_sites (
    chat_id   INTEGER NOT NULL REFERENCES subscribers (chat_id) ON DELETE CASCADE ON UPDATE CASCADE,
    site      TEXT NOT NULL COLLATE NOCASE,
    latitude  REAL NOT NULL,
    longitude REAL NOT NULL,
    radius_km REAL NOT NULL CHECK (radius_km > 0),
    watched   INTEGER NOT NULL DEFAULT 0,  -- 1: from /watch (its own radius), 0: /subscribe
    south     REAL NOT NULL,  -- the box around the circle, for the index
    north     REAL NOT NULL,
    west      REAL NOT NULL,
    east      REAL NOT NULL,
    PRIMARY KEY (chat_id, site)
) WITHOUT ROWID;
CREATE INDEX subscriber_sites_by_name ON subscriber_sites (site, chat_id);
CREATE INDEX subscriber_sites_by_box ON subscriber_sites (south, north, west, east);

-- The sites a chat watches with /watch, as shown: [{"site": …, "radius_km": …}].
ALTER TABLE subscribers ADD COLUMN watches TEXT NOT NULL DEFAULT '[]';

-- Everywhere means no places and no watched sites.
DROP INDEX subscribers_everywhere;
CREATE INDEX subscribers_everywhere ON subscribers (min_severity)
    WHERE active = 1 AND regions = '[]' AND watches = '[]';
