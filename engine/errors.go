package engine

import (
	"errors"
	"fmt"

	"github.com/runbookhq/runbook"
)

// slackReasons explains Slack's error codes to the person reading a failed run.
var slackReasons = map[string]string{
	"channel_not_found":        "the bot cannot see that channel: invite it or check the name",
	"not_in_channel":           "the bot is not in that channel: invite it with /invite @Runbook",
	"is_archived":              "that channel is archived",
	"name_taken":               "a channel with that name already exists",
	"invalid_name_specials":    "the channel name may only have lowercase letters, digits, - and _",
	"invalid_name_maxlength":   "the channel name is longer than Slack's 80 characters",
	"invalid_name_punctuation": "the channel name needs a letter or digit",
	"invalid_name_required":    "the channel name is empty",
	"user_not_found":           "no such user in this workspace",
	"users_not_found":          "no such user in this workspace",
	"no_such_subteam":          "no such user group in this workspace",
	"cant_invite_self":         "the bot cannot invite itself",
	"msg_too_long":             "the message is longer than Slack's 40,000 characters",
	"invalid_blocks":           "the message's blocks are not valid Block Kit",
	"invalid_blocks_format":    "the message's blocks are not a JSON list of Block Kit objects",
	"no_text":                  "the message has neither text nor blocks",
	"restricted_action":        "this workspace does not let the bot do that",
	"not_authed":               "the bot token is missing",
	"invalid_auth":             "Slack rejected the bot token",
	"already_archived":         "that channel is already archived",
}

// explain turns an error from an action into a sentence a person understands, ending
// with Slack's error code when there is one.
func explain(err error) string {
	if code := runbook.SlackCode(err); code != "" {
		if why, ok := slackReasons[code]; ok {
			return fmt.Sprintf("%s (%s)", why, code)
		}
	}
	if se, ok := errors.AsType[*runbook.SlackError](err); ok {
		if se.Fault != runbook.SlackRefused {
			// Slack's own failures and what the app's setup forbids (missing_scope
			// names the scope to add) are told as the adapter classified them.
			return se.Sentence()
		}
		if se.Code != "" {
			return fmt.Sprintf("Slack answered %s", se.Code)
		}
	}
	if runbook.ErrorCode(err) != runbook.EINTERNAL {
		return runbook.ErrorMessage(err)
	}
	return err.Error()
}
