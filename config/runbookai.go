package config

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// RunbookAI (github.com/manthan787/RunbookAI) keeps its Slack integration under
// incident.slack in .runbook/config.yaml, beside sections for its LLM, cloud providers
// and knowledge base. Runbook reads such a file as written: the keys of incident.slack
// are Runbook's slack keys of the same names, services.<name>.slack.channel is the same
// key in both, and RunbookAI's other sections are dropped and named in one log line. A
// file is in RunbookAI's shape when it has a top-level incident section (Runbook's is
// incidents).

// runbookAISection is the top-level key that marks a file in RunbookAI's shape.
const runbookAISection = "incident"

// HTTPModeDefaultAddr is where a RunbookAI-shaped configuration that selects HTTP mode
// listens when http.addr is not set: the port of RunbookAI's own webhook server
// (runbook webhook, default --port 3000), which serves the same /slack/* paths.
const HTTPModeDefaultAddr = ":3000"

// runbookAISlackKeys are RunbookAI's incident.slack keys that Runbook uses; each is
// Runbook's slack key of the same name.
var runbookAISlackKeys = []string{
	"enabled", "botToken", "appToken", "signingSecret",
	"defaultChannel", "approvalChannel", "investigationUpdates", "updateChannel",
}

// runbookAIUnused are RunbookAI's sections that Runbook has no use for, by path. They
// are dropped, whatever they hold, so that its own references (${ANTHROPIC_API_KEY})
// need not be set for the bot.
var runbookAIUnused = []string{
	"llm", "providers", "knowledge", "safety", "agent", "integrations",
	"incident.pagerduty", "incident.opsgenie",
	// RunbookAI's own events gateway; the bot receives Slack's events itself.
	"incident.slack.events",
}

// RunbookAIShape reports whether the configuration file was in RunbookAI's shape
// (incident.slack), so that messages name its keys as that file does.
func (c *Config) RunbookAIShape() bool { return c.runbookAI }

// IgnoredKeys lists the sections of a RunbookAI-shaped file that Runbook has no use
// for and dropped (llm, providers, incident.pagerduty, …), sorted.
func (c *Config) IgnoredKeys() []string { return slices.Clone(c.ignored) }

// Key is how messages name one of Runbook's keys in this configuration: slack.enabled
// is incident.slack.enabled when the file was RunbookAI's.
func (c *Config) Key(key string) string { return keyName(c.runbookAI, key) }

// runbookAIFile is what reading a file in RunbookAI's shape found.
type runbookAIFile struct {
	ignored []string // RunbookAI's sections that were dropped, by path, sorted
	errs    []error
}

// fromRunbookAI rewrites m, a configuration file's keys, from RunbookAI's shape into
// Runbook's: incident.slack's keys move to slack, the sections Runbook has no use for
// are dropped. It reports false, and leaves m alone, for a file in Runbook's shape.
func fromRunbookAI(m map[string]any) (runbookAIFile, bool) {
	inc, ok := m[runbookAISection]
	if !ok {
		return runbookAIFile{}, false
	}
	var f runbookAIFile
	delete(m, runbookAISection)
	for _, k := range sortedKeys(m) {
		if slices.Contains(runbookAIUnused, k) {
			f.ignored = append(f.ignored, k)
			delete(m, k)
		}
	}
	incident, ok := inc.(map[string]any)
	if !ok {
		if inc != nil {
			f.errs = append(f.errs, fmt.Errorf("config: incident must be a mapping of keys (RunbookAI's incident section)"))
		}
		return f, true
	}
	var slack map[string]any
	for _, k := range sortedKeys(incident) {
		switch path := "incident." + k; {
		case k == "slack":
			slack, ok = incident[k].(map[string]any)
			if !ok && incident[k] != nil {
				f.errs = append(f.errs, fmt.Errorf("config: incident.slack must be a mapping of keys"))
			}
		case slices.Contains(runbookAIUnused, path):
			f.ignored = append(f.ignored, path)
		default:
			f.errs = append(f.errs, unknownIncidentKey(k))
		}
	}
	if slack != nil {
		f.errs = append(f.errs, f.moveSlack(m, slack)...)
	}
	slices.Sort(f.ignored)
	return f, true
}

// unknownIncidentKey is the error for incident.<k>, which RunbookAI does not have: most
// likely one of Runbook's incidents keys, missing its s.
func unknownIncidentKey(k string) error {
	if rootSchema().field("incidents").field(k) != nil {
		return fmt.Errorf("config: unknown key incident.%s (did you mean incidents.%s?)", displayKey(k), k)
	}
	return fmt.Errorf("config: unknown key incident.%s: RunbookAI's incident section has pagerduty, opsgenie and slack", displayKey(k))
}

// moveSlack moves incident.slack's keys to slack. A key Runbook's slack section has
// but RunbookAI's does not (apiURL, mode, …) is refused rather than moved, so that a
// file cannot set one where a reader of RunbookAI's documentation would not look for
// it; the environment sets those. A slack section beside incident.slack is two shapes
// in one file, refused with both keys named and never a value.
func (f *runbookAIFile) moveSlack(m, slack map[string]any) []error {
	var errs []error
	if own, ok := m["slack"].(map[string]any); ok {
		errs = append(errs, mixed(own, slack)...)
	} else if _, set := m["slack"]; set && m["slack"] != nil {
		errs = append(errs, fmt.Errorf("config: incident.slack (RunbookAI's shape) and slack (Runbook's) are both set; use one shape"))
	}
	out := map[string]any{}
	for _, k := range sortedKeys(slack) {
		path := "incident.slack." + k
		switch {
		case slices.Contains(runbookAISlackKeys, k):
			out[k] = slack[k]
		case slices.Contains(runbookAIUnused, path):
			f.ignored = append(f.ignored, path)
			if err := allowedUsers(slack[k]); err != nil {
				errs = append(errs, err)
			}
		case rootSchema().field("slack").field(k) != nil:
			errs = append(errs, fmt.Errorf("config: incident.slack.%s is not a RunbookAI key; set Runbook's slack.%s with %s", k, k, envName("slack", k)))
		default:
			msg := fmt.Sprintf("config: unknown key incident.slack.%s", displayKey(k))
			if best := closestName(k, runbookAISlackKeys); best != "" {
				msg += fmt.Sprintf(" (did you mean incident.slack.%s?)", best)
			}
			errs = append(errs, errors.New(msg))
		}
	}
	if len(errs) == 0 {
		m["slack"] = out
	}
	return errs
}

// mixed names each key of Runbook's slack section set beside incident.slack.
func mixed(own, slack map[string]any) []error {
	var errs []error
	for _, k := range sortedKeys(own) {
		if own[k] == nil {
			continue
		}
		if _, both := slack[k]; both {
			errs = append(errs, fmt.Errorf("config: incident.slack.%s (RunbookAI's shape) and slack.%s (Runbook's) are both set; use one shape", displayKey(k), displayKey(k)))
		} else {
			msg := fmt.Sprintf("config: incident.slack (RunbookAI's shape) and slack.%s (Runbook's) are both set; use one shape", displayKey(k))
			if rootSchema().field("slack").field(k) != nil {
				msg += fmt.Sprintf(", or set slack.%s with %s", k, envName("slack", k))
			}
			errs = append(errs, errors.New(msg))
		}
	}
	return errs
}

// allowedUsers refuses incident.slack.events.allowedUsers with people in it: RunbookAI
// answers only them, and dropping the list would let everyone in.
func allowedUsers(events any) error {
	e, _ := events.(map[string]any)
	if present(e["allowedUsers"]) {
		return fmt.Errorf("config: incident.slack.events.allowedUsers limits who may use RunbookAI, which Runbook does with permissions.declare, permissions.responders and permissions.admins; move the user ids there and remove allowedUsers")
	}
	return nil
}

// present says whether a value names anyone, in whatever form the file wrote it: a
// list, a comma-separated string, a mapping. Only nothing at all is empty.
func present(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return strings.TrimSpace(v) != ""
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	return true
}

// closestName is the name in names nearest to k, if near enough to be a typo.
func closestName(k string, names []string) string {
	nodes := make([]*node, len(names))
	for i, n := range names {
		nodes[i] = &node{name: n}
	}
	if best := closest(k, nodes); best != nil {
		return best.name
	}
	return ""
}

// envName is the RUNBOOK_ variable that sets a key.
func envName(path ...string) string {
	segs := make([]string, len(path))
	for i, p := range path {
		segs[i] = strings.ToUpper(p)
	}
	return EnvPrefix + strings.Join(segs, "__")
}

// keyName is how messages name one of Runbook's keys: in a RunbookAI-shaped file,
// slack.<k> is incident.slack.<k>, which is what its author wrote.
func keyName(runbookAI bool, key string) string {
	if k, ok := strings.CutPrefix(key, "slack."); ok && runbookAI && slices.Contains(runbookAISlackKeys, k) {
		return "incident.slack." + k
	}
	return key
}

// slackOff reports whether the expanded configuration turns the Slack integration off
// (slack.enabled: false, from the file or the environment).
func slackOff(expanded map[string]any) bool {
	slack, _ := expanded["slack"].(map[string]any)
	switch v := slack["enabled"].(type) {
	case bool:
		return !v
	case string:
		on, err := strconv.ParseBool(strings.TrimSpace(v))
		return err == nil && !on
	}
	return false
}

// pickMode selects HTTP mode for a RunbookAI-shaped configuration that gives a signing
// secret and no app-level token, as RunbookAI's webhook server receives Slack's
// requests; with an app-level token Socket Mode stays. RUNBOOK_SLACK__MODE decides
// when set. HTTP mode listens on HTTPModeDefaultAddr unless http.addr is set.
func (l *loader) pickMode(expanded map[string]any) {
	if _, set := l.origins["slack.mode"]; set || slackOff(expanded) {
		return
	}
	slack, _ := expanded["slack"].(map[string]any)
	secret, _ := slack["signingSecret"].(string)
	app, _ := slack["appToken"].(string)
	if secret == "" || app != "" {
		return
	}
	slack["mode"] = ModeHTTP
	if h, ok := expanded["http"].(map[string]any); ok {
		if addr, _ := h["addr"].(string); addr == "" {
			h["addr"] = HTTPModeDefaultAddr
		}
	}
}
