-- What the responders say an incident is about so far (update INC-1 summary="…"),
-- shown in status and used by runbooks as {{Activity.summary}}.
ALTER TABLE incidents ADD COLUMN summary TEXT NOT NULL DEFAULT '';
