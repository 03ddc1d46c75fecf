package slackui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
)

// Ids of the approval request message: the action ids of its buttons, whose value is
// the approval's numeric id, and the block holding them.
const (
	ActionApprove  = "approval.approve"
	ActionDeny     = "approval.deny"
	ApprovalBlocks = "approval"
)

// The denial-reason modal: its callback id, and the block and action id of its one input.
const (
	DenyReasonCallbackID = "approval.deny_reason"
	ReasonBlockID        = "reason"
	ReasonActionID       = "reason"
)

// MaxNoteShown bounds how much of a reason the request message repeats, well inside
// Slack's 3,000 characters per section; the denial form takes no more.
const MaxNoteShown = 500

// maxField is Slack's limit on the text of one field of a section.
const maxField = 2000

// riskBadges shows a risk level at a glance.
var riskBadges = map[runbook.Risk]string{
	runbook.RiskLow: ":large_green_circle: low", runbook.RiskMedium: ":large_yellow_circle: medium",
	runbook.RiskHigh: ":large_orange_circle: high", runbook.RiskCritical: ":red_circle: *critical*",
}

// RiskBadge is a risk level with its colour.
func RiskBadge(risk runbook.Risk) string {
	if b, ok := riskBadges[risk]; ok {
		return b
	}
	return string(risk)
}

// ApprovalRequest is the message asking for a decision: operation, risk, incident,
// who asked and why, the rollback, when it expires, and Approve / Deny buttons whose
// value is the approval's id.
func ApprovalRequest(a *runbook.Approval, inc *runbook.Incident) runbook.Message {
	blocks := approvalFacts(a, inc)
	value := ApprovalValue(a)
	approve := slack.NewButtonBlockElement(ActionApprove, value, Plain("Approve"))
	approve.Style = slack.StylePrimary
	deny := slack.NewButtonBlockElement(ActionDeny, value, Plain("Deny"))
	deny.Style = slack.StyleDanger
	blocks = append(blocks, slack.NewActionBlock(ApprovalBlocks, approve, deny))
	return runbook.Message{Text: fmt.Sprintf("Approval needed (%s): %s", a.Key(), a.Operation), Blocks: blocks}
}

// ApprovalValue is the value of a request's buttons, and the private metadata of the
// denial form they open: the request's number and its token ("7.Kx…").
func ApprovalValue(a *runbook.Approval) string {
	v := strconv.FormatInt(a.ID, 10)
	if a.Token != "" {
		v += "." + a.Token
	}
	return v
}

// ParseApprovalValue reads a button value or form metadata made by ApprovalValue.
func ParseApprovalValue(v string) (id int64, token string, err error) {
	num, token, _ := strings.Cut(v, ".")
	id, err = runbook.ParseApprovalKey(num)
	return id, token, err
}

// Approvers shows approver entries to people: "<@U1>, @oncall"; none when there are
// none.
func Approvers(entries []string, none string) string {
	if len(entries) == 0 {
		return none
	}
	shown := make([]string, len(entries))
	for i, e := range entries {
		shown[i] = approver(strings.TrimSpace(e))
	}
	return strings.Join(shown, ", ")
}

func approver(e string) string {
	if strings.HasPrefix(e, "<@") || strings.HasPrefix(e, "<!subteam^") {
		return e
	}
	if id, ok := runbook.UserRef(e); ok {
		return Mention(id)
	}
	if runbook.GroupRef(e) {
		return GroupMention(e)
	}
	return "@" + Escape(strings.TrimPrefix(e, "@"))
}

// requestedBy names who asked: the person, the API token that asked on their behalf,
// or "a trigger" for a run nobody started.
func requestedBy(a *runbook.Approval) string {
	switch {
	case a.RequestedVia != "" && a.RequestedBy != "":
		return Mention(a.RequestedBy) + " via " + Mention(a.RequestedVia)
	case a.RequestedVia != "":
		return Mention(a.RequestedVia)
	}
	return Or(Mention(a.RequestedBy), "a trigger")
}

// approvalFacts are the blocks a request shows before and after it is decided.
func approvalFacts(a *runbook.Approval, inc *runbook.Incident) []slack.Block {
	fields := []*slack.TextBlockObject{
		Mrkdwn(Truncate("*Operation*\n"+a.Operation, maxField)),
		Mrkdwn("*Risk*\n" + RiskBadge(a.Risk)),
		Mrkdwn("*Requested by*\n" + requestedBy(a)),
		Mrkdwn(Truncate(fmt.Sprintf("*Who may approve*\n%s · %s", Approvers(a.Approvers, "anyone but the requester"), Count(max(a.Required, 1), "approval", "approvals")+" needed"), maxField)),
		Mrkdwn(fmt.Sprintf("*Expires*\n<!date^%d^{date_short_pretty} {time}|%s>", a.ExpiresAt.Unix(), a.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"))),
	}
	if inc != nil {
		fields = append(fields, Mrkdwn(Truncate(fmt.Sprintf("*Incident*\n%s %s", inc.Key(), Escape(inc.Title)), maxField)))
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "Approval needed: "+a.Key(), true, false)),
		slack.NewSectionBlock(nil, fields, nil),
	}
	if a.Reason != "" {
		blocks = append(blocks, Section("*Why*\n"+a.Reason))
	}
	if a.Rollback != "" {
		blocks = append(blocks, Section("*Rollback*\n```"+Truncate(a.Rollback, MaxSectionText-20)+"```"))
	}
	return blocks
}

// DecidedApproval is the request message updated in place once the request is
// decided, expired or cancelled: the same header and fields, the buttons gone, and a
// line that says what happened ("✅ Approved by <@U1> at 14:32 UTC"). approvers names
// everyone who approved, when known.
//
// Once approved, it also shows what became of the steps the request let run
// (a.Outcome), and a Roll back button when a.OffersRollback.
func DecidedApproval(a *runbook.Approval, inc *runbook.Incident, approvers []string) runbook.Message {
	line := ApprovalStatus(a, approvers)
	blocks := append(approvalFacts(a, inc), slack.NewSectionBlock(Mrkdwn(line), nil, nil))
	text := fmt.Sprintf("%s: %s — %s", a.Key(), a.Operation, line)
	if a.Outcome != "" {
		// An outcome may quote what a server or program answered.
		outcome := Neutralize(a.Outcome)
		blocks = append(blocks, Section(outcome))
		text += " · " + outcome
	}
	if a.OffersRollback {
		blocks = append(blocks, RollbackButton(a.RunID))
	}
	return runbook.Message{Text: Truncate(text, MaxSectionText), Blocks: blocks}
}

// ApprovalStatus says how a request stands or ended.
func ApprovalStatus(a *runbook.Approval, approvers []string) string {
	note := ""
	if a.Note != "" {
		note = ": " + Escape(Truncate(a.Note, MaxNoteShown+1))
	}
	switch a.State {
	case runbook.ApprovalApproved:
		if len(approvers) == 0 {
			approvers = []string{a.DecidedBy}
		}
		return "✅ Approved by " + People(approvers) + " at " + Clock(a.DecidedAt) + note
	case runbook.ApprovalDenied:
		return "❌ Denied by " + Mention(a.DecidedBy) + note
	case runbook.ApprovalExpired:
		return "⌛ Expired — no decision by " + Clock(a.ExpiresAt)
	case runbook.ApprovalCancelled:
		by := ""
		if runbook.LooksLikeID(a.DecidedBy, "UW") {
			by = " by " + Mention(a.DecidedBy)
		}
		return "🚫 Cancelled" + by + note
	}
	return "⏳ Waiting for a decision"
}

// DenialModal asks for the reason of a denial. Its private metadata is the request's
// id; its one input is block ReasonBlockID, action ReasonActionID.
func DenialModal(a *runbook.Approval) slack.ModalViewRequest {
	input := slack.NewPlainTextInputBlockElement(Plain("Not during peak traffic; retry after 18:00"), ReasonActionID)
	input.Multiline = true
	input.MaxLength = MaxNoteShown
	blocks := []slack.Block{
		Section("*Operation*\n" + a.Operation),
		slack.NewInputBlock(ReasonBlockID, Plain("Why are you denying it?"), nil, input),
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      DenyReasonCallbackID,
		PrivateMetadata: ApprovalValue(a),
		Title:           Plain("Deny " + a.Key()),
		Submit:          Plain("Deny"),
		Close:           Plain("Cancel"),
		Blocks:          slack.Blocks{BlockSet: blocks},
	}
}
