-- The search index's terms, for /search words that no prefix index of 0019 covers (shorter
-- than 3 or longer than 6 letters): FTS5 answers such a prefix query by first merging the
-- doclists of every term with that prefix (tens of ms for a common long word at a million
-- incidents). Instead, the few terms with that prefix are listed from this table (one seek
-- each: an "instance" table reads terms lazily, where a "row" table would count every
-- document of each) and searched as exact terms, which FTS5 reads newest first and stops.
CREATE VIRTUAL TABLE incidents_search_terms USING fts5vocab (incidents_search, instance);
