-- Rendered charts, kept so the same picture is sent (by Telegram file id, once
-- uploaded) to everyone until the data it shows changes.
CREATE TABLE charts (
    key        TEXT PRIMARY KEY,
    png        BLOB NOT NULL,
    file_id    TEXT,
    created_at TEXT NOT NULL
);
