// Package runbook holds Runbook's domain: the requests people send from Slack, the
// replies the bot gives, the coded errors every layer speaks, and the small interfaces
// (the Slack operations, the stores) that the packages around it implement.
//
// It imports nothing of the project, so every package can import it without cycles.
package runbook
