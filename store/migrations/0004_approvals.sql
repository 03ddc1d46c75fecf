-- Approval requests made by runs. A request is decided once: every decision is a
-- conditional update from 'pending'.
CREATE TABLE approvals (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id       INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_index   INTEGER NOT NULL,
    incident_id  INTEGER REFERENCES incidents (id) ON DELETE SET NULL,
    operation    TEXT NOT NULL,
    risk         TEXT NOT NULL,
    rollback     TEXT NOT NULL DEFAULT '',
    reason       TEXT NOT NULL DEFAULT '',
    requested_by TEXT NOT NULL DEFAULT '',
    channel      TEXT NOT NULL DEFAULT '',
    message_ts   TEXT NOT NULL DEFAULT '',
    state        TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'expired', 'cancelled')),
    decided_by   TEXT NOT NULL DEFAULT '',
    decided_at   INTEGER,
    note         TEXT NOT NULL DEFAULT '',
    expires_at   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (run_id, step_index)
) STRICT;

CREATE INDEX approvals_pending ON approvals (expires_at) WHERE state = 'pending';
