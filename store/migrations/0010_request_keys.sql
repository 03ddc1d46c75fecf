-- Request keys make a request's effects happen once when it is handled twice: Slack
-- redelivers an event whose ack it did not see, and a restarted bot finishes a request
-- the last process acked but never completed. The handler then runs again with the same
-- request id and finds what it created the first time instead of creating it again.
-- NULL for rows created without a key (unique indexes let NULLs repeat).
ALTER TABLE incidents ADD COLUMN request_key TEXT;
CREATE UNIQUE INDEX incidents_request_key ON incidents (request_key) WHERE request_key IS NOT NULL;

-- A triggered run's key is derived from the request's key, the event and the runbook.
ALTER TABLE runs ADD COLUMN request_key TEXT;
CREATE UNIQUE INDEX runs_request_key ON runs (request_key) WHERE request_key IS NOT NULL;

-- The requests whose change to an incident (update, resolve) was applied, so that
-- handling one again does not apply — and record, and announce — it twice.
CREATE TABLE incident_changes (
    request_key TEXT PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at          INTEGER NOT NULL -- unix milliseconds
) STRICT;
