-- Incidents. AUTOINCREMENT so that a number, once shown to people as INC-<id>, is
-- never given to another incident even if the newest one is deleted.
CREATE TABLE incidents (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    title                TEXT NOT NULL,
    severity             TEXT NOT NULL,
    status               TEXT NOT NULL,
    service              TEXT NOT NULL DEFAULT '',
    commander            TEXT NOT NULL DEFAULT '', -- Slack user id
    channel              TEXT NOT NULL DEFAULT '', -- the incident's own channel id
    announcement_channel TEXT NOT NULL DEFAULT '',
    announcement_ts      TEXT NOT NULL DEFAULT '',
    fields               TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(fields)), -- custom fields, a JSON object of strings
    created_by           TEXT NOT NULL DEFAULT '',
    created_at           INTEGER NOT NULL, -- unix milliseconds
    updated_at           INTEGER NOT NULL,
    resolved_at          INTEGER           -- NULL while open
) STRICT;

-- A command typed in an incident channel finds its incident by channel; a channel
-- belongs to one incident at most.
CREATE UNIQUE INDEX incidents_channel ON incidents (channel) WHERE channel <> '';
CREATE INDEX incidents_open ON incidents (id) WHERE resolved_at IS NULL;

-- What happened during an incident, in order.
CREATE TABLE incident_timeline (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at          INTEGER NOT NULL, -- unix milliseconds
    actor       TEXT NOT NULL,    -- Slack user id, or 'runbook'
    kind        TEXT NOT NULL,
    text        TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX incident_timeline_incident ON incident_timeline (incident_id, at, id);
