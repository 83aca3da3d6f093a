-- A counter that moves whenever incidents change, so derived data (the tension
-- index, its charts) can be cached until the record it came from changes.
CREATE TABLE incidents_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
);
INSERT INTO incidents_revision (id, revision) VALUES (1, 0);

CREATE TRIGGER incidents_revision_insert AFTER INSERT ON incidents BEGIN
    UPDATE incidents_revision SET revision = revision + 1 WHERE id = 1;
END;
CREATE TRIGGER incidents_revision_update AFTER UPDATE ON incidents BEGIN
    UPDATE incidents_revision SET revision = revision + 1 WHERE id = 1;
END;
CREATE TRIGGER incidents_revision_delete AFTER DELETE ON incidents BEGIN
    UPDATE incidents_revision SET revision = revision + 1 WHERE id = 1;
END;
