-- Which gazetteer the stored places are spelled by (a digest of bot/data/gazetteer.json):
-- when the database is opened with another one, incidents' country, admin1 and location
-- are re-spelled to its names (storage/places.py), in one transaction.
CREATE TABLE gazetteer_applied (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint TEXT NOT NULL
);
