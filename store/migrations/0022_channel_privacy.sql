-- Whether an incident's channel is public or private, as Slack said when the channel
-- became the incident's, so that a list can leave out the incidents of private
-- channels without asking Slack about each. '' is not known (incidents recorded
-- before this column, or a channel given by id): such an incident's channel is asked
-- about when it is listed.
ALTER TABLE incidents ADD COLUMN channel_privacy TEXT NOT NULL DEFAULT ''
    CHECK (channel_privacy IN ('', 'public', 'private'));

-- The incidents whose channel's privacy is still to be learned, newest first: after
-- the one-time pass that learns it (incidents.Service.Run), this index is empty.
CREATE INDEX incidents_channel_privacy_unknown ON incidents (id)
    WHERE channel_privacy = '' AND channel <> '';
