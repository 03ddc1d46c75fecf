-- Durable timers: update reminders and periodic runbooks. A timer is due at due_at;
-- firing it claims the next seq and records the firing in timer_firings in the same
-- transaction, before anything is posted or run, so that a firing is acted on once:
-- after a crash the next process finishes the firings left undone (done = 0) instead
-- of claiming them again. AUTOINCREMENT so that a timer deleted at resolve and
-- created again at reopen never reuses an id, and run keys derived from timer and seq
-- stay unique.
CREATE TABLE timers (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,              -- 'reminder' or 'every'
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    name        TEXT NOT NULL DEFAULT '',   -- for 'every': runbook@interval
    due_at      INTEGER NOT NULL,           -- unix milliseconds
    seq         INTEGER NOT NULL DEFAULT 0, -- firings claimed so far
    UNIQUE (kind, incident_id, name)
) STRICT;

CREATE INDEX timers_due ON timers (due_at);

-- One row per firing claimed. It outlives its timer, so that a click on a reminder's
-- buttons can be checked against the message and token of the firing that posted it.
CREATE TABLE timer_firings (
    timer_id    INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    incident_id INTEGER NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    token       TEXT NOT NULL,              -- carried by the buttons of what it posted
    channel     TEXT NOT NULL DEFAULT '',
    ts          TEXT NOT NULL DEFAULT '',
    done        INTEGER NOT NULL DEFAULT 0,
    fired_at    INTEGER NOT NULL,           -- unix milliseconds
    PRIMARY KEY (timer_id, seq)
) STRICT;

CREATE INDEX timer_firings_undone ON timer_firings (fired_at) WHERE done = 0;
