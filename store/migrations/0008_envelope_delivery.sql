-- The answer still owed for a handled envelope (a thread reply, a response_url
-- message), kept until Slack has it so that a crash between handling and delivering
-- does not lose it.
ALTER TABLE envelopes ADD COLUMN delivery BLOB;

CREATE INDEX envelopes_undelivered ON envelopes (received_at) WHERE delivery IS NOT NULL;
