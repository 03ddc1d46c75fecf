-- What keeps every request's statements off full-table scans as history grows (a year
-- of a busy workspace: ~100,000 incidents, ~1,000,000 audit rows, a day of envelopes).
-- store/plans_test.go checks each statement's plan.

-- The prune of handled envelopes walks the oldest first, in small batches
-- (Inbox.Prune): without this it read the whole table to find them, inside the one
-- writer. Partial, so unfinished envelopes (envelopes_unfinished) are not in it twice.
CREATE INDEX envelopes_done ON envelopes (received_at) WHERE done = 1;

-- An incident's timers, read when it is shown and deleted when it is resolved: the
-- unique (kind, incident_id, name) index does not start with incident_id.
CREATE INDEX timers_incident ON timers (incident_id);

-- A run's rollback, looked up by the foreign key from rollback_of to runs (id) when a
-- run is written by a statement that fires triggers (below) or deleted: the partial
-- runs_one_rollback index holds only rollbacks under way or done, and cannot serve it.
CREATE INDEX runs_rollback_of ON runs (rollback_of) WHERE rollback_of IS NOT NULL;

-- How many runs and approval requests are in each state, for the metrics scrape, kept
-- by triggers in the transaction that changes a state: counting them at each scrape
-- read every row ever stored. One row per state (the tables' CHECKs allow seven and
-- five), so reading them is as cheap as a look-up.
CREATE TABLE run_state_counts (
    state TEXT PRIMARY KEY,
    n     INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO run_state_counts (state, n) SELECT state, COUNT(*) FROM runs GROUP BY state;

CREATE TRIGGER runs_count_insert AFTER INSERT ON runs BEGIN
    INSERT INTO run_state_counts (state, n) VALUES (new.state, 1)
        ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER runs_count_update AFTER UPDATE OF state ON runs WHEN old.state <> new.state BEGIN
    UPDATE run_state_counts SET n = n - 1 WHERE state = old.state;
    INSERT INTO run_state_counts (state, n) VALUES (new.state, 1)
        ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER runs_count_delete AFTER DELETE ON runs BEGIN
    UPDATE run_state_counts SET n = n - 1 WHERE state = old.state;
END;

CREATE TABLE approval_state_counts (
    state TEXT PRIMARY KEY,
    n     INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO approval_state_counts (state, n) SELECT state, COUNT(*) FROM approvals GROUP BY state;

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
