package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/runbooks"
	"github.com/runbookhq/runbook/slackapi"
	"github.com/runbookhq/runbook/slackui"
)

// UndecidableApprovals finds, without Slack, the approval steps that could never be
// approved: those whose approvers are all user ids, fewer than the approvals the step
// needs. Steps naming handles or groups, or setting risk or required by template, can
// only be checked when they run.
func UndecidableApprovals(cfg *config.Config, catalog *runbooks.Catalog) []string {
	var problems []string
	for _, rb := range catalog.List() {
		for i, st := range rb.Steps {
			if st.Action != "approval.request" {
				continue
			}
			need, known := stepRequired(cfg, st)
			people, allIDs := stepApprovers(cfg, st)
			if !known || !allIDs || len(people) == 0 || len(people) >= need {
				continue
			}
			problems = append(problems, fmt.Sprintf("%s:%d: step %d (approval.request) could never be approved: it needs %d approvals, and its approvers are %s",
				rb.File, st.Line, i+1, need, slackui.Count(len(people), "person", "people")))
		}
	}
	return problems
}

// stepRequired is how many approvals a step needs, when that is known before it runs.
func stepRequired(cfg *config.Config, st runbooks.Step) (int, bool) {
	if v, ok := st.With["required"]; ok {
		n, err := strconv.Atoi(fmt.Sprint(v))
		return n, err == nil
	}
	risk := "medium"
	if v, ok := st.With["risk"]; ok {
		risk = strings.ToLower(fmt.Sprint(v))
		if strings.Contains(risk, "{{") {
			return 0, false
		}
	}
	return max(cfg.Approvals.Required[risk], 1), true
}

// stepApprovers are the distinct people a step's approvers name, and whether every
// entry names one person by id (so that the count is known without Slack).
func stepApprovers(cfg *config.Config, st runbooks.Step) ([]string, bool) {
	entries := cfg.Approvals.Approvers
	if list, ok := st.With["approvers"].([]any); ok && len(list) > 0 {
		entries = nil
		for _, e := range list {
			entries = append(entries, fmt.Sprint(e))
		}
	}
	seen := map[string]bool{}
	var people []string
	for _, e := range entries {
		id, ok := runbook.UserRef(e)
		if !ok {
			return nil, false
		}
		if !seen[id] {
			seen[id] = true
			people = append(people, id)
		}
	}
	return people, true
}

// CheckWithSlack resolves the configured approvers and the people the runbooks name
// (invitation lists, approval steps) against the workspace the bot token belongs to.
// An approver entry that names nobody is a problem. User groups the workspace cannot
// use — its Slack plan (Free) has none, or the group is disabled — are warnings
// naming each place they appear: runs skip them. When Slack cannot be reached (no
// token, no network), notes say so instead, and nothing is checked.
func CheckWithSlack(ctx context.Context, cfg *config.Config, catalog *runbooks.Catalog) (problems, warnings, notes []string) {
	entries := runbookEntries(catalog)
	if len(cfg.Approvals.Approvers) == 0 && len(entries) == 0 {
		return nil, nil, nil
	}
	notChecked := func(why string) []string {
		var out []string
		if len(cfg.Approvals.Approvers) > 0 {
			out = append(out, "approvals.approvers were not checked against Slack: "+why)
		}
		if len(entries) > 0 {
			out = append(out, "the user groups in runbooks were not checked against Slack: "+why)
		}
		return out
	}
	token := cfg.Slack.BotToken.Reveal()
	if token == "" || token == "xoxb-validate" {
		return nil, nil, notChecked("no bot token (the bot checks them when it starts)")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	httpClient := &http.Client{Timeout: 10 * time.Second}
	adapter := slackapi.New(slack.New(token, slack.OptionAPIURL(cfg.Slack.APIURL), slack.OptionHTTPClient(httpClient)), httpClient, nil)
	adapter.MaxElapsed = 5 * time.Second
	if _, err := adapter.Identify(ctx); err != nil {
		return nil, nil, notChecked("it could not be reached (" + reason(err) + ")")
	}
	noGroups := false
	for _, e := range cfg.Approvals.Approvers {
		_, err := runbook.People(ctx, adapter, e)
		switch {
		case err == nil:
		case errors.Is(err, runbook.ErrNoUserGroups), errors.Is(err, runbook.ErrGroupDisabled):
			noGroups = noGroups || errors.Is(err, runbook.ErrNoUserGroups)
			warnings = append(warnings, "approvals.approvers: "+runbook.ErrorMessage(err)+"; it approves nothing")
		case runbook.ErrorCode(err) == runbook.ENOTFOUND:
			problems = append(problems, "approvals.approvers: "+runbook.ErrorMessage(err))
		default:
			return problems, warnings, []string{"approvals.approvers were not all checked against Slack: " + reason(err)}
		}
	}
	unusable, free, err := UnusableGroups(ctx, adapter, catalog)
	warnings = append(warnings, unusable...)
	if err != nil {
		notes = append(notes, "the user groups in runbooks were not all checked against Slack: "+reason(err))
	}
	if noGroups || free {
		warnings = append([]string{"this Slack workspace has no user groups (Slack's Free plan): the groups named below are skipped"}, warnings...)
	}
	return problems, warnings, notes
}

// entry is one person or group a runbook step names, and where.
type entry struct{ where, name string }

// listsOfPeople are, per action, the input that lists people.
var listsOfPeople = map[string]string{"slack.create_channel": "invite", "slack.invite": "users", "approval.request": "approvers"}

// runbookEntries lists what the runbooks' invitation lists and approval steps name
// that may be a user group: not user ids, "commander" or templates, which only a run
// can resolve.
func runbookEntries(catalog *runbooks.Catalog) []entry {
	if catalog == nil {
		return nil
	}
	var out []entry
	for _, rb := range catalog.List() {
		for i, st := range rb.Steps {
			input, ok := listsOfPeople[st.Action]
			if !ok {
				continue
			}
			list, _ := st.With[input].([]any)
			for _, v := range list {
				name := strings.TrimSpace(fmt.Sprint(v))
				if _, isUser := runbook.UserRef(name); isUser || name == "" || strings.EqualFold(name, "commander") || strings.Contains(name, "{{") {
					continue
				}
				out = append(out, entry{where: fmt.Sprintf("%s:%d: step %d (%s) %s", rb.File, st.Line, i+1, st.Action, input), name: name})
			}
		}
	}
	return out
}

// UnusableGroups finds the user groups named in the runbooks' invitation lists and
// approval steps that the workspace cannot use — its Slack plan (Free) has none, or
// the group is disabled — and says, for each place, that runs will skip it. free
// reports that the workspace has no user groups at all. An entry that names nobody for
// another reason is left to the run, which fails the step with the sentence.
func UnusableGroups(ctx context.Context, slack runbook.Channels, catalog *runbooks.Catalog) (warnings []string, free bool, err error) {
	asked := map[string]error{}
	for _, e := range runbookEntries(catalog) {
		err, ok := asked[e.name]
		if !ok {
			_, err = runbook.People(ctx, slack, e.name)
			asked[e.name] = err
		}
		switch {
		case errors.Is(err, runbook.ErrNoUserGroups), errors.Is(err, runbook.ErrGroupDisabled):
			free = free || errors.Is(err, runbook.ErrNoUserGroups)
			skipped := "; runs skip it"
			if strings.HasSuffix(e.where, "approvers") {
				skipped = "; it approves nothing"
			}
			warnings = append(warnings, e.where+": "+runbook.ErrorMessage(err)+skipped)
		case err == nil, runbook.ErrorCode(err) == runbook.ENOTFOUND:
		default:
			return warnings, free, fmt.Errorf("check %s: %w", e.name, err)
		}
	}
	return warnings, free, nil
}

// reason is why a call to Slack failed, in a few words.
func reason(err error) string {
	if code := runbook.SlackCode(err); code != "" {
		return code
	}
	return err.Error()
}
