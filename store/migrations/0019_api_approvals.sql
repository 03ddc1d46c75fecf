-- Approvals asked for through the API (POST /api/v1/approvals) belong to no run:
-- run_id becomes nullable, which SQLite can only do by building the table again.
-- requested_via names the API token that asked ('' for a run's request), and
-- idempotency_key the caller's Idempotency-Key, unique per token, so that a retried
-- POST finds the request it already made instead of asking twice.
--
-- Foreign keys are on and cannot be turned off inside the migration's transaction, so
-- dropping the old table deletes its votes (ON DELETE CASCADE): they are kept aside
-- and put back. The old table's triggers go with it (before its rows, so the state
-- counts are untouched) and are made again on the new table once the rows are in.
CREATE TEMP TABLE votes_kept AS SELECT * FROM approval_votes;

CREATE TABLE approvals_0019 (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id             INTEGER REFERENCES runs (id) ON DELETE CASCADE,
    step_index         INTEGER NOT NULL,
    incident_id        INTEGER REFERENCES incidents (id) ON DELETE SET NULL,
    operation          TEXT NOT NULL,
    risk               TEXT NOT NULL,
    rollback           TEXT NOT NULL DEFAULT '',
    reason             TEXT NOT NULL DEFAULT '',
    requested_by       TEXT NOT NULL DEFAULT '',
    channel            TEXT NOT NULL DEFAULT '',
    message_ts         TEXT NOT NULL DEFAULT '',
    state              TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'expired', 'cancelled')),
    decided_by         TEXT NOT NULL DEFAULT '',
    decided_at         INTEGER,
    note               TEXT NOT NULL DEFAULT '',
    expires_at         INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    approvers          TEXT NOT NULL DEFAULT '[]',
    required           INTEGER NOT NULL DEFAULT 1,
    settled_at         INTEGER,
    message_settled_at INTEGER,
    token              TEXT NOT NULL DEFAULT '',
    outcome            TEXT NOT NULL DEFAULT '',
    offers_rollback    INTEGER NOT NULL DEFAULT 0,
    requested_via      TEXT NOT NULL DEFAULT '',
    idempotency_key    TEXT,
    UNIQUE (run_id, step_index),
    CHECK ((run_id IS NULL) = (requested_via <> ''))
) STRICT;

INSERT INTO approvals_0019 (id, run_id, step_index, incident_id, operation, risk, rollback, reason, requested_by, channel,
    message_ts, state, decided_by, decided_at, note, expires_at, created_at, approvers, required, settled_at,
    message_settled_at, token, outcome, offers_rollback)
SELECT id, run_id, step_index, incident_id, operation, risk, rollback, reason, requested_by, channel,
    message_ts, state, decided_by, decided_at, note, expires_at, created_at, approvers, required, settled_at,
    message_settled_at, token, outcome, offers_rollback
FROM approvals;

-- Ids are never reused, even those of requests deleted with their run.
INSERT INTO sqlite_sequence (name, seq) SELECT 'approvals_0019', seq FROM sqlite_sequence WHERE name = 'approvals'
    AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'approvals_0019');
UPDATE sqlite_sequence SET seq = max(seq, (SELECT seq FROM sqlite_sequence WHERE name = 'approvals'))
    WHERE name = 'approvals_0019' AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'approvals');

DROP TABLE approvals;
ALTER TABLE approvals_0019 RENAME TO approvals;
INSERT INTO approval_votes SELECT * FROM votes_kept;
DROP TABLE votes_kept;

CREATE INDEX approvals_pending ON approvals (expires_at) WHERE state = 'pending';
CREATE INDEX approvals_unsettled ON approvals (decided_at) WHERE state <> 'pending' AND settled_at IS NULL;
CREATE INDEX approvals_message_unsettled ON approvals (decided_at)
    WHERE state <> 'pending' AND message_ts <> '' AND message_settled_at IS NULL;
CREATE UNIQUE INDEX approvals_idempotency ON approvals (requested_via, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TRIGGER approvals_count_insert AFTER INSERT ON approvals BEGIN
    INSERT INTO approval_state_counts (state, n) VALUES (new.state, 1)
        ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER approvals_count_update AFTER UPDATE OF state ON approvals WHEN old.state <> new.state BEGIN
    UPDATE approval_state_counts SET n = n - 1 WHERE state = old.state;
    INSERT INTO approval_state_counts (state, n) VALUES (new.state, 1)
        ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER approvals_count_delete AFTER DELETE ON approvals BEGIN
    UPDATE approval_state_counts SET n = n - 1 WHERE state = old.state;
END;
