-- A watched site's radius runs from 1 to 200 km, as /watch always said; 0.001 km used to
-- be stored. Such a watch is lifted to 1 km: in the chat's choices, and in the site's
-- matching row with the box around its circle (as storage.subscribers.SiteArea.box
-- computes it, 111.2 km to a degree).
UPDATE subscribers SET watches = (
    SELECT json_group_array(json_object(
        'site', json_extract(value, '$.site'),
        'radius_km', max(1.0, json_extract(value, '$.radius_km'))))
    FROM json_each(subscribers.watches))
WHERE EXISTS (SELECT 1 FROM json_each(subscribers.watches)
              WHERE json_extract(value, '$.radius_km') < 1);

UPDATE subscriber_sites SET
    radius_km = 1.0,
    south = latitude - 1.0 / 111.2,
    north = latitude + 1.0 / 111.2,
    west = longitude - 1.0 / (111.2 * max(0.01, cos(radians(latitude)))),
    east = longitude + 1.0 / (111.2 * max(0.01, cos(radians(latitude))))
WHERE watched = 1 AND radius_km < 1 AND whole_box = 0;
