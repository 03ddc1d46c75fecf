-- Timeline entries people add from Slack — a note, a message pinned with 📌 — are
-- keyed, so that a request handled twice, or a message pinned again by someone else,
-- adds one entry. NULL for entries written without a key.
ALTER TABLE incident_timeline ADD COLUMN entry_key TEXT;
CREATE UNIQUE INDEX incident_timeline_entry_key ON incident_timeline (entry_key) WHERE entry_key IS NOT NULL;

-- Follow-ups: the action items an incident leaves behind, shown to people as F-<id>.
-- AUTOINCREMENT so that an id once shown is never given to another.
CREATE TABLE followups (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    text        TEXT NOT NULL,
    owner       TEXT NOT NULL DEFAULT '', -- Slack user id
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,         -- unix milliseconds
    request_key TEXT,                     -- the request that added it
    done_by     TEXT NOT NULL DEFAULT '',
    done_at     INTEGER,                  -- NULL while open
    done_key    TEXT NOT NULL DEFAULT ''  -- the request that marked it done
) STRICT;

CREATE UNIQUE INDEX followups_request_key ON followups (request_key) WHERE request_key IS NOT NULL;
CREATE INDEX followups_incident ON followups (incident_id, id);
