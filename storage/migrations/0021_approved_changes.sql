-- Under the two-person rule a correction or retraction waits for a second admin's
-- approval as a draft does: the same drafts and draft_approvals rows, with what the
-- draft would do. 'edit' and 'retract' drafts name the incident they change; one made
-- by a feed proposal's Apply names the proposal, which is decided when it is applied.
ALTER TABLE drafts ADD COLUMN purpose TEXT NOT NULL DEFAULT 'publish'
    CHECK (purpose IN ('publish', 'edit', 'retract'));
ALTER TABLE drafts ADD COLUMN changes_incident INTEGER REFERENCES incidents (id);
ALTER TABLE drafts ADD COLUMN from_proposal INTEGER REFERENCES proposals (id);
-- /draft keeps its proposed form as a draft; "Use this draft" opens its preview once.
ALTER TABLE drafts ADD COLUMN previewed_at TEXT;
CREATE INDEX drafts_open_by_proposal ON drafts (from_proposal) WHERE status = 'open';
