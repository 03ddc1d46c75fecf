-- Votes on approval requests: one per person and request, so that a double click or a
-- redelivered click is never counted twice. A request needing N approvals is decided
-- when N distinct people have approved, or at the first denial.
CREATE TABLE approval_votes (
    approval_id INTEGER NOT NULL REFERENCES approvals (id) ON DELETE CASCADE,
    user        TEXT NOT NULL,    -- Slack user id
    approve     INTEGER NOT NULL CHECK (approve IN (0, 1)),
    note        TEXT NOT NULL DEFAULT '',
    at          INTEGER NOT NULL, -- unix milliseconds
    UNIQUE (approval_id, user)
) STRICT;

-- The audit log: every click on an approval request, allowed or refused, and every way
-- a request ends. No foreign keys: the log outlives what it talks about.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL, -- unix milliseconds
    actor       TEXT NOT NULL,    -- Slack user id, or 'runbook'
    action      TEXT NOT NULL,    -- approval.click, approval.refused, …
    incident_id INTEGER,
    run_id      INTEGER,
    approval_id INTEGER,
    detail      TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX audit_log_incident ON audit_log (incident_id, id);

-- When the follow-up of a decision (the request message updated, the run resumed) was
-- done. A decided request without it was interrupted by a crash, and is followed up
-- at the next start. Requests decided before this migration count as followed up.
ALTER TABLE approvals ADD COLUMN settled_at INTEGER;
UPDATE approvals SET settled_at = COALESCE(decided_at, created_at) WHERE state <> 'pending';
CREATE INDEX approvals_unsettled ON approvals (decided_at) WHERE state <> 'pending' AND settled_at IS NULL;
