-- Runs of runbooks and the state of each of their steps. A step's outputs are written
-- before the next step starts, so a restarted process resumes where the last stopped.
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    runbook     TEXT NOT NULL,
    incident_id INTEGER REFERENCES incidents (id) ON DELETE SET NULL,
    params      TEXT NOT NULL DEFAULT '{}',
    state       TEXT NOT NULL CHECK (state IN ('running', 'waiting_approval', 'succeeded', 'failed', 'denied', 'expired', 'cancelled')),
    started_by  TEXT NOT NULL DEFAULT '',
    channel     TEXT NOT NULL DEFAULT '',
    thread_ts   TEXT NOT NULL DEFAULT '',
    error       TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX runs_active ON runs (id) WHERE state IN ('running', 'waiting_approval');
CREATE INDEX runs_incident ON runs (incident_id, id);

CREATE TABLE run_steps (
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    idx         INTEGER NOT NULL,
    step_id     TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'skipped')),
    outputs     TEXT NOT NULL DEFAULT '{}',
    error       TEXT NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0,
    started_at  INTEGER,
    finished_at INTEGER,
    PRIMARY KEY (run_id, idx)
) STRICT;
