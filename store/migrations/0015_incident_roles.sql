-- Roles in an incident beyond its commander (incidents.roles: comms, scribe…): who
-- holds each. The commander stays in incidents.commander, so that `update …
-- commander=@…` and `assign @… commander` are one and the same.
CREATE TABLE incident_roles (
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    user_id     TEXT NOT NULL, -- Slack user id
    PRIMARY KEY (incident_id, role)
) STRICT;

-- When a resolved incident was last moved back to an open status, so that its
-- announcement says it was reopened. NULL if it never was.
ALTER TABLE incidents ADD COLUMN reopened_at INTEGER;
