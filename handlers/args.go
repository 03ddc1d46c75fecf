package handlers

import (
	"context"
	"strings"

	"github.com/runbookhq/runbook"
)

// args splits a command's tokens into positional words and key=value options. A value
// may be quoted (note="db is slow") or a Slack reference (commander=<@U1>).
type args struct {
	words []Token
	opts  map[string]Token
	order []string // option keys in the order given
}

func parseArgs(tokens []Token) args {
	a := args{opts: map[string]Token{}}
	for i := 0; i < len(tokens); i++ {
		t := tokens[i]
		key, value, isOpt := strings.Cut(t.Text, "=")
		if t.Kind != Word || !isOpt || key == "" || strings.ContainsAny(key, " ") {
			a.words = append(a.words, t)
			continue
		}
		key = strings.ToLower(key)
		opt := Token{Kind: Word, Text: value, Quoted: t.Quoted}
		if value == "" && !t.Quoted && i+1 < len(tokens) && tokens[i+1].Kind != Word {
			opt = tokens[i+1] // commander=<@U1>: the reference is its own token
			i++
		}
		if _, seen := a.opts[key]; !seen {
			a.order = append(a.order, key)
		}
		a.opts[key] = opt
	}
	return a
}

// text joins the words from i on, as typed (quotes removed).
func (a args) text(from int) string {
	var parts []string
	for _, w := range a.words[min(from, len(a.words)):] {
		parts = append(parts, w.Text)
	}
	return strings.Join(parts, " ")
}

// incidentArg returns the incident a command is about: the INC id at words[i] when
// there is one (and whether it was used), else the incident whose channel this is.
func (h *Handlers) incidentArg(ctx context.Context, inv *invocation, a args, i int) (*runbook.Incident, bool, error) {
	if i < len(a.words) && looksLikeIncident(a.words[i].Text) {
		id, err := runbook.ParseIncidentKey(a.words[i].Text)
		if err != nil {
			return nil, false, err
		}
		inc, err := h.store.Incident(ctx, id)
		return inc, true, err
	}
	inc, err := h.store.IncidentByChannel(ctx, inv.req.ChannelID)
	if runbook.ErrorCode(err) == runbook.ENOTFOUND {
		return nil, false, runbook.Errorf(runbook.EINVALID, "Which incident? Give its id, like INC-42, or run the command in the incident's channel.")
	}
	return inc, false, err
}

// looksLikeIncident reports whether a word is meant as an incident id.
func looksLikeIncident(s string) bool {
	s = strings.TrimPrefix(s, "#")
	if len(s) > 4 && strings.EqualFold(s[:4], "inc-") {
		return true
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// userID returns the user a token names: a <@U…> mention, or a plain U… id.
func userID(t Token) (string, bool) {
	if t.Kind == User {
		return t.ID, true
	}
	s := strings.TrimPrefix(t.Text, "@")
	if len(s) > 2 && (s[0] == 'U' || s[0] == 'W') && strings.ToUpper(s) == s {
		return s, true
	}
	return "", false
}
