-- Runbooks that act. A rollback is a run of its own that undoes another: rollback_of
-- names the run it undoes, and each of its steps names the step it undoes (undoes;
-- NULL for the approval it asks for first). At most one rollback of a run is under way
-- or done at a time; one that failed, was denied or cancelled leaves room for another.
ALTER TABLE runs ADD COLUMN rollback_of INTEGER REFERENCES runs (id);
ALTER TABLE run_steps ADD COLUMN undoes INTEGER;
CREATE UNIQUE INDEX runs_one_rollback ON runs (rollback_of)
    WHERE rollback_of IS NOT NULL AND state IN ('running', 'waiting_approval', 'succeeded');

-- The message that shows a run's result and offers its Roll back button (the approval
-- request message of its last approval, or a summary post): a Roll back click counts
-- only on it.
ALTER TABLE runs ADD COLUMN result_channel TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN result_ts TEXT NOT NULL DEFAULT '';

-- What became of the steps an approval let run, shown on its request message
-- ("✅ Done — HTTP 200 in 340 ms"), and whether that message offers Roll back.
ALTER TABLE approvals ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
ALTER TABLE approvals ADD COLUMN offers_rollback INTEGER NOT NULL DEFAULT 0;
