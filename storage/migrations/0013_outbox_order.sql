-- A row that must not go before another (a digest's chart after the digest's text)
-- names that row; it is not claimed while that row is still to be sent.
ALTER TABLE outbox ADD COLUMN after_id INTEGER REFERENCES outbox (id);
-- The due-rows index carries after_id, so finding what is due still reads the index alone.
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (priority, not_before, id, after_id) WHERE status = 'pending';
