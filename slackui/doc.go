// Package slackui draws everything Runbook shows in Slack: Block Kit for every message,
// modal and reply; mrkdwn escaping and mention helpers; and every action, block,
// callback and metadata id the bot's messages carry, so that the code that dispatches a
// click and the code that drew the button agree by construction.
//
// It speaks the domain (package runbook) and Slack's Block Kit (slack-go) and nothing
// else: the services hand it domain values and get back runbook.Message, runbook.Reply
// or a modal, never building blocks themselves.
package slackui
