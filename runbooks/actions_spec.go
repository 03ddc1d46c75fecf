package runbooks

import (
	"github.com/runbookhq/runbook"

	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// Input types.
const (
	InputString   = "string"   // a scalar; templates allowed
	InputBool     = "bool"     // true or false, or a template rendering Truthy
	InputInt      = "int"      // a whole number, or a template
	InputList     = "list"     // a list of strings (a single string is a one-item list)
	InputBlocks   = "blocks"   // a YAML list of Block Kit objects, or a JSON string
	InputDuration = "duration" // a Go duration such as "15m", or a template
)

// ActionSpec declares what a step action takes and produces, so runbook files can be
// checked before they run and `help` can describe them.
type ActionSpec struct {
	Name    string
	Summary string
	Inputs  []InputSpec
	// OneOf lists inputs of which at least one must be given (e.g. text or blocks).
	OneOf []string
	// Outputs are what later steps may use as {{steps.<id>.<output>}}.
	Outputs []string
	// Idempotent says the action can be repeated safely, e.g. after a crash between
	// doing it and recording that it was done.
	Idempotent bool
}

// InputSpec declares one input of an action.
type InputSpec struct {
	Name     string
	Type     string // one of the Input* constants
	Required bool
	Summary  string
	// Values are the allowed values of a string input that is not a template.
	Values []string
	// Default is what the executor uses when the input is not given ("" for none).
	Default string
	// StepOf, when set, says the input names an earlier step (by id) that runs this
	// action, e.g. the message a reply threads under.
	StepOf string
	// check returns what is wrong with a literal (non-template) scalar value, or "".
	check func(string) string
}

// Input returns the input called name.
func (a ActionSpec) Input(name string) (InputSpec, bool) {
	i := slices.IndexFunc(a.Inputs, func(in InputSpec) bool { return in.Name == name })
	if i < 0 {
		return InputSpec{}, false
	}
	return a.Inputs[i], true
}

// InputNames lists the action's input names in declaration order.
func (a ActionSpec) InputNames() []string {
	names := make([]string, len(a.Inputs))
	for i, in := range a.Inputs {
		names[i] = in.Name
	}
	return names
}

// HasOutput reports whether the action produces the named output.
func (a ActionSpec) HasOutput(name string) bool { return slices.Contains(a.Outputs, name) }

// ActionNames lists the keys of Actions, sorted.
func ActionNames() []string {
	names := make([]string, 0, len(Actions))
	for name := range Actions {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Actions is every action a step may run, by name.
var Actions = map[string]ActionSpec{
	"slack.send_message": {
		Name:    "slack.send_message",
		Summary: "Post a message to a channel, optionally in the thread of an earlier message",
		Inputs: []InputSpec{
			{Name: "channel", Type: InputString, Required: true, Summary: `"#name", a channel id or a template`, check: checkChannel},
			{Name: "text", Type: InputString, Summary: "mrkdwn text; also the notification fallback when blocks are set"},
			{Name: "blocks", Type: InputBlocks, Summary: "Block Kit blocks: a YAML list, or a JSON string"},
			{Name: "thread", Type: InputString, Summary: "id of an earlier slack.send_message step whose message to reply under", StepOf: "slack.send_message"},
			{Name: "pin", Type: InputBool, Summary: "pin the message in the channel"},
		},
		OneOf:   []string{"text", "blocks"},
		Outputs: []string{"channel", "ts", "permalink"},
	},
	"slack.create_channel": {
		Name:    "slack.create_channel",
		Summary: "Create a channel and invite people to it",
		Inputs: []InputSpec{
			{Name: "name", Type: InputString, Required: true, Summary: "channel name: lowercase letters, digits, - and _, at most 80 characters", check: checkChannelName},
			{Name: "private", Type: InputBool, Summary: "create a private channel"},
			{Name: "topic", Type: InputString, Summary: "channel topic"},
			{Name: "purpose", Type: InputString, Summary: "channel purpose"},
			{Name: "invite", Type: InputList, Summary: `user ids, @handles, user groups or "commander"`, check: checkUser},
			{Name: "on_exists", Type: InputString, Summary: "when the name is taken: add a suffix, or reuse the existing channel", Values: []string{"suffix", "reuse"}, Default: "suffix"},
		},
		Outputs: []string{"id", "name"},
	},
	"slack.invite": {
		Name:    "slack.invite",
		Summary: "Invite people to a channel",
		Inputs: []InputSpec{
			{Name: "channel", Type: InputString, Required: true, Summary: `"#name", a channel id or a template`, check: checkChannel},
			{Name: "users", Type: InputList, Required: true, Summary: `user ids, @handles, user groups or "commander"`, check: checkUser},
		},
		Outputs:    []string{"invited"},
		Idempotent: true,
	},
	"slack.set_topic": {
		Name:    "slack.set_topic",
		Summary: "Set a channel's topic",
		Inputs: []InputSpec{
			{Name: "channel", Type: InputString, Required: true, Summary: `"#name", a channel id or a template`, check: checkChannel},
			{Name: "topic", Type: InputString, Required: true, Summary: "the new topic"},
		},
		Outputs:    []string{"topic"},
		Idempotent: true,
	},
	"slack.archive_channel": {
		Name:    "slack.archive_channel",
		Summary: "Archive a channel",
		Inputs: []InputSpec{
			{Name: "channel", Type: InputString, Required: true, Summary: `"#name", a channel id or a template`, check: checkChannel},
		},
		Outputs:    []string{"archived"},
		Idempotent: true,
	},
	"slack.dm": {
		Name:    "slack.dm",
		Summary: "Send a direct message to one person",
		Inputs: []InputSpec{
			{Name: "user", Type: InputString, Required: true, Summary: `a user id, @handle or "commander"`, check: checkUser},
			{Name: "text", Type: InputString, Summary: "mrkdwn text; also the notification fallback when blocks are set"},
			{Name: "blocks", Type: InputBlocks, Summary: "Block Kit blocks: a YAML list, or a JSON string"},
		},
		OneOf:   []string{"text", "blocks"},
		Outputs: []string{"channel", "ts"},
	},
	"approval.request": {
		Name:    "approval.request",
		Summary: "Ask for approval with Approve / Deny buttons and wait for the decision",
		Inputs: []InputSpec{
			{Name: "operation", Type: InputString, Required: true, Summary: "what will be done if approved"},
			{Name: "risk", Type: InputString, Summary: "low, medium, high or critical", Values: runbook.RiskNames(), Default: "medium"},
			{Name: "channel", Type: InputString, Summary: "where to ask (default: slack.approvalChannel, else the incident channel)", check: checkChannel},
			{Name: "rollback", Type: InputString, Summary: "how to undo the operation"},
			{Name: "reason", Type: InputString, Summary: "why the operation is needed"},
			{Name: "approvers", Type: InputList, Summary: "who may decide: user ids, @handles or user groups", check: checkUser},
			{Name: "required", Type: InputInt, Summary: "how many distinct approvers are needed", Default: "1", check: checkPositive},
			{Name: "timeout", Type: InputDuration, Summary: `how long to wait before the request expires, e.g. "15m"`},
		},
		Outputs: []string{"approved", "decided_by", "decided_at", "reason", "approval_id"},
	},
	"wait": {
		Name:    "wait",
		Summary: "Wait before the next step; a restart resumes the wait until its original end",
		Inputs: []InputSpec{
			{Name: "duration", Type: InputDuration, Required: true, Summary: `how long, e.g. "90s" or "5m"`},
		},
		Outputs:    []string{"until"},
		Idempotent: true,
	},
	"incident.update": {
		Name:    "incident.update",
		Summary: "Change the incident's status or severity, or add a note to its timeline",
		Inputs: []InputSpec{
			{Name: "status", Type: InputString, Summary: "the new status"},
			{Name: "severity", Type: InputString, Summary: "the new severity"},
			{Name: "note", Type: InputString, Summary: "a note for the incident timeline"},
		},
		OneOf:      []string{"status", "severity", "note"},
		Outputs:    []string{"status", "severity"},
		Idempotent: true,
	},
}

var (
	channelIDRe   = regexp.MustCompile(`^[CGD][A-Z0-9]{2,}$`)
	channelNameRe = regexp.MustCompile(`^[a-z0-9_-]{1,80}$`)
	userIDRe      = regexp.MustCompile(`^[UWS][A-Z0-9]{2,}$`)
)

func checkChannel(v string) string {
	if len(v) > 1 && v[0] == '#' && channelNameRe.MatchString(v[1:]) || channelIDRe.MatchString(v) {
		return ""
	}
	return fmt.Sprintf(`must be "#name", a channel id or a template, got %s`, quote(v))
}

func checkChannelName(v string) string {
	if channelNameRe.MatchString(v) {
		return ""
	}
	return fmt.Sprintf(`must be a Slack channel name (lowercase letters, digits, "-" and "_", at most 80 characters), got %s`, quote(v))
}

func checkUser(v string) string {
	if v == "commander" || len(v) > 1 && v[0] == '@' || userIDRe.MatchString(v) {
		return ""
	}
	return fmt.Sprintf(`must be a user id, @handle, user group id or "commander", got %s`, quote(v))
}

func checkPositive(v string) string {
	if n, err := strconv.Atoi(v); err == nil && n < 1 {
		return fmt.Sprintf("must be at least 1, got %d", n)
	}
	return ""
}

func checkDuration(v string) string {
	if d, err := time.ParseDuration(v); err != nil || d <= 0 {
		return fmt.Sprintf(`must be a duration like "15m", got %s`, quote(v))
	}
	return ""
}
