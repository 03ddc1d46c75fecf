package approvals

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/runbooks"
)

// The denial-reason modal: its callback id, and the block and action id of its one input.
const (
	DenyReasonCallbackID = "approval.deny_reason"
	ReasonBlockID        = "reason"
	ReasonActionID       = "reason"
)

// maxNoteShown bounds how much of a reason the request message repeats, well inside
// Slack's 3,000 characters per section.
const maxNoteShown = 500

// DecidedMessage is the request message updated in place once the request is decided,
// expired or cancelled: the same header and fields, the buttons gone, and a line that
// says what happened ("✅ Approved by <@U1> at 14:32 UTC").
func DecidedMessage(a *runbook.Approval, inc *runbook.Incident) runbook.Message {
	return decidedMessage(a, inc, nil)
}

// decidedMessage is DecidedMessage naming everyone who approved, when known.
func decidedMessage(a *runbook.Approval, inc *runbook.Incident, approvers []string) runbook.Message {
	req := runbooks.ApprovalRequest(a, inc)
	blocks := make([]slack.Block, 0, len(req.Blocks))
	for _, b := range req.Blocks {
		if b.BlockType() != slack.MBTAction {
			blocks = append(blocks, b)
		}
	}
	line := statusLine(a, approvers)
	blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, line, false, false), nil, nil))
	return runbook.Message{Text: fmt.Sprintf("%s: %s — %s", a.Key(), a.Operation, line), Blocks: blocks}
}

// statusLine says how a request ended.
func statusLine(a *runbook.Approval, approvers []string) string {
	note := ""
	if a.Note != "" {
		note = ": " + runbooks.Escape(truncate(a.Note, maxNoteShown))
	}
	switch a.State {
	case runbook.ApprovalApproved:
		if len(approvers) == 0 {
			approvers = []string{a.DecidedBy}
		}
		return "✅ Approved by " + people(approvers) + " at " + clock(a.DecidedAt) + note
	case runbook.ApprovalDenied:
		return "❌ Denied by " + mention(a.DecidedBy) + note
	case runbook.ApprovalExpired:
		return "⌛ Expired — no decision by " + clock(a.ExpiresAt)
	case runbook.ApprovalCancelled:
		by := ""
		if looksLikeID(a.DecidedBy, "UW") {
			by = " by " + mention(a.DecidedBy)
		}
		return "🚫 Cancelled" + by + note
	}
	return "⏳ Waiting for a decision"
}

// closedSentence tells someone who clicked on a request that is no longer pending.
func closedSentence(a *runbook.Approval) string {
	switch a.State {
	case runbook.ApprovalExpired:
		return fmt.Sprintf("%s expired at %s with no decision; nothing was changed.", a.Key(), clock(a.ExpiresAt))
	case runbook.ApprovalCancelled:
		return fmt.Sprintf("%s was cancelled; nothing was changed.", a.Key())
	}
	return fmt.Sprintf("%s was already %s by %s.", a.Key(), a.State, orWord(mention(a.DecidedBy), "someone"))
}

// voteSentence tells someone what their counted vote did.
func voteSentence(d Decision, res runbook.VoteResult) string {
	a := res.Approval
	left := max(a.Required, 1) - len(res.Approvers)
	switch {
	case a.State == runbook.ApprovalDenied:
		return fmt.Sprintf("You denied %s.", a.Key())
	case a.State == runbook.ApprovalApproved:
		return fmt.Sprintf("You approved %s.", a.Key())
	case res.Repeat:
		return fmt.Sprintf("You already approved %s; %s", a.Key(), moreNeeded(left))
	}
	return fmt.Sprintf("You approved %s; %s", a.Key(), moreNeeded(left))
}

func moreNeeded(n int) string {
	if n == 1 {
		return "1 more approval is needed."
	}
	return fmt.Sprintf("%d more approvals are needed.", n)
}

// DenialModal asks for the reason of a denial. Its private metadata is the request's
// id; its one input is block ReasonBlockID, action ReasonActionID.
func (s *Service) DenialModal(a *runbook.Approval) slack.ModalViewRequest {
	input := slack.NewPlainTextInputBlockElement(plain("Not during peak traffic; retry after 18:00"), ReasonActionID)
	input.Multiline = true
	input.MaxLength = maxNoteShown
	blocks := []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*Operation*\n"+a.Operation, false, false), nil, nil),
		slack.NewInputBlock(ReasonBlockID, plain("Why are you denying it?"), nil, input),
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      DenyReasonCallbackID,
		PrivateMetadata: strconv.FormatInt(a.ID, 10),
		Title:           plain("Deny " + a.Key()),
		Submit:          plain("Deny"),
		Close:           plain("Cancel"),
		Blocks:          slack.Blocks{BlockSet: blocks},
	}
}

// ParseID reads an approval id as people type it or a button carries it: "APR-7" in
// any letter case, or "7". Anything else is EINVALID.
func (s *Service) ParseID(value string) (int64, error) { return parseID(value) }

func parseID(value string) (int64, error) {
	v := strings.TrimSpace(value)
	digits := v
	if len(v) >= 4 && strings.EqualFold(v[:4], "APR-") {
		digits = v[4:]
	}
	id, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || id <= 0 || strings.Trim(digits, "0123456789") != "" {
		return 0, runbook.Errorf(runbook.EINVALID, "“%s” is not an approval id (like APR-7).", truncate(v, 40))
	}
	return id, nil
}

// DecisionFrom reads a decision from a request: a click on a request's Approve or Deny
// button, or the submitted denial-reason modal. ok is false for any other request.
func DecisionFrom(req *runbook.Request) (d Decision, ok bool, err error) {
	switch {
	case req.Kind == runbook.KindAction && req.Action != nil &&
		(req.Action.ActionID == runbooks.ActionApprove || req.Action.ActionID == runbooks.ActionDeny):
		id, err := parseID(req.Action.Value)
		return Decision{ApprovalID: id, UserID: req.UserID, Approve: req.Action.ActionID == runbooks.ActionApprove, Via: ViaButton}, true, err
	case req.Kind == runbook.KindViewSubmission && req.View != nil && req.View.CallbackID == DenyReasonCallbackID:
		id, err := parseID(req.View.PrivateMetadata)
		note := req.View.Values[ReasonBlockID][ReasonActionID]
		return Decision{ApprovalID: id, UserID: req.UserID, Note: note, Via: ViaButton}, true, err
	}
	return Decision{}, false, nil
}

func key(id int64) string { return "APR-" + strconv.FormatInt(id, 10) }

// clock shows a time as people in several time zones read it: "15:02 UTC".
func clock(t time.Time) string { return t.UTC().Format("15:04") + " UTC" }

func mention(user string) string {
	if user == "" {
		return ""
	}
	return "<@" + user + ">"
}

// people lists users as mentions: "<@A>", "<@A> and <@B>", "<@A>, <@B> and <@C>".
func people(users []string) string {
	m := make([]string, len(users))
	for i, u := range users {
		m[i] = mention(u)
	}
	if len(m) == 1 {
		return m[0]
	}
	return strings.Join(m[:len(m)-1], ", ") + " and " + m[len(m)-1]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func orWord(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

func plain(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, text, false, false)
}
