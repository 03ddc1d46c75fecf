-- A dedup key names what an incident was declared for outside Slack: an alert group,
-- or a key an API caller chose. While the incident is open, a second declaration with
-- the same key is a note on it, not a second incident; resolving frees the key. The
-- unique index, not a look-up before the insert, is what keeps two concurrent
-- declarations from making two incidents. NULL for incidents declared without one.
ALTER TABLE incidents ADD COLUMN dedup_key TEXT;
CREATE UNIQUE INDEX incidents_open_dedup_key ON incidents (dedup_key)
    WHERE dedup_key IS NOT NULL AND resolved_at IS NULL;
