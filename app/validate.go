package app

import (
	"context"
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

// CheckApproversWithSlack resolves the configured approvers against the workspace the
// bot token belongs to: each entry that names nobody is a problem. When Slack cannot be
// reached (no token, no network), it says so instead, and checks nothing.
func CheckApproversWithSlack(ctx context.Context, cfg *config.Config) (problems []string, note string) {
	if len(cfg.Approvals.Approvers) == 0 {
		return nil, ""
	}
	token := cfg.Slack.BotToken.Reveal()
	if token == "" || token == "xoxb-validate" {
		return nil, "approvals.approvers were not checked against Slack: no bot token (the bot checks them when it starts)"
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	httpClient := &http.Client{Timeout: 10 * time.Second}
	adapter := slackapi.New(slack.New(token, slack.OptionAPIURL(cfg.Slack.APIURL), slack.OptionHTTPClient(httpClient)), httpClient, nil)
	adapter.MaxElapsed = 5 * time.Second
	if _, err := adapter.Identify(ctx); err != nil {
		return nil, "approvals.approvers were not checked against Slack: it could not be reached (" + reason(err) + ")"
	}
	for _, e := range cfg.Approvals.Approvers {
		_, err := runbook.People(ctx, adapter, e)
		switch {
		case err == nil:
		case runbook.ErrorCode(err) == runbook.ENOTFOUND:
			problems = append(problems, "approvals.approvers: "+runbook.ErrorMessage(err))
		default:
			return problems, "approvals.approvers were not all checked against Slack: " + reason(err)
		}
	}
	return problems, ""
}

// reason is why a call to Slack failed, in a few words.
func reason(err error) string {
	if code := runbook.SlackCode(err); code != "" {
		return code
	}
	return err.Error()
}
