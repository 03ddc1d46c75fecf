package demo

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/runbookhq/runbook/app"
	"github.com/runbookhq/runbook/config"
	"github.com/runbookhq/runbook/runbooks"
)

// yours is what a person brings to the demo to try before they deploy it: their
// runbooks directory and, optionally, their configuration. Only what shapes how
// runbooks behave is taken from the configuration — severities, statuses, services,
// channels, approvers, permissions, actions limits and the names of secrets; the
// emulator, its tokens and the database stay the demo's own, and secrets get
// made-up values, so that trying a runbook never sends a real token anywhere.
type yours struct {
	runbooksDir string
	cfg         *config.Config // nil without --config
	catalog     *runbooks.Catalog
	leftOut     []string // problems of runbooks the bot leaves out, as validate prints them
	// stands maps each approver, permission entry or allowed-list entry of yours that
	// is not a demo person to the demo user group that stands for it.
	stands map[string]string
}

// demoMembers are the demo people in every group that stands for one of yours: alice
// may run what you restrict and bob may approve it; carol is in none, to try a refusal.
var demoMembers = []string{"alice", "bob"}

// loadYours reads --config (when given) and the runbooks directory, as the bot would.
func loadYours(runbooksDir, configPath string) (*yours, error) {
	y := &yours{runbooksDir: runbooksDir, stands: map[string]string{}}
	if configPath != "" {
		cfg, err := loadConfig(configPath)
		if err != nil {
			return nil, err
		}
		y.cfg = cfg
		if y.runbooksDir == "" {
			y.runbooksDir = cfg.Runbooks.Dir
		}
	}
	if info, err := os.Stat(y.runbooksDir); err != nil || !info.IsDir() {
		return nil, fmt.Errorf("the runbooks directory %s: %w", y.runbooksDir, orNotDir(err))
	}
	if err := y.loadRunbooks(); err != nil {
		return nil, err
	}
	y.mapPeople()
	return y, nil
}

func orNotDir(err error) error {
	if err != nil {
		return errors.Unwrap(err)
	}
	return errors.New("not a directory")
}

// envRef finds the ${NAME} references of a configuration file.
var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// loadConfig loads a configuration file as the bot does, with every ${NAME} it refers
// to set to a made-up value: the demo needs neither tokens nor secrets, and must not
// send real ones to the stand-ins it runs.
func loadConfig(path string) (*config.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the config: %w", err)
	}
	environ := os.Environ()
	for _, m := range envRef.FindAllStringSubmatch(string(data), -1) {
		environ = append(environ, m[1]+"=demo-"+strings.ToLower(m[1]))
	}
	return config.Load(path, environ)
}

// loadRunbooks loads the directory with your settings, keeping the problems of the
// runbooks the bot will leave out so that the demo can say why one is missing.
func (y *yours) loadRunbooks() error {
	settings := runbooks.Settings{}
	if y.cfg != nil {
		settings = app.RunbookSettings(y.cfg)
	}
	catalog, err := settings.LoadDir(y.runbooksDir)
	if ps, ok := errors.AsType[*runbooks.Problems](err); ok {
		for _, p := range *ps {
			y.leftOut = append(y.leftOut, p.String())
		}
	} else if err != nil {
		return fmt.Errorf("load the runbooks: %w", err)
	}
	if catalog == nil || len(catalog.Names()) == 0 {
		return fmt.Errorf("no runbook in %s could be loaded: %s", y.runbooksDir, strings.Join(y.leftOut, "; "))
	}
	y.catalog = catalog
	return nil
}

// mapPeople finds the people your configuration and runbooks name — approvers,
// permissions, runbooks' allowed lists and approval steps' literal approvers — that
// are not demo people, and names the demo group that stands for each. A user id
// cannot be made in the emulator, so it becomes a group named after it.
func (y *yours) mapPeople() {
	var named []string
	if y.cfg != nil {
		named = append(named, y.cfg.Approvals.Approvers...)
		named = append(named, y.cfg.Permissions.Admins...)
		named = append(named, y.cfg.Permissions.Responders...)
		named = append(named, y.cfg.Permissions.Declare...)
	}
	for _, rb := range y.catalog.List() {
		named = append(named, rb.Allowed...)
		for _, st := range rb.Steps {
			if st.Action == "approval.request" {
				named = append(named, literalList(st.With["approvers"])...)
			}
		}
	}
	for _, ref := range named {
		handle := strings.ToLower(strings.TrimPrefix(ref, "@"))
		if ref == "" || strings.Contains(ref, "{{") || slices.Contains([]string{"alice", "bob", "carol", oncallGroup}, handle) {
			continue
		}
		y.stands[ref] = handle
	}
}

// groupHandles are the handles of the groups that stand for people of yours, sorted.
func (y *yours) groupHandles() []string {
	var out []string
	for _, h := range y.stands {
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	sort.Strings(out)
	return out
}

// literalList is a runbook input that is a list of literal strings, or a string.
func literalList(v any) []string {
	switch t := v.(type) {
	case string:
		return strings.Fields(strings.ReplaceAll(t, ",", " "))
	case []any:
		var out []string
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// channels are the channels your configuration and runbooks name literally, without
// the "#": they are made in the emulator, so that posting to them works.
func (y *yours) channels() []string {
	set := map[string]bool{}
	add := func(ch string) {
		if name, ok := strings.CutPrefix(ch, "#"); ok && name != "" && !strings.Contains(name, "{{") {
			set[strings.ToLower(name)] = true
		}
	}
	if y.cfg != nil {
		add(y.cfg.Slack.DefaultChannel)
		add(y.cfg.Slack.ApprovalChannel)
		add(y.cfg.Slack.UpdateChannel)
		for _, s := range y.cfg.Services {
			add(s.Slack.Channel)
		}
	}
	for _, rb := range y.catalog.List() {
		for _, st := range rb.Steps {
			if ch, ok := st.With["channel"].(string); ok {
				add(ch)
			}
		}
	}
	out := make([]string, 0, len(set))
	for name := range set {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// apply puts your settings into the demo's configuration, each person of yours
// replaced by the group that stands for them.
func (y *yours) apply(cfg *config.Config) {
	cfg.Runbooks.Dir = y.runbooksDir
	if y.cfg == nil {
		return
	}
	c := y.cfg
	cfg.Incidents = c.Incidents
	cfg.Services = c.Services
	cfg.Slack.DefaultChannel = orDefault(c.Slack.DefaultChannel, cfg.Slack.DefaultChannel)
	cfg.Slack.ApprovalChannel = orDefault(c.Slack.ApprovalChannel, cfg.Slack.ApprovalChannel)
	cfg.Slack.UpdateChannel = c.Slack.UpdateChannel
	cfg.Slack.InvestigationUpdates = c.Slack.InvestigationUpdates
	cfg.Approvals = c.Approvals
	cfg.Approvals.Approvers = y.replace(c.Approvals.Approvers)
	cfg.Permissions.Admins = y.replace(c.Permissions.Admins)
	cfg.Permissions.Responders = y.replace(c.Permissions.Responders)
	cfg.Permissions.Declare = y.replace(c.Permissions.Declare)
	cfg.Actions.Command = c.Actions.Command
	if len(c.Actions.HTTP.AllowedHosts) > 0 {
		cfg.Actions.HTTP.AllowedHosts = append(slices.Clone(c.Actions.HTTP.AllowedHosts), cfg.Actions.HTTP.AllowedHosts...)
	} else {
		cfg.Actions.HTTP.AllowedHosts = nil // yours allows any host
	}
	for name := range c.Secrets {
		if _, ok := cfg.Secrets[name]; !ok {
			cfg.Secrets[name] = config.Secret("demo-secret-" + name)
		}
	}
}

// replace is a list of people with yours replaced by the groups that stand for them.
func (y *yours) replace(list []string) []string {
	out := make([]string, len(list))
	for i, ref := range list {
		out[i] = ref
		if g, ok := y.stands[ref]; ok {
			out[i] = "@" + g
		}
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// introYours says what the demo loaded of yours, and what stands for what.
func (d *director) introYours() {
	y := d.w.yours
	d.out.printf("Runbook demo: the real bot, connected to a local Slack emulator on 127.0.0.1, with your runbooks from %s.\n", y.runbooksDir)
	d.out.printf("People: %s.\n", strings.Join(d.w.peopleNames(), ", "))
	if handles := y.groupHandles(); len(handles) > 0 {
		d.out.printf("Groups standing for the people you named: @%s (each is %s; carol is in none).\n",
			strings.Join(handles, ", @"), strings.Join(demoMembers, " and "))
	}
	d.out.printf("Channels: %s.\n", strings.Join(d.channelNames(), ", "))
	d.out.printf("Runbooks: %s.\n", strings.Join(y.catalog.Names(), ", "))
	for _, p := range y.leftOut {
		d.out.printf("  left out: %s\n", p)
	}
	if y.cfg != nil {
		d.out.printf("Your config gives the severities (%s), statuses, services, approvers, permissions and actions limits; secrets have made-up values.\n",
			strings.Join(y.cfg.Incidents.Severities, ", "))
	}
	// Your runbooks are checked against your limits, but nothing they do leaves this
	// machine: trying a runbook must not scale production.
	d.out.printf("Acting steps stay on this machine: http.request reaches only 127.0.0.1 and command.run runs nothing. `/runbook run NAME … --dry-run` shows what they would do.\n")
	d.out.printf("Deploy API: a stand-in on %s, for runbooks that call one.\n", d.w.api.url)
}
