// Package handlers answers what people ask of Runbook: it parses the command language
// shared by /runbook and @Runbook, checks who may do what, calls into the domain, and
// writes the replies (Block Kit) that the bot delivers.
package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/approvals"
	"github.com/runbookhq/runbook/engine"
	"github.com/runbookhq/runbook/incidents"
	"github.com/runbookhq/runbook/runbooks"
	"github.com/runbookhq/runbook/slackui"
	"github.com/runbookhq/runbook/timers"
)

// Handlers is the runbook.Handler for every kind of request.
type Handlers struct {
	Deps
	store    runbook.IncidentStore
	log      *slog.Logger
	commands []*command
	byName   map[string]*command

	helpMu    sync.Mutex
	helpLists map[string]*runbook.Reply // by prefix
}

var (
	_ runbook.Handler = (*Handlers)(nil)
	_ runbook.Reader  = (*Handlers)(nil)
)

// Executor runs runbooks, and says what a run would do without doing it (Plan).
type Executor interface {
	StartRun(ctx context.Context, rb *runbooks.Runbook, in engine.RunInput) (*runbook.Run, error)
	Plan(ctx context.Context, rb *runbooks.Runbook, in engine.PlanInput) []engine.PlannedStep
	Cancel(ctx context.Context, runID int64, by string) error
	RollBack(ctx context.Context, in engine.RollbackInput) (*runbook.Run, error)
}

// Deps is what the handlers need from the rest of the program.
type Deps struct {
	Logger    *slog.Logger
	Incidents *incidents.Service
	// store reads incidents; Incidents changes them.
	IncidentStore runbook.IncidentStore
	Runs          runbook.RunStore
	Executor      Executor
	Catalog       func() *runbooks.Catalog
	Slack         runbook.Slack
	Approvals     *approvals.Service
	Audit         runbook.AuditStore
	// Timers checks and snoozes update reminders (nil: their buttons do nothing).
	Timers *timers.Service
	// Services are the configured service names, so that "declare sev1 checkout …"
	// can tell a service from the first word of a title.
	Services []string
	// Permissions say who may do what beyond each incident's and run's own people.
	Permissions Permissions
}

// New returns the handlers.
func New(deps Deps) *Handlers {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handlers{Deps: deps, log: deps.Logger, byName: map[string]*command{}, helpLists: map[string]*runbook.Reply{}}
	h.store = deps.IncidentStore
	for _, c := range h.commandTable() {
		h.register(c)
	}
	return h
}

// Handle answers one request.
func (h *Handlers) Handle(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
	req = cleaned(req)
	switch req.Kind {
	case runbook.KindMention:
		if req.Edited {
			// Slack re-sends a mention when its message is edited; running it again
			// would declare twice after a typo fix.
			return slackui.PrivateText(editedMentionText), nil
		}
		return h.command(ctx, req)
	case runbook.KindCommand:
		return h.command(ctx, req)
	case runbook.KindAction:
		return h.action(ctx, req)
	case runbook.KindViewSubmission:
		return h.viewSubmission(ctx, req)
	case runbook.KindReaction:
		return h.reaction(ctx, req)
	}
	return nil, fmt.Errorf("unknown request kind %q", req.Kind)
}

// editedMentionText answers an edited mention.
const editedMentionText = ":pencil2: I act on a message once, when it is sent: editing it does not run it again. Send a new message to run another command."

// cleaned is the request with control characters taken out of what the person typed,
// so that nothing stored or echoed from it carries them.
func cleaned(req *runbook.Request) *runbook.Request {
	c := *req
	c.Text = runbook.CleanText(req.Text)
	if req.View != nil {
		view := *req.View
		view.Values = make(map[string]map[string]string, len(req.View.Values))
		for block, actions := range req.View.Values {
			view.Values[block] = make(map[string]string, len(actions))
			for action, v := range actions {
				view.Values[block][action] = runbook.CleanText(v)
			}
		}
		c.View = &view
	}
	return &c
}

// command is one verb of the command language.
type command struct {
	name    string
	usage   string // after the prefix: "status [INC-id]"
	summary string
	// reads says the command changes nothing: its only effect is its answer.
	reads bool
	run   func(ctx context.Context, inv *invocation) (*runbook.Reply, error)
}

// invocation is a parsed command: its words, and how the person reached the bot, so
// that answers quote the form they typed ("/runbook …" or "@Runbook …").
type invocation struct {
	req    *runbook.Request
	prefix string
	verb   string // the command's name, for the audit log
	args   []Token
}

// prefix is how the person addressed the bot, for usage lines.
func prefix(req *runbook.Request) string {
	if req.Kind == runbook.KindMention {
		return "@Runbook"
	}
	if req.Command != "" {
		return req.Command
	}
	return "/runbook"
}

func (h *Handlers) command(ctx context.Context, req *runbook.Request) (*runbook.Reply, error) {
	p := prefix(req)
	tokens, c, err := h.lookup(req.Text)
	switch {
	case err != nil:
		return nil, runbook.Errorf(runbook.EINVALID, "I could not read that: %s.", err)
	case len(tokens) == 0:
		return h.help(ctx, &invocation{req: req, prefix: p})
	case c == nil:
		return h.unknown(p, tokens[0].Text), nil
	}
	reply, err := c.run(ctx, &invocation{req: req, prefix: p, verb: c.name, args: tokens[1:]})
	if err != nil && runbook.ErrorCode(err) == runbook.EINVALID {
		// A malformed command is answered with what was wrong and how it is written.
		return usageError(runbook.ErrorMessage(err), p, c), nil
	}
	return reply, err
}

// lookup reads a command's words and finds its verb: nil if there are no words or the
// first is not a command. Handle and ReadOnly both go through it, so that what the
// bot takes for a read is the command that runs.
func (h *Handlers) lookup(text string) ([]Token, *command, error) {
	tokens, err := Tokenize(text)
	if err != nil || len(tokens) == 0 {
		return tokens, nil, err
	}
	c, ok := h.byName[strings.ToLower(tokens[0].Text)]
	if !ok || tokens[0].Kind != Word {
		return tokens, nil, nil
	}
	return tokens, c, nil
}

// ReadOnly says whether handling req changes nothing but its answer: a command or
// mention that only reads (status, list, help…), or one answered with an error or
// with help because it names no command.
func (h *Handlers) ReadOnly(req *runbook.Request) bool {
	if req.Kind != runbook.KindCommand && req.Kind != runbook.KindMention {
		return false
	}
	_, c, _ := h.lookup(runbook.CleanText(req.Text))
	return c == nil || c.reads
}

func (h *Handlers) names() []string {
	out := make([]string, len(h.commands))
	for i, c := range h.commands {
		out[i] = c.name
	}
	return out
}

func (h *Handlers) unknown(prefix, verb string) *runbook.Reply {
	text := fmt.Sprintf("I don't know the command `%s`.", slackui.Escape(slackui.Truncate(verb, 40)))
	if s := runbook.Suggest(strings.ToLower(verb), h.names()); s != "" {
		text += fmt.Sprintf(" Did you mean `%s %s`?", prefix, s)
	}
	text += fmt.Sprintf(" Type `%s help` to see what I can do.", prefix)
	return slackui.PrivateText(":grey_question: " + text)
}
