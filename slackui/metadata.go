package slackui

import (
	"strconv"

	"github.com/runbookhq/runbook"
)

// Metadata event types of the bot's own messages. Each message the bot may have to find
// again after a crash — to adopt it rather than post it twice — carries one of these
// with the key of what posted it.
const (
	MetaAnnouncement = "runbook_incident" // an incident's announcement
	MetaStep         = "runbook_step"     // a message posted by a run's step
	MetaReply        = "runbook_reply"    // a thread reply to a request
	MetaPost         = "runbook_post"     // a message posted for someone (post to #channel)
	MetaApproval     = "runbook_approval" // the message of an approval asked for outside a run
)

// AnnouncementTag marks the announcement of an incident.
func AnnouncementTag(inc *runbook.Incident) runbook.MessageMetadata {
	return runbook.MessageMetadata{EventType: MetaAnnouncement, Payload: map[string]any{"incident": inc.Key()}}
}

// StepTag marks a message posted by step index of a run.
func StepTag(runID int64, index int) runbook.MessageMetadata {
	return runbook.MessageMetadata{EventType: MetaStep, Payload: map[string]any{
		"run": strconv.FormatInt(runID, 10), "step": strconv.Itoa(index)}}
}

// ReplyTag marks a thread reply as the answer to a request.
func ReplyTag(requestID string) runbook.MessageMetadata {
	return runbook.MessageMetadata{EventType: MetaReply, Payload: map[string]any{"request": requestID}}
}

// PostTag marks a message posted for a request.
func PostTag(requestID string) runbook.MessageMetadata {
	return runbook.MessageMetadata{EventType: MetaPost, Payload: map[string]any{"request": requestID}}
}

// ApprovalTag marks the message of an approval request made outside a run (a run's
// carries its step's tag).
func ApprovalTag(a *runbook.Approval) runbook.MessageMetadata {
	return runbook.MessageMetadata{EventType: MetaApproval, Payload: map[string]any{"approval": a.Key()}}
}
