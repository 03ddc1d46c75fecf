-- The root message of each incident's thread of investigation updates.
ALTER TABLE incidents ADD COLUMN updates_ts TEXT NOT NULL DEFAULT '';
