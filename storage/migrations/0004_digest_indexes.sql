-- Digests list what was published since a subscriber's previous digest.
CREATE INDEX incidents_published_created ON incidents (created_at, country)
    WHERE status = 'published';
CREATE INDEX troop_figures_created ON troop_figures (created_at);
