-- Rows of the bundled sample data set are marked, so that /stats can say how many there
-- are and `incident-bot sample remove` can delete exactly them.
ALTER TABLE incidents ADD COLUMN sample INTEGER NOT NULL DEFAULT 0;
ALTER TABLE troop_figures ADD COLUMN sample INTEGER NOT NULL DEFAULT 0;

-- A database that had the sample loaded before the marks existed: the sample's incidents
-- carry external ids beginning 'sample-', and its troop figures were stored in the same
-- transaction, so with the same creation time.
UPDATE incidents SET sample = 1 WHERE external_id LIKE 'sample-%';
UPDATE troop_figures SET sample = 1
    WHERE created_at IN (SELECT created_at FROM incidents WHERE sample = 1);
