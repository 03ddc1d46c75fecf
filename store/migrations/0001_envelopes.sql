-- Every Socket Mode envelope the bot has accepted, keyed by the request's stable id,
-- so that redeliveries are recognised and unfinished work resumes after a crash.
CREATE TABLE envelopes (
    id          TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    payload     BLOB NOT NULL,
    acked       INTEGER NOT NULL DEFAULT 0,
    done        INTEGER NOT NULL DEFAULT 0,
    reply       BLOB,
    received_at INTEGER NOT NULL, -- unix milliseconds
    done_at     INTEGER
) STRICT;

CREATE INDEX envelopes_unfinished ON envelopes (received_at) WHERE done = 0;
