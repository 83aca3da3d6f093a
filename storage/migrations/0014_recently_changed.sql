-- The Atom feed lists the incidents changed most recently (published, corrected or retracted).
CREATE INDEX incidents_updated ON incidents (updated_at, id);
