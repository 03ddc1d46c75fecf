-- A person's runs under way, counted when they ask for another (Runs.RunsUnderWay): a
-- member sending command after command must not queue more runs than their share.
-- Partial, so it holds only runs running now, whose number the executor's admission
-- bounds, not every run ever stored.
CREATE INDEX runs_running_by ON runs (started_by) WHERE state = 'running';
