-- An unguessable token per request, carried in the value of its buttons: a click
-- counts only with it, so that a button copied into another message, or one guessed
-- from the request's number, decides nothing. Requests made before this have none;
-- their buttons are checked by the message they are on alone.
ALTER TABLE approvals ADD COLUMN token TEXT NOT NULL DEFAULT '';
