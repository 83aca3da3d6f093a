-- A row that must not go before another (a digest's chart after the digest's text)
-- names that row; it is not claimed while that row is still to be sent.
ALTER TABLE outbox ADD COLUMN after_id INTEGER REFERENCES outbox (id);
