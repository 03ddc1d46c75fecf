-- When the request message was brought in line with the decision (or Slack refused
-- after the adapter's retries). It is kept apart from settled_at because the message
-- can be recorded after the decision was followed up: a click can decide a request
-- between chat.postMessage and the executor recording the message, and the process
-- can die in between. A decided request with a message but no message_settled_at
-- still has its buttons; whoever learns of it updates it (the executor's hook, or the
-- next sweep or start).
ALTER TABLE approvals ADD COLUMN message_settled_at INTEGER;

-- Requests followed up before this migration count as done: which of their messages
-- were missed can no longer be told, and updating every old message at the first
-- start would be a burst of chat.update calls over history.
UPDATE approvals SET message_settled_at = settled_at WHERE settled_at IS NOT NULL;

CREATE INDEX approvals_message_unsettled ON approvals (decided_at)
    WHERE state <> 'pending' AND message_ts <> '' AND message_settled_at IS NULL;
