-- Who may decide an approval and how many distinct approvals it needs, fixed when the
-- request is made.
ALTER TABLE approvals ADD COLUMN approvers TEXT NOT NULL DEFAULT '[]';
ALTER TABLE approvals ADD COLUMN required INTEGER NOT NULL DEFAULT 1;
