package runbooks

import (
	"github.com/runbookhq/runbook"

	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
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
	InputMap      = "map"      // a mapping of names to text; each value a template
	InputJSON     = "json"     // a YAML mapping or list, sent as JSON; every string a template
	InputArgv     = "argv"     // a list of text, each item one argument as rendered
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
	// Machine says the inputs go to a machine, not to people in Slack: templates are
	// rendered without Slack escaping, and may use {{secrets.NAME}}.
	Machine bool
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
	// reach returns what is wrong with a value, template or not, given the settings
	// (a host that is not allowed), or "".
	reach func(s Settings, value string) string
	// entry returns what is wrong with one name and value of a map input, template or
	// not, given the settings (a custom field that is not configured), or "".
	entry func(s Settings, name, value string) string
	// AliasOf, when set, says the input is another name for that input, as Harness
	// runbooks call it (description for purpose) or RunbookAI's approval requests do
	// (riskLevel for risk); its value is stored under that name.
	AliasOf string
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
			{Name: "description", Type: InputString, Summary: "the channel purpose, as Harness calls it", AliasOf: "purpose"},
			{Name: "is_private", Type: InputBool, Summary: "create a private channel, as Harness calls it", AliasOf: "private"},
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
			{Name: "riskLevel", Type: InputString, Summary: "the risk, as RunbookAI calls it", Values: runbook.RiskNames(), AliasOf: "risk"},
			{Name: "rollbackCommand", Type: InputString, Summary: "how to undo the operation, as RunbookAI calls it", AliasOf: "rollback"},
			{Name: "investigation", Type: InputString, Summary: "why the operation is needed (RunbookAI's investigation it is for)", AliasOf: "reason"},
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
	"http.request": {
		Name:    "http.request",
		Summary: "Call an HTTP API; retried on connection errors, 429 and 5xx with one Idempotency-Key",
		Inputs: []InputSpec{
			{Name: "url", Type: InputString, Required: true, Summary: "http(s) URL; {{x}} is percent-encoded, {{{x}}} is not", reach: checkURLTemplate},
			{Name: "method", Type: InputString, Summary: "GET, POST, PUT, PATCH, DELETE or HEAD (default GET, POST with a body)", Values: HTTPMethods},
			{Name: "headers", Type: InputMap, Summary: "request headers; values are templates and may use secrets"},
			{Name: "json", Type: InputJSON, Summary: "a mapping or list sent as the JSON body"},
			{Name: "body", Type: InputString, Summary: "a raw body, instead of json"},
			{Name: "timeout", Type: InputDuration, Summary: "how long one attempt may take", Default: "10s"},
			{Name: "expect", Type: InputList, Summary: `status codes or classes that count as success, e.g. 200 or "2xx"`, Default: "2xx", check: checkStatus},
			{Name: "retries", Type: InputInt, Summary: "how many times to retry a connection error, 429 or 5xx", Default: "3", check: checkRetries},
		},
		Outputs: []string{"status", "body", "json", "duration_ms"},
		Machine: true,
	},
	"command.run": {
		Name:    "command.run",
		Summary: "Run an allowed program, without a shell",
		Inputs: []InputSpec{
			{Name: "command", Type: InputArgv, Required: true, Summary: "the program and its arguments, one list item each; the program must be in actions.command.allowed"},
			{Name: "env", Type: InputMap, Summary: "environment variables besides PATH, HOME, LANG and TMPDIR; values may use secrets"},
			{Name: "dir", Type: InputString, Summary: "the working directory"},
			{Name: "stdin", Type: InputString, Summary: "text given on standard input"},
			{Name: "timeout", Type: InputDuration, Summary: "how long it may run before it is killed", Default: "5m"},
		},
		Outputs: []string{"exit_code", "stdout", "stderr", "duration_ms"},
		Machine: true,
	},
	"incident.update": {
		Name:    "incident.update",
		Summary: "Change the incident's status, severity, custom fields or summary, or add a note to its timeline",
		Inputs: []InputSpec{
			{Name: "status", Type: InputString, Summary: "the new status", reach: checkStatusInput},
			{Name: "severity", Type: InputString, Summary: "the new severity", reach: checkSeverityInput},
			{Name: "note", Type: InputString, Summary: "a note for the incident timeline"},
			{Name: "fields", Type: InputMap, Summary: `custom fields to set (incidents.fields), as name: value; "" clears one`, entry: checkFieldEntry},
			{Name: "summary", Type: InputString, Summary: "the incident's new summary ({{Activity.summary}})", check: checkSummary},
		},
		OneOf:      []string{"status", "severity", "note", "fields", "summary"},
		Outputs:    []string{"status", "severity"},
		Idempotent: true,
	},
	"incident.summary": {
		Name:    "incident.summary",
		Summary: "Post the incident's summary: root cause, remediation, timeline, runs and approvals, follow-ups",
		Inputs: []InputSpec{
			{Name: "channel", Type: InputString, Summary: `"#name", a channel id or a template; the incident's channel when left out`, check: checkChannel},
		},
		Outputs:    []string{"channel", "ts"},
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

// checkURLTemplate checks a URL whose scheme and host are literal; one whose host is
// rendered is checked when the step runs.
func checkURLTemplate(s Settings, v string) string {
	prefix, whole := literalURLPrefix(v)
	if !whole {
		return ""
	}
	return CheckURL(prefix, s.AllowedHosts)
}

// HTTPMethods are the methods http.request may use.
var HTTPMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}

var statusRe = regexp.MustCompile(`^[1-5]([0-9][0-9]|xx)$`)

// StatusExpected reports whether an HTTP status matches one of expect's codes ("204")
// or classes ("2xx").
func StatusExpected(expect []string, status int) bool {
	code := strconv.Itoa(status)
	return slices.ContainsFunc(expect, func(e string) bool {
		e = strings.ToLower(strings.TrimSpace(e))
		return e == code || strings.HasSuffix(e, "xx") && len(code) == 3 && e[0] == code[0]
	})
}

func checkStatus(v string) string {
	if statusRe.MatchString(strings.ToLower(v)) {
		return ""
	}
	return fmt.Sprintf(`must be an HTTP status such as 200 or a class such as "2xx", got %s`, quote(v))
}

// MaxRetries bounds http.request's retries.
const MaxRetries = 10

func checkRetries(v string) string {
	if n, err := strconv.Atoi(v); err == nil && (n < 0 || n > MaxRetries) {
		return fmt.Sprintf("must be from 0 to %d, got %d", MaxRetries, n)
	}
	return ""
}

func checkDuration(v string) string {
	if d, err := time.ParseDuration(v); err != nil || d <= 0 {
		return fmt.Sprintf(`must be a duration like "15m", got %s`, quote(v))
	}
	return ""
}
