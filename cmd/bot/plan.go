package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/app"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/engine"
	"github.com/runbookhq/runbook/runbooks"
	"github.com/runbookhq/runbook/store"
)

// planArgs are bot plan's command line: flags may come before or after the runbook's
// name and its params.
type planArgs struct {
	config, incident, incidentFile string
	name                           string
	params                         []string // key=value
}

// cmdPlan prints what a runbook would do — every step rendered as a run would render
// it, secrets as [secret:NAME] — and does none of it: no Slack call, no request, no
// process. It is /runbook run … --dry-run for a terminal or a team's CI.
func cmdPlan(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	pa, ok := parsePlanArgs(args, stderr)
	if !ok {
		return 2
	}
	if pa.config == "" {
		pa.config = defaultConfigPath(environ)
	}
	// A plan never connects to Slack, so it needs no tokens (validate does the same).
	cfg, err := config.Load(pa.config, withPlaceholderTokens(environ))
	if err != nil {
		printError(stderr, err)
		return 1
	}
	text, err := plan(ctx, cfg, pa)
	if err != nil {
		printError(stderr, err)
		return 1
	}
	// A template can put anything in a step; a terminal must not take it as control.
	fmt.Fprint(stdout, runbook.CleanText(text))
	return 0
}

func parsePlanArgs(args []string, stderr io.Writer) (planArgs, bool) {
	var pa planArgs
	flags := flag.NewFlagSet("plan", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.StringVar(&pa.config, "config", "", "configuration file (YAML)")
	flags.StringVar(&pa.incident, "incident", "", "the incident, read from the bot's database (INC-4)")
	flags.StringVar(&pa.incidentFile, "incident-file", "", "the incident, read from a YAML file (title, severity, service, …)")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "Usage: bot plan [--config FILE] NAME [--incident INC-id | --incident-file FILE] [key=value …]")
		flags.PrintDefaults()
	}
	// The flag package stops at the first argument that is not a flag: parse again
	// after each one, so that flags may follow the name and params.
	var positional []string
	for {
		if err := flags.Parse(args); err != nil {
			return pa, false
		}
		if flags.NArg() == 0 {
			break
		}
		positional = append(positional, flags.Arg(0))
		args = flags.Args()[1:]
	}
	switch {
	case len(positional) == 0:
		fmt.Fprintln(stderr, "bot: plan which runbook? Give its name: bot plan NAME [key=value …]")
		return pa, false
	case pa.incident != "" && pa.incidentFile != "":
		fmt.Fprintln(stderr, "bot: give --incident or --incident-file, not both")
		return pa, false
	}
	pa.name, pa.params = positional[0], positional[1:]
	return pa, true
}

// plan loads what the plan needs and returns it as text.
func plan(ctx context.Context, cfg *config.Config, pa planArgs) (string, error) {
	rb, err := planRunbook(cfg, pa.name)
	if err != nil {
		return "", err
	}
	inc, err := planIncident(ctx, cfg, pa)
	if err != nil {
		return "", err
	}
	params, err := planParams(rb, pa.params)
	if err != nil {
		return "", err
	}
	e := engine.New(engine.Deps{Secrets: cfg.SecretValues(), Now: time.Now, Roles: cfg.Incidents.Roles, Fields: runbook.FieldNames(cfg.Incidents.FieldSpecs())})
	// Plan asks only machine actions what they would send; the others it describes
	// from their inputs, without their families.
	e.Register(
		engine.HTTPActions(engine.HTTPSettings{AllowedHosts: cfg.Actions.HTTP.AllowedHosts}),
		engine.CommandActions(engine.CommandSettings{Allowed: cfg.Actions.Command.Allowed}),
	)
	steps := e.Plan(ctx, rb, engine.PlanInput{Incident: inc, Params: params})
	return planText(rb, inc, pa, steps), nil
}

// planRunbook loads the runbooks directory and returns the named runbook. Other files'
// problems do not stop a plan, as they do not stop the bot; they are mentioned when
// the runbook is not found, in case it is one of them.
func planRunbook(cfg *config.Config, name string) (*runbooks.Runbook, error) {
	dir := cfg.Runbooks.Dir
	catalog, err := app.RunbookSettings(cfg).LoadDir(dir)
	if catalog == nil {
		return nil, err
	}
	rb, ok := catalog.Get(strings.ToLower(name))
	if ok {
		return rb, nil
	}
	msg := fmt.Sprintf("there is no runbook %q in %s", name, dir)
	if s := runbook.Suggest(strings.ToLower(name), catalog.Names()); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	} else if names := catalog.Names(); len(names) > 0 {
		msg += "; it has " + strings.Join(names, ", ")
	}
	if ps, isProblems := errors.AsType[*runbooks.Problems](err); isProblems {
		msg += fmt.Sprintf("; %d problem(s) keep some of its files out (bot validate lists them)", len(*ps))
	}
	return nil, runbook.Errorf(runbook.ENOTFOUND, "%s", msg)
}

// planIncident is the incident the plan renders against: from the bot's database,
// from a file, or none.
func planIncident(ctx context.Context, cfg *config.Config, pa planArgs) (*runbook.Incident, error) {
	switch {
	case pa.incidentFile != "":
		data, err := os.ReadFile(pa.incidentFile)
		if err != nil {
			return nil, runbook.Errorf(runbook.EINVALID, "cannot read the incident file %s: %v", pa.incidentFile, unwrapPathError(err))
		}
		inc, err := parseIncident(data, incidentRules{Severities: cfg.Incidents.Severities, Statuses: cfg.Incidents.Statuses, Now: time.Now()})
		if le, ok := errors.AsType[*lineError](err); ok {
			where := pa.incidentFile
			if le.Line > 0 {
				where += fmt.Sprintf(":%d", le.Line)
			}
			return nil, runbook.Errorf(runbook.EINVALID, "%s: %s", where, le.Msg)
		}
		return inc, err
	case pa.incident != "":
		return storedIncident(ctx, cfg.Store.Path, pa.incident)
	}
	return nil, nil
}

// storedIncident reads an incident from the bot's database, which must exist: a plan
// does not create one.
func storedIncident(ctx context.Context, path, key string) (*runbook.Incident, error) {
	id, err := runbook.ParseIncidentKey(key)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, runbook.Errorf(runbook.EINVALID, "there is no database at %s (store.path) to read %s from; point --config at the bot's configuration, or use --incident-file",
			path, runbook.IncidentKey(id))
	} else if err != nil {
		return nil, runbook.Errorf(runbook.EINVALID, "cannot read the database at %s: %v", path, unwrapPathError(err))
	}
	db, err := store.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", runbook.IncidentKey(id), err)
	}
	defer db.Close()
	inc, err := db.Incidents().Incident(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read %s from %s: %w", runbook.IncidentKey(id), path, err)
	}
	return inc, nil
}

// planParams binds key=value arguments as chat does: keys in any case, the last of a
// repeated key wins.
func planParams(rb *runbooks.Runbook, args []string) (map[string]any, error) {
	given := map[string]string{}
	for _, a := range args {
		key, value, ok := strings.Cut(a, "=")
		if !ok || key == "" {
			return nil, runbook.Errorf(runbook.EINVALID, "%q is not a param: give params as key=value", a)
		}
		given[strings.ToLower(key)] = value
	}
	return rb.BindParams(given)
}

// planText draws the plan for a terminal.
func planText(rb *runbooks.Runbook, inc *runbook.Incident, pa planArgs, steps []engine.PlannedStep) string {
	var b strings.Builder
	title := "Dry run of " + rb.Name
	switch {
	case inc != nil && pa.incidentFile != "" && inc.ID == 0:
		title += " for the incident in " + pa.incidentFile
	case inc != nil:
		title += " for " + inc.Key()
	}
	fmt.Fprintf(&b, "%s — nothing was done.\n", title)
	b.WriteString("Secrets stand as [secret:NAME], the outputs of earlier steps as ‹steps.ID.OUTPUT›.\n")
	if inc == nil && usesIncident(steps) {
		fmt.Fprintf(&b, "Note: %s uses incident.* and no incident was given (--incident INC-id or --incident-file FILE); the steps that use it cannot be shown.\n", rb.Name)
	}
	if len(steps) == 0 {
		b.WriteString("\nThe runbook has no steps.\n")
	}
	for _, st := range steps {
		fmt.Fprintf(&b, "\n%d. ", st.Number)
		if st.ID != "" {
			b.WriteString(st.ID + " ")
		}
		fmt.Fprintf(&b, "(%s)\n", st.Action)
		for _, text := range []string{st.Shows, prefixed("skipped: ", st.Skipped), prefixed("would fail: ", st.Problem)} {
			if text != "" {
				b.WriteString(indent(text, "    ") + "\n")
			}
		}
	}
	return b.String()
}

// usesIncident says whether a step could not render for want of an incident.
func usesIncident(steps []engine.PlannedStep) bool {
	for _, st := range steps {
		if strings.Contains(st.Problem, `missing variable "incident`) || strings.Contains(st.Problem, `missing variable "Activity`) {
			return true
		}
	}
	return false
}

// unwrapPathError is the reason of a file error, without the path the message names
// already.
func unwrapPathError(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	return err
}

func prefixed(prefix, text string) string {
	if text == "" {
		return ""
	}
	return prefix + text
}

func indent(text, by string) string {
	return by + strings.ReplaceAll(text, "\n", "\n"+by)
}
