-- Subscribers who chose everywhere, for matching alerts without scanning everyone.
CREATE INDEX subscribers_everywhere ON subscribers (min_severity)
    WHERE active = 1 AND regions = '[]';
