-- Every term the search index has held, in a plain table, for /search words that no prefix
-- index covers (shorter than 3 or longer than 6 letters), which are searched as the terms
-- they begin. Migration 0020 listed those terms from a vocabulary table over the index
-- itself, but FTS5 finds the first term at or after a word by reading on from the start
-- of the term before it, through that term's whole list of matches: 1.5 ms for a word
-- just after a common term at a million incidents, once per term listed.
--
-- The index's tokenizer alone says what the terms of a text are, so each published text
-- is tokenized by an FTS5 table of the same tokenizer that holds one row at a time: its
-- terms are copied here and it is emptied again. A term is never removed (a retraction or
-- an edit may leave one that no incident holds any more, which then matches nothing).
DROP TABLE incidents_search_terms;

CREATE TABLE search_vocabulary (term TEXT PRIMARY KEY) WITHOUT ROWID;

CREATE VIRTUAL TABLE search_tokenizer USING fts5 (
    title, summary, location,
    content = '',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE VIRTUAL TABLE search_tokenizer_terms USING fts5vocab (search_tokenizer, row);

CREATE TRIGGER search_vocabulary_insert AFTER INSERT ON incidents
WHEN new.status = 'published' BEGIN
    INSERT INTO search_tokenizer (title, summary, location)
    VALUES (new.title, new.summary, new.location);
    INSERT OR IGNORE INTO search_vocabulary (term) SELECT term FROM search_tokenizer_terms;
    INSERT INTO search_tokenizer (search_tokenizer) VALUES ('delete-all');
END;

CREATE TRIGGER search_vocabulary_update
AFTER UPDATE OF title, summary, location, status ON incidents
WHEN new.status = 'published' BEGIN
    INSERT INTO search_tokenizer (title, summary, location)
    VALUES (new.title, new.summary, new.location);
    INSERT OR IGNORE INTO search_vocabulary (term) SELECT term FROM search_tokenizer_terms;
    INSERT INTO search_tokenizer (search_tokenizer) VALUES ('delete-all');
END;

CREATE VIRTUAL TABLE temp.incidents_search_rows USING fts5vocab (main, incidents_search, row);
INSERT INTO search_vocabulary (term) SELECT term FROM temp.incidents_search_rows;
DROP TABLE temp.incidents_search_rows;
