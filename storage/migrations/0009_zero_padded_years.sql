-- Older versions wrote years before 1000 without leading zeros ("999-06-01T00:00:00Z"),
-- which sorts after every four-digit year. Pad them so that text order is time order.
UPDATE incidents SET occurred_at = substr('000', 1, 20 - length(occurred_at)) || occurred_at
    WHERE length(occurred_at) BETWEEN 17 AND 19;
UPDATE incidents SET reported_at = substr('000', 1, 20 - length(reported_at)) || reported_at
    WHERE length(reported_at) BETWEEN 17 AND 19;
