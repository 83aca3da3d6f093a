-- Approvals of drafts under the two-person rule ([newsroom] approvals_required = 2):
-- a draft is published when a second, different admin approves it.
CREATE TABLE draft_approvals (
    draft_id    INTEGER NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,
    user_name   TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    PRIMARY KEY (draft_id, user_id)
) WITHOUT ROWID;
