// Package config loads Runbook's configuration.
//
// Load layers, in order: built-in defaults (Default), an optional YAML file,
// RUNBOOK_* environment overrides, then expands ${NAME} references in string
// values from the environment, decodes strictly (unknown keys are errors) and
// runs Validate. A file in RunbookAI's shape (incident.slack, runbookai.go) is
// read as written: its keys become Runbook's before the environment applies. Slack tokens are Secrets: they never appear in errors, fmt
// output or log/slog output.
//
// Environment overrides: RUNBOOK_ followed by the key path with "__" between
// levels, matched case-insensitively (underscores inside a level are
// ignored): RUNBOOK_SLACK__BOTTOKEN sets slack.botToken,
// RUNBOOK_BOT__SHUTDOWN_TIMEOUT sets bot.shutdownTimeout,
// RUNBOOK_SERVICES__PAYMENTS__SLACK__CHANNEL sets
// services.payments.slack.channel. List keys take comma-separated values. A
// RUNBOOK_ variable that matches no key is an error, except RUNBOOK_CONFIG
// (ConfigPathEnv), which names the config file for the command line. When
// slack.botToken, slack.appToken or slack.signingSecret is still empty,
// SLACK_BOT_TOKEN, SLACK_APP_TOKEN and SLACK_SIGNING_SECRET fill it.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/maps"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
	"github.com/runbookhq/runbook"
)

// Environment variable names Load reads besides ${NAME} references.
const (
	EnvPrefix     = "RUNBOOK_"        // RUNBOOK_<SECTION>__<KEY> overrides a key
	ConfigPathEnv = "RUNBOOK_CONFIG"  // reserved for the config file path; Load ignores it
	BotTokenEnv   = "SLACK_BOT_TOKEN" // fills slack.botToken when it is empty
	AppTokenEnv   = "SLACK_APP_TOKEN" // fills slack.appToken when it is empty
	// SigningSecretEnv fills slack.signingSecret when it is empty.
	SigningSecretEnv = "SLACK_SIGNING_SECRET"
)

// How the bot receives requests from Slack (slack.mode).
const (
	// ModeSocket opens Socket Mode connections: no public URL, the default.
	ModeSocket = "socket"
	// ModeHTTP serves Slack's request URLs on http.addr, each request signed with
	// slack.signingSecret.
	ModeHTTP = "http"
)

// Config is Runbook's configuration. Field keys (koanf tags) are the keys of
// the YAML file.
type Config struct {
	Slack       Slack              `koanf:"slack"`
	Services    map[string]Service `koanf:"services"`
	Store       Store              `koanf:"store"`
	Runbooks    Runbooks           `koanf:"runbooks"`
	Approvals   Approvals          `koanf:"approvals"`
	Permissions Permissions        `koanf:"permissions"`
	Incidents   Incidents          `koanf:"incidents"`
	Log         Log                `koanf:"log"`
	Bot         Bot                `koanf:"bot"`
	HTTP        HTTP               `koanf:"http"`
	Actions     Actions            `koanf:"actions"`
	API         API                `koanf:"api"`
	Limits      Limits             `koanf:"limits"`
	// Secrets name values (usually ${ENV} references) that runbooks use as
	// {{secrets.NAME}} in http.request and command.run; they are never shown.
	Secrets map[string]Secret `koanf:"secrets"`

	runbookAI bool     // read from a file in RunbookAI's shape (runbookai.go)
	ignored   []string // RunbookAI's sections that file had, dropped
}

// Actions limits what runbook steps that act on the world may reach.
type Actions struct {
	HTTP    HTTPActions    `koanf:"http"`
	Command CommandActions `koanf:"command"`
}

// HTTPActions limits http.request.
type HTTPActions struct {
	// AllowedHosts are host names or IPs, each optionally with :port (a host without
	// a port allows any port). Empty allows any host.
	AllowedHosts []string `koanf:"allowedHosts"`
}

// CommandActions limits command.run.
type CommandActions struct {
	// Allowed are the programs that may run: names (found on PATH) or absolute
	// paths. Empty allows none.
	Allowed []string `koanf:"allowed"`
}

// SecretNames lists the configured secret names, sorted.
func (c *Config) SecretNames() []string { return sortedKeys(anyMap(c.Secrets)) }

// SecretValues returns the configured secrets by name, revealed, for the one place
// that uses them (the engine, which masks them everywhere else).
func (c *Config) SecretValues() map[string]string {
	out := make(map[string]string, len(c.Secrets))
	for name, s := range c.Secrets {
		out[name] = s.Reveal()
	}
	return out
}

// Slack configures the Slack connection and where the bot posts.
type Slack struct {
	BotToken             Secret `koanf:"botToken"`             // xoxb-…
	AppToken             Secret `koanf:"appToken"`             // xapp-…, for Socket Mode
	APIURL               string `koanf:"apiURL"`               // Web API base URL, ending in /
	DefaultChannel       string `koanf:"defaultChannel"`       // fallback channel for services without one
	ApprovalChannel      string `koanf:"approvalChannel"`      // where approval requests go
	InvestigationUpdates bool   `koanf:"investigationUpdates"` // post investigation progress
	UpdateChannel        string `koanf:"updateChannel"`        // where investigation updates go
	Command              string `koanf:"command"`              // the slash command, e.g. /runbook
	// Connections is how many Socket Mode connections the bot holds (Slack allows an
	// app 10); a connection Slack refreshes is replaced before it closes.
	Connections int `koanf:"connections"`
	// Mode is how Slack's requests reach the bot: socket (Socket Mode, the default)
	// or http (Slack posts them to http.addr's /slack/* request URLs).
	Mode string `koanf:"mode"`
	// SigningSecret verifies that an HTTP request came from Slack (http mode).
	SigningSecret Secret `koanf:"signingSecret"`
	// Enabled false turns the Slack integration off: bot run connects to nothing and
	// serves only /healthz, /readyz and /metrics, and needs no tokens.
	Enabled bool `koanf:"enabled"`
}

// HTTPMode reports whether Slack posts requests to the bot (slack.mode: http).
func (s Slack) HTTPMode() bool { return s.Mode == ModeHTTP }

// Service is per-service configuration, keyed by service name.
type Service struct {
	Slack ServiceSlack `koanf:"slack"`
}

// ServiceSlack is a service's Slack settings.
type ServiceSlack struct {
	Channel string `koanf:"channel"`
}

// Store configures the database.
type Store struct {
	Path string `koanf:"path"`
}

// Runbooks configures where runbooks are read from.
type Runbooks struct {
	Dir string `koanf:"dir"`
}

// Approvals configures who approves risky steps and how many must.
type Approvals struct {
	Approvers           []string       `koanf:"approvers"`           // user ids, @handles, user group handles or ids
	AllowSelfApproval   bool           `koanf:"allowSelfApproval"`   // may the requester approve their own step
	Required            map[string]int `koanf:"required"`            // risk level → approvals needed
	Timeout             time.Duration  `koanf:"timeout"`             // how long a request waits
	RequireDenialReason bool           `koanf:"requireDenialReason"` // denials must give a reason
	SweepInterval       time.Duration  `koanf:"sweepInterval"`       // how often overdue requests are expired
}

// Permissions says who may do what beyond the rules every incident and run has (whoever
// declared an incident, its commander and its channel's members may change it; whoever
// started a run, and its incident's commander, may cancel it). Each list holds user
// ids, usernames and user groups.
type Permissions struct {
	Admins     []string `koanf:"admins"`     // may do everything
	Responders []string `koanf:"responders"` // may update and resolve any incident and cancel any run
	Declare    []string `koanf:"declare"`    // who may declare; empty: everyone
}

// Incidents lists the severities and statuses incidents may have.
type Incidents struct {
	Severities []string `koanf:"severities"`
	Statuses   []string `koanf:"statuses"`
	// Roles are the roles people can be assigned in an incident (assign @user role):
	// lowercase words, commander always among them — it is the incident's commander.
	Roles []string `koanf:"roles"`
	// Reminders maps a severity, or "default" for the others, to how long an open
	// incident may go without an update (a status change or a note) before the bot
	// nudges its channel. Empty: no reminders.
	Reminders map[string]time.Duration `koanf:"reminders"`
	// Fields are the custom fields incidents carry (declare … region=eu), in the order
	// status and the announcement show them.
	Fields []Field `koanf:"fields"`
}

// Field is one custom incident field.
type Field struct {
	Name string `koanf:"name"`
	// Type is string, integer, enum, user or url.
	Type string `koanf:"type"`
	// Values are an enum's allowed values.
	Values []string `koanf:"values"`
	// Required fields must be given when an incident is declared, unless they have
	// a default.
	Required    bool   `koanf:"required"`
	Default     string `koanf:"default"`
	Description string `koanf:"description"`
}

// FieldSpecs returns incidents.fields as the incident service checks them.
func (i Incidents) FieldSpecs() []runbook.FieldSpec {
	out := make([]runbook.FieldSpec, len(i.Fields))
	for n, f := range i.Fields {
		out[n] = runbook.FieldSpec{Name: f.Name, Type: f.Type, Values: f.Values, Required: f.Required,
			Default: f.Default, Description: f.Description}
	}
	return out
}

// Log configures logging.
type Log struct {
	Level  string `koanf:"level"`  // debug, info, warn or error
	Format string `koanf:"format"` // text or json
}

// Bot configures the event-handling machinery.
type Bot struct {
	Workers         int           `koanf:"workers"`         // concurrent handlers
	Queue           int           `koanf:"queue"`           // events waiting for a worker
	ShutdownTimeout time.Duration `koanf:"shutdownTimeout"` // grace period on shutdown
	AckBudget       time.Duration `koanf:"ackBudget"`       // how long a handler may take to put its reply in the ack
}

// Limits bound the work Runbook holds at once, so that its memory stays bounded under
// any load: past them, new commands are answered "busy — try again in a minute".
type Limits struct {
	ActiveRuns    int `koanf:"activeRuns"`    // runs driven at once; the others wait in the database
	QueuedRuns    int `koanf:"queuedRuns"`    // runs waiting for a slot before new commands are told busy
	RunsPerPerson int `koanf:"runsPerPerson"` // one person's runs under way before their commands are told busy
	SlackCalls    int `koanf:"slackCalls"`    // Slack calls and replies waiting before new commands are told busy
}

// HTTP configures the optional HTTP listener.
type HTTP struct {
	Addr string `koanf:"addr"` // host:port; "" turns it off
}

// API configures the HTTP API under /api/v1/ on http.addr, for alerting systems and
// pipelines. It is off while no token is configured.
type API struct {
	// Tokens are the bearer tokens that may call it; each request is audited with
	// its token's name.
	Tokens []APIToken `koanf:"tokens"`
	Alerts APIAlerts  `koanf:"alerts"`
}

// APIToken is one caller of the API.
type APIToken struct {
	// Name is who the token belongs to, as the audit log and Slack show it ("ci").
	Name  string `koanf:"name"`
	Token Secret `koanf:"token"`
	// Scopes are what it may do: incidents (declare, read, alert webhooks) and
	// approvals (ask for one and wait for the decision).
	Scopes []string `koanf:"scopes"`
}

// API scopes.
const (
	ScopeIncidents = "incidents"
	ScopeApprovals = "approvals"
)

// APIScopes are the scopes api.tokens may grant.
var APIScopes = []string{ScopeIncidents, ScopeApprovals}

// APIAlerts maps alerts from Alertmanager and Grafana onto incidents.
type APIAlerts struct {
	// Severities maps an alert's labels.severity to an incident severity. Empty:
	// critical → sev1 and warning → sev3 where those severities exist. An alert
	// whose severity is not mapped gets the last (least severe) severity.
	Severities map[string]string `koanf:"severities"`
}

// minAPITokenLen is the shortest API token accepted: 128 bits as hex.
const minAPITokenLen = 32

// riskLevels are the keys approvals.required accepts.
var riskLevels = runbook.RiskNames()

// Default returns the built-in defaults. It has no tokens, so it passes
// Validate but not RequireTokens.
func Default() *Config {
	return &Config{
		Slack: Slack{
			APIURL:      "https://slack.com/api/",
			Command:     "/runbook",
			Connections: 2,
			Mode:        ModeSocket,
			Enabled:     true,
		},
		Services: map[string]Service{},
		Store:    Store{Path: "runbook.db"},
		Runbooks: Runbooks{Dir: "runbooks"},
		Approvals: Approvals{
			Approvers:         []string{},
			AllowSelfApproval: false,
			Required:          map[string]int{"low": 1, "medium": 1, "high": 1, "critical": 2},
			Timeout:           30 * time.Minute,
			SweepInterval:     15 * time.Second,
		},
		Permissions: Permissions{Admins: []string{}, Responders: []string{}, Declare: []string{}},
		Incidents: Incidents{
			Severities: []string{"sev0", "sev1", "sev2", "sev3", "sev4"},
			Statuses:   []string{"detected", "investigating", "mitigating", "resolved"},
			Roles:      []string{runbook.RoleCommander},
			Reminders:  map[string]time.Duration{},
			Fields:     []Field{},
		},
		Log:     Log{Level: "info", Format: "text"},
		Actions: Actions{HTTP: HTTPActions{AllowedHosts: []string{}}, Command: CommandActions{Allowed: []string{}}},
		Secrets: map[string]Secret{},
		API:     API{Tokens: []APIToken{}, Alerts: APIAlerts{Severities: map[string]string{}}},
		Bot: Bot{
			Workers:         8,
			Queue:           256,
			ShutdownTimeout: 10 * time.Second,
			AckBudget:       2 * time.Second,
		},
		Limits: Limits{ActiveRuns: 64, QueuedRuns: 1000, RunsPerPerson: 50, SlackCalls: 512},
	}
}

// ServiceChannel returns the service's Slack channel, or slack.defaultChannel
// when the service has none. An exact name match wins over a
// case-insensitive one.
func (c *Config) ServiceChannel(service string) string {
	if s, ok := c.Services[service]; ok && s.Slack.Channel != "" {
		return s.Slack.Channel
	}
	if _, ok := c.Services[service]; !ok {
		for name, s := range c.Services {
			if strings.EqualFold(name, service) && s.Slack.Channel != "" {
				return s.Slack.Channel
			}
		}
	}
	return c.Slack.DefaultChannel
}

// SlogLevel returns log.level as a slog.Level (info if it is not valid).
func (l Log) SlogLevel() slog.Level {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(l.Level)); err != nil {
		return slog.LevelInfo
	}
	return lv
}

// Redacted returns the configuration as a nested map keyed like the YAML
// file, with tokens shown as "[redacted]" ("" when unset) and durations as
// strings. It is safe to print or log.
func (c Config) Redacted() map[string]any {
	return toMap(reflect.ValueOf(c), rootSchema(), true)
}

// String renders Redacted as YAML.
func (c Config) String() string {
	b, err := yaml.Parser().Marshal(c.Redacted())
	if err != nil {
		return "config: " + err.Error()
	}
	return string(b)
}

// LogValue logs the configuration as groups keyed like the YAML file, with
// tokens redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(toAttrs(reflect.ValueOf(c), rootSchema())...)
}

// LogValue logs the Slack section with tokens redacted.
func (s Slack) LogValue() slog.Value {
	return slog.GroupValue(toAttrs(reflect.ValueOf(s), rootSchema().field("slack"))...)
}

// Load reads the configuration: defaults, then the YAML file at path (skipped
// when path is ""; an error when it does not exist), then environment
// overrides from environ (as returned by os.Environ; nil means an empty
// environment), then ${NAME} expansion, strict decoding and Validate. It does
// not call RequireTokens. Every line of a returned error starts with
// "config: " and contains no token or expanded value; every value problem is
// reported, not only the first.
//
// store.path and runbooks.dir, when relative, are relative to the config
// file's directory — also when the file leaves them at their defaults —
// unless the environment sets them (RUNBOOK_STORE__PATH): then, and when there
// is no file, they are relative to the working directory.
func Load(path string, environ []string) (*Config, error) {
	return LoadWith(path, environ, LoadOptions{})
}

// LoadOptions change how LoadWith treats what Load would refuse.
type LoadOptions struct {
	// Unset, when not nil, is told of each ${NAME} reference to a variable that is
	// not set, with the key it is in ("slack.botToken"), and Load goes on: that key
	// keeps its default, or the reference expands to "" when the key has none. When
	// nil, such a reference is an error, as running the bot needs. bot validate
	// passes one, so that a CI job without the secrets can check the rest.
	Unset func(key, name string)
}

// LoadWith is Load with options.
func LoadWith(path string, environ []string, opts LoadOptions) (*Config, error) {
	l := &loader{env: environMap(environ), opts: opts}
	cfg, err := l.load(path, environ)
	if err != nil {
		return nil, l.scrub(err)
	}
	return cfg, nil
}

type loader struct {
	env     map[string]string
	opts    LoadOptions
	ai      *runbookAIFile    // the file was in RunbookAI's shape
	secrets []string          // token values, scrubbed from errors as a second line of defence
	origins map[string]string // key path → environment variable that set it
}

func environMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && k != "" {
			m[k] = v // the last entry wins, as with exec.Cmd.Env
		}
	}
	return m
}

func (l *loader) load(path string, environ []string) (*Config, error) {
	for _, k := range []string{BotTokenEnv, AppTokenEnv, SigningSecretEnv} {
		l.secrets = append(l.secrets, l.env[k])
	}

	ko := koanf.New(".")
	if err := ko.Load(confmap.Provider(toMap(reflect.ValueOf(*Default()), rootSchema(), false), ""), nil); err != nil {
		return nil, fmt.Errorf("config: loading defaults: %v", err)
	}

	if path != "" {
		if err := l.loadFile(ko, path); err != nil {
			return nil, err
		}
	}

	envErrs := l.loadEnv(ko, environ)

	raw := ko.Raw()
	l.collectTokens(raw)
	if errs := append(envErrs, checkKeys(raw)...); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	exp := &expander{lookup: func(name string) (string, bool) {
		v, ok := l.env[name]
		return v, ok
	}}
	expanded, _ := exp.value(raw, nil).(map[string]any)
	defaults := toMap(reflect.ValueOf(*Default()), rootSchema(), false)
	var errs []error
	off := slackOff(expanded)
	for _, u := range exp.unset {
		key := keyName(l.ai != nil, displayPath(u.key))
		switch {
		case off && len(u.key) > 1 && u.key[0] == "slack":
			// With Slack off its tokens are not needed, nor the variables holding them.
		case l.opts.Unset != nil:
			l.opts.Unset(key, u.name)
		default:
			errs = append(errs, fmt.Errorf("config: %s refers to ${%s}, which is not set", key, u.name))
		}
		resetKey(expanded, defaults, listKey(u.key), false)
	}
	l.fillTokens(expanded)
	l.collectTokens(expanded)
	if l.ai != nil {
		l.pickMode(expanded)
	}

	cfg, err := decode(expanded)
	if err != nil {
		// Each key that does not decode keeps its default, so that the problems of
		// every other key are found in the same pass.
		names := decodeErrorNames(err)
		errs = append(errs, l.decodeErrors(names)...)
		for _, name := range names {
			if _, p := lookupPath(name); p != "" {
				resetKey(expanded, defaults, listKey(strings.Split(p, ".")), true)
			}
		}
		if cfg, err = decode(expanded); err != nil {
			return nil, errors.Join(errs...)
		}
	}
	l.resolvePaths(cfg, path)
	if l.ai != nil {
		cfg.runbookAI, cfg.ignored = true, l.ai.ignored
	}
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

// fillTokens fills slack.botToken, slack.appToken and slack.signingSecret, when
// still empty, from SLACK_BOT_TOKEN, SLACK_APP_TOKEN and SLACK_SIGNING_SECRET.
func (l *loader) fillTokens(expanded map[string]any) {
	slack, ok := expanded["slack"].(map[string]any)
	if !ok {
		return
	}
	for key, name := range map[string]string{"botToken": BotTokenEnv, "appToken": AppTokenEnv, "signingSecret": SigningSecretEnv} {
		cur, present := slack[key]
		if s, isString := cur.(string); !present || cur == nil || isString && s == "" {
			if v := l.env[name]; v != "" {
				slack[key] = v
			}
		}
	}
}

// decode turns the expanded map into a Config, strictly.
func decode(expanded map[string]any) (*Config, error) {
	final := koanf.New(".")
	if err := final.Load(confmap.Provider(expanded, ""), nil); err != nil {
		return nil, fmt.Errorf("config: %v", err)
	}
	cfg := &Config{}
	err := final.UnmarshalWithConf("", cfg, koanf.UnmarshalConf{
		Tag: "koanf",
		DecoderConfig: &mapstructure.DecoderConfig{
			DecodeHook: mapstructure.ComposeDecodeHookFunc(
				durationNeedsUnitHook,
				mapstructure.StringToTimeDurationHookFunc(),
				mapstructure.TextUnmarshallerHookFunc(),
			),
			WeaklyTypedInput: true,
			ErrorUnused:      true,
			MatchName:        func(mapKey, fieldName string) bool { return mapKey == fieldName },
		},
	})
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// listKey is a key path without a list index on its last segment: a list is
// reset as a whole.
func listKey(key []string) []string {
	if len(key) == 0 {
		return key
	}
	out := slices.Clone(key)
	if i := strings.IndexByte(out[len(out)-1], '['); i > 0 {
		out[len(out)-1] = out[len(out)-1][:i]
	}
	return out
}

// resetKey sets key in m back to its value in defaults. A key without a
// default is deleted when drop is set, else left as it is.
func resetKey(m, defaults map[string]any, key []string, drop bool) {
	for i, seg := range key {
		last := i == len(key)-1
		var def any
		if defaults != nil {
			def = defaults[seg]
		}
		if last {
			switch {
			case def != nil:
				m[seg] = def
			case drop:
				delete(m, seg)
			}
			return
		}
		next, ok := m[seg].(map[string]any)
		if !ok {
			return
		}
		m = next
		defaults, _ = def.(map[string]any)
	}
}

// resolvePaths makes store.path and runbooks.dir relative to the config
// file's directory, unless the environment set them.
func (l *loader) resolvePaths(cfg *Config, path string) {
	if path == "" {
		return
	}
	dir := filepath.Dir(path)
	for key, p := range map[string]*string{"store.path": &cfg.Store.Path, "runbooks.dir": &cfg.Runbooks.Dir} {
		if _, fromEnv := l.origins[key]; !fromEnv && *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

// loadFile merges the YAML file at path into ko, rewritten into Runbook's shape when
// it is in RunbookAI's. YAML nulls (a key with nothing after the colon, e.g. a section
// whose keys are all commented out) mean "not set" and keep the default.
func (l *loader) loadFile(ko *koanf.Koanf, path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("config: config file %s does not exist", path)
	case err != nil:
		return fmt.Errorf("config: cannot read config file %s: %v", path, unwrapPathError(err))
	case fi.IsDir():
		return fmt.Errorf("config: config file %s is a directory", path)
	}
	fk := koanf.New(".")
	err = fk.Load(file.Provider(path), yaml.Parser(), koanf.WithMergeFunc(func(src, dest map[string]any) error {
		maps.Merge(dropNils(src), dest)
		return nil
	}))
	var pe *fs.PathError
	switch {
	case errors.As(err, &pe):
		return fmt.Errorf("config: cannot read config file %s: %v", path, pe.Err)
	case err != nil:
		return fmt.Errorf("config: %s: %s", path, yamlError(err))
	}
	raw := fk.Raw()
	if ai, ok := fromRunbookAI(raw); ok {
		if len(ai.errs) > 0 {
			sortErrors(ai.errs)
			return errors.Join(ai.errs...)
		}
		l.ai = &ai
	}
	if err := ko.Load(confmap.Provider(raw, ""), nil); err != nil {
		return fmt.Errorf("config: %s: %v", path, err)
	}
	return nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

var backquoted = regexp.MustCompile("`[^`]*`")

// yamlError makes a YAML parse error one line and drops quoted values.
func yamlError(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:")
	if strings.Contains(msg, "into map[string]interface {}") || strings.Contains(msg, "into map[string]any") {
		return "the top level must be a mapping of keys"
	}
	msg = backquoted.ReplaceAllString(msg, "value")
	fields := strings.Fields(msg)
	return strings.Join(fields, " ")
}

// dropNils returns m without nil values, recursively, so that a YAML null
// does not wipe a default.
func dropNils(m map[string]any) map[string]any {
	maps.IntfaceKeysToStrings(m)
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case nil:
			continue
		case map[string]any:
			out[k] = dropNils(x)
		default:
			out[k] = v
		}
	}
	return out
}

// loadEnv applies RUNBOOK_ overrides through koanf's env provider and
// returns an error for each variable that names no key.
func (l *loader) loadEnv(ko *koanf.Koanf, environ []string) []error {
	var errs []error
	// Map keys (service names, risk levels) already present keep their
	// spelling; new ones from the environment are lower-cased.
	existing := map[string][]string{}
	for _, p := range []string{"services", "approvals.required", "secrets"} {
		existing[p] = ko.MapKeys(p)
	}
	l.origins = map[string]string{}
	prov := env.Provider(".", env.Opt{
		Prefix:      EnvPrefix,
		EnvironFunc: func() []string { return environ },
		TransformFunc: func(name, value string) (string, any) {
			if name == ConfigPathEnv || name == EnvPrefix {
				return "", nil
			}
			n, key, err := envKey(name, existing)
			if err != nil {
				errs = append(errs, err)
				return "", nil
			}
			l.origins[key] = name
			if n.typ == secretType {
				l.secrets = append(l.secrets, value)
			}
			if n.typ.Kind() == reflect.Slice {
				items := []any{}
				for item := range strings.SplitSeq(value, ",") {
					if item = strings.TrimSpace(item); item != "" {
						items = append(items, item)
					}
				}
				return key, items
			}
			return key, value
		},
	})
	if err := ko.Load(prov, nil); err != nil {
		errs = append(errs, fmt.Errorf("config: reading the environment: %v", err))
	}
	// The provider visits variables in order; report them sorted.
	sortErrors(errs)
	return errs
}

// envKey maps RUNBOOK_A__B__C onto a schema key path.
func envKey(name string, existing map[string][]string) (*node, string, error) {
	segs := strings.Split(strings.TrimPrefix(name, EnvPrefix), "__")
	n := rootSchema()
	var path []string
	for i, seg := range segs {
		if seg == "" || strings.Contains(seg, ".") {
			return nil, "", fmt.Errorf("config: %s does not name a config key", displayKey(name))
		}
		switch n.kind {
		case kindSection:
			f := n.fieldFold(seg)
			if f == nil {
				msg := fmt.Sprintf("config: %s does not name a config key", displayKey(name))
				if best := closest(strings.ReplaceAll(seg, "_", ""), n.fields); best != nil {
					suggested := EnvPrefix + strings.Join(append(segs[:i:i], strings.ToUpper(best.name)), "__")
					msg += fmt.Sprintf(" (did you mean %s, for %s?)", suggested, best.path)
				}
				return nil, "", errors.New(msg)
			}
			n = f
			path = append(path, f.name)
		case kindMap:
			key := strings.ToLower(seg)
			for _, k := range existing[strings.Join(path, ".")] {
				if strings.EqualFold(k, seg) {
					key = k
					break
				}
			}
			n = n.elem
			path = append(path, key)
		case kindLeaf:
			return nil, "", fmt.Errorf("config: %s does not name a config key: %s has no keys under it", displayKey(name), strings.Join(path, "."))
		case kindList:
			return nil, "", listFromEnv(name, path)
		}
	}
	if n.kind == kindList {
		return nil, "", listFromEnv(name, path)
	}
	if n.kind != kindLeaf {
		return nil, "", fmt.Errorf("config: %s names the section %s, not a key: set its keys, e.g. %s__<KEY>", displayKey(name), strings.Join(path, "."), displayKey(name))
	}
	return n, strings.Join(path, "."), nil
}

// listFromEnv is the error for a variable that names a list of mappings, which one
// environment variable cannot hold.
func listFromEnv(name string, path []string) error {
	return fmt.Errorf("config: %s names %s, a list of mappings, which the environment cannot set: set it in the config file", displayKey(name), strings.Join(path, "."))
}

func sortErrors(errs []error) {
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
}

// collectTokens remembers the token values in raw so that they can be
// scrubbed from any error.
func (l *loader) collectTokens(raw map[string]any) {
	if secrets, ok := raw["secrets"].(map[string]any); ok {
		for _, v := range secrets {
			if s, ok := v.(string); ok && s != "" && !strings.Contains(s, "${") {
				l.secrets = append(l.secrets, s)
			}
		}
	}
	if api, ok := raw["api"].(map[string]any); ok {
		tokens, _ := api["tokens"].([]any)
		for _, t := range tokens {
			if m, ok := t.(map[string]any); ok {
				if s, ok := m["token"].(string); ok && s != "" && !strings.Contains(s, "${") {
					l.secrets = append(l.secrets, s)
				}
			}
		}
	}
	slack, ok := raw["slack"].(map[string]any)
	if !ok {
		return
	}
	for _, k := range []string{"botToken", "appToken", "signingSecret"} {
		// Before expansion a value may be a ${NAME} reference, which is not
		// secret and names the variable in messages.
		if s, ok := slack[k].(string); ok && !strings.Contains(s, "${") {
			l.secrets = append(l.secrets, s)
		}
	}
}

// durationNeedsUnitHook rejects bare numbers for durations: YAML "timeout: 30"
// would otherwise mean 30 nanoseconds.
func durationNeedsUnitHook(from, to reflect.Type, data any) (any, error) {
	if to != durationType || from == durationType {
		return data, nil
	}
	switch from.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return nil, errors.New("duration needs a unit")
	}
	return data, nil
}

// decodeErrorNames lists the keys of mapstructure's errors ("" for an error
// that names none).
func decodeErrorNames(err error) []string {
	var names []string
	var walk func(error)
	walk = func(e error) {
		var inner *mapstructure.DecodeError
		switch x := e.(type) {
		case *mapstructure.DecodeError:
			// The innermost DecodeError carries the full path.
			if errors.As(x.Unwrap(), &inner) {
				walk(x.Unwrap())
			} else {
				names = append(names, x.Name())
			}
		case interface{ Unwrap() []error }:
			for _, c := range x.Unwrap() {
				walk(c)
			}
		case interface{ Unwrap() error }:
			if u := x.Unwrap(); u != nil {
				walk(u)
			} else {
				names = append(names, "")
			}
		default:
			names = append(names, "")
		}
	}
	walk(err)
	return names
}

// decodeErrors makes one line per key that did not decode, saying what the key
// must be, without the offending value (which may be an expanded secret).
func (l *loader) decodeErrors(names []string) []error {
	var errs []error
	seen := map[string]bool{}
	for _, name := range names {
		var msg string
		if n, p := lookupPath(name); n != nil && p != "" {
			msg = fmt.Sprintf("config: %s must be %s", keyName(l.ai != nil, displayKey(p)), n.describe())
			if origin, ok := l.origins[p]; ok {
				msg += " (set by " + origin + ")"
			}
		} else if name != "" {
			msg = fmt.Sprintf("config: %s has an invalid value", displayKey(name))
		} else {
			msg = "config: invalid configuration"
		}
		if !seen[msg] {
			seen[msg] = true
			errs = append(errs, errors.New(msg))
		}
	}
	sortErrors(errs)
	return errs
}

// scrub replaces any secret that made it into an error's text. Messages are
// built without values; this is a second line of defence.
func (l *loader) scrub(err error) error {
	msg := err.Error()
	out := msg
	for _, s := range l.secrets {
		if len(s) >= 6 {
			out = strings.ReplaceAll(out, s, redacted)
		}
	}
	if out == msg {
		return err
	}
	return errors.New(out)
}

// ---- validation ----

// Validate checks everything except the Slack tokens and returns every
// problem found, one per line.
func (c *Config) Validate() error {
	var v problems

	if !validAPIURL(c.Slack.APIURL) {
		v.add("slack.apiURL must be an http(s) URL ending in /")
	}
	for _, ch := range []struct{ key, val string }{
		{"slack.defaultChannel", c.Slack.DefaultChannel},
		{"slack.approvalChannel", c.Slack.ApprovalChannel},
		{"slack.updateChannel", c.Slack.UpdateChannel},
	} {
		v.channel(c.Key(ch.key), ch.val)
	}
	switch {
	case c.Slack.Command == "":
		v.add("slack.command is required, e.g. /runbook")
	case !strings.HasPrefix(c.Slack.Command, "/") || len(c.Slack.Command) < 2 || strings.ContainsFunc(c.Slack.Command, isSpace):
		v.add("slack.command must be a slash command such as /runbook")
	}
	switch c.Slack.Mode {
	case ModeSocket:
	case ModeHTTP:
		if c.HTTP.Addr == "" && c.Slack.Enabled {
			v.add(`http.addr is required when slack.mode is http: Slack posts events, clicks and commands to /slack/* on it (e.g. ":8080", behind your HTTPS reverse proxy)`)
		}
	default:
		v.add("slack.mode must be socket (Socket Mode, no public URL) or http (Slack posts to http.addr)")
	}
	if c.Slack.Connections < 1 || c.Slack.Connections > 10 {
		v.add("slack.connections must be between 1 and 10 (Slack allows an app 10 Socket Mode connections)")
	}
	for _, name := range sortedKeys(anyMap(c.Services)) {
		if name == "" {
			v.add("services has a service with an empty name")
			continue
		}
		v.channel("services."+displayKey(name)+".slack.channel", c.Services[name].Slack.Channel)
	}

	if c.Store.Path == "" {
		v.add("store.path is required")
	}
	if c.Runbooks.Dir == "" {
		v.add("runbooks.dir is required")
	}

	for i, a := range c.Approvals.Approvers {
		if strings.TrimSpace(a) == "" || strings.ContainsFunc(a, isSpace) {
			v.add(fmt.Sprintf("approvals.approvers[%d] must be a user id, @handle or user group, without spaces", i))
		}
	}
	for _, list := range []struct {
		key     string
		entries []string
	}{{"permissions.admins", c.Permissions.Admins}, {"permissions.responders", c.Permissions.Responders}, {"permissions.declare", c.Permissions.Declare}} {
		for i, e := range list.entries {
			if strings.TrimSpace(e) == "" || strings.ContainsFunc(e, isSpace) {
				v.add(fmt.Sprintf("%s[%d] must be a user id, username or user group, without spaces", list.key, i))
			}
		}
	}
	v.actions(c)
	for _, level := range sortedKeys(anyMap(c.Approvals.Required)) {
		if !contains(riskLevels, level) {
			v.add(fmt.Sprintf("approvals.required.%s is not a risk level: use %s", displayKey(level), orList(riskLevels)))
			continue
		}
		if c.Approvals.Required[level] < 1 {
			v.add(fmt.Sprintf("approvals.required.%s must be at least 1", level))
		}
	}
	for _, level := range riskLevels {
		if _, ok := c.Approvals.Required[level]; !ok {
			v.add(fmt.Sprintf("approvals.required.%s is missing", level))
		}
	}
	if c.Approvals.SweepInterval <= 0 {
		v.add("approvals.sweepInterval must be positive")
	}
	if c.Approvals.Timeout <= 0 {
		v.add("approvals.timeout must be positive")
	}

	v.list("incidents.severities", c.Incidents.Severities)
	v.list("incidents.statuses", c.Incidents.Statuses)
	v.roles(c.Incidents.Roles)
	for _, key := range sortedKeys(anyMap(c.Incidents.Reminders)) {
		switch {
		case key != "default" && !contains(c.Incidents.Severities, key):
			v.add(fmt.Sprintf("incidents.reminders.%s is not a severity: use one of %s", displayKey(key), orList(append(slices.Clone(c.Incidents.Severities), "default"))))
		case c.Incidents.Reminders[key] <= 0:
			v.add(fmt.Sprintf("incidents.reminders.%s must be a positive interval such as 30m", displayKey(key)))
		}
	}
	v.fields(c.Incidents.FieldSpecs())

	if !contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		v.add("log.level must be one of debug, info, warn, error")
	}
	if !contains([]string{"text", "json"}, c.Log.Format) {
		v.add("log.format must be text or json")
	}

	if c.Bot.Workers < 1 {
		v.add("bot.workers must be at least 1")
	}
	if c.Bot.Queue < 0 {
		v.add("bot.queue must not be negative")
	}
	for _, l := range []struct {
		key string
		n   int
	}{{"limits.activeRuns", c.Limits.ActiveRuns}, {"limits.queuedRuns", c.Limits.QueuedRuns},
		{"limits.runsPerPerson", c.Limits.RunsPerPerson}, {"limits.slackCalls", c.Limits.SlackCalls}} {
		if l.n < 1 {
			v.add(l.key + " must be at least 1")
		}
	}
	if c.Bot.ShutdownTimeout <= 0 {
		v.add("bot.shutdownTimeout must be positive")
	}
	switch {
	case c.Bot.AckBudget <= 0:
		v.add("bot.ackBudget must be positive")
	case c.Bot.AckBudget >= 3*time.Second:
		v.add("bot.ackBudget must be less than 3s, Slack's deadline for acknowledging an event")
	}

	if c.HTTP.Addr != "" && !validAddr(c.HTTP.Addr) {
		v.add(`http.addr must be host:port, e.g. ":8080" or "127.0.0.1:8080", or "" to turn it off`)
	}
	v.api(c)
	return v.err()
}

// RequireTokens checks the Slack tokens, which running the bot needs and
// checking a config file does not: the bot token always, the app-level token in
// Socket Mode, the signing secret in http mode. It returns every problem found.
func (c *Config) RequireTokens() error {
	if !c.Slack.Enabled {
		return nil
	}
	var v problems
	v.token(c.Key("slack.botToken"), c.Slack.BotToken, "xoxb-", BotTokenEnv)
	if c.Slack.HTTPMode() {
		v.signingSecret(c.Key("slack.signingSecret"), c.Slack.SigningSecret)
	} else {
		v.token(c.Key("slack.appToken"), c.Slack.AppToken, "xapp-", AppTokenEnv)
	}
	return v.err()
}

// signingSecret checks slack.signingSecret. Slack's are 32 hex digits; only its
// presence and shape are checked here, without saying what it holds.
func (p *problems) signingSecret(key string, s Secret) {
	t := s.Reveal()
	switch {
	case t == "":
		p.add(key + " is required when slack.mode is http: copy it from your app's Basic Information → App Credentials into the config file or " + SigningSecretEnv)
	case strings.ContainsFunc(t, isSpace):
		p.add(key + " must not contain spaces or line breaks (check for a trailing newline)")
	}
}

type problems []error

// api checks api.tokens and api.alerts. A token is checked for presence, length and
// shape only; what it holds is never said.
func (p *problems) api(c *Config) {
	if len(c.API.Tokens) > 0 && c.HTTP.Addr == "" {
		p.add(`http.addr is required when api.tokens is set: the API is served under /api/v1/ on it (e.g. ":8080", behind your HTTPS reverse proxy)`)
	}
	names, values := map[string]bool{}, map[string]bool{}
	for i, t := range c.API.Tokens {
		key := fmt.Sprintf("api.tokens[%d]", i)
		switch {
		case !validTokenName(t.Name):
			p.add(key + ".name must be lowercase letters, digits, - or _ (it names the caller in the audit log)")
		case names[t.Name]:
			p.add(key + ".name " + t.Name + " is used by an earlier token; each token needs its own name")
		}
		names[t.Name] = true
		if t.Name != "" {
			key += " (" + t.Name + ")"
		}
		switch v := t.Token.Reveal(); {
		case v == "":
			p.add(key + ".token is required, e.g. ${CI_API_TOKEN}")
		case strings.ContainsFunc(v, isSpace):
			p.add(key + ".token must not contain spaces or line breaks (check for a trailing newline)")
		case len(v) < minAPITokenLen:
			p.add(fmt.Sprintf("%s.token is too short: use at least %d random characters (openssl rand -hex 16)", key, minAPITokenLen))
		case values[v]:
			p.add(key + ".token is the same as an earlier token's; give each caller its own")
		}
		values[t.Token.Reveal()] = true
		if len(t.Scopes) == 0 {
			p.add(key + ".scopes must list " + orList(APIScopes))
		}
		for _, s := range t.Scopes {
			if !contains(APIScopes, s) {
				p.add(fmt.Sprintf("%s.scopes: %q is not a scope: use %s", key, s, orList(APIScopes)))
			}
		}
	}
	for _, label := range sortedKeys(anyMap(c.API.Alerts.Severities)) {
		if sev := c.API.Alerts.Severities[label]; !contains(c.Incidents.Severities, sev) {
			p.add(fmt.Sprintf("api.alerts.severities.%s: %q is not a severity: use one of %s", displayKey(label), sev, orList(c.Incidents.Severities)))
		}
	}
}

func validTokenName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// AlertSeverity maps an alert's labels.severity to an incident severity
// (api.alerts.severities, else critical → sev1 and warning → sev3 where those exist),
// or the least severe severity when nothing maps it.
func (c *Config) AlertSeverity(label string) string {
	m := c.API.Alerts.Severities
	if len(m) == 0 {
		m = map[string]string{"critical": "sev1", "warning": "sev3"}
	}
	if sev, ok := m[strings.ToLower(label)]; ok && contains(c.Incidents.Severities, sev) {
		return sev
	}
	return c.Incidents.Severities[len(c.Incidents.Severities)-1]
}

// fields checks incidents.fields: each field on its own, and no name twice.
func (p *problems) fields(specs []runbook.FieldSpec) {
	seen := map[string]bool{}
	for i, f := range specs {
		key := fmt.Sprintf("incidents.fields[%d]", i)
		if f.Name != "" {
			key += " (" + displayKey(f.Name) + ")"
		}
		if msg := f.Problem(); msg != "" {
			p.add(key + ": " + msg)
			continue
		}
		if seen[f.Name] {
			p.add(key + ": name " + f.Name + " is used by an earlier field; each field needs its own name")
		}
		seen[f.Name] = true
	}
}

func (p *problems) add(msg string) { *p = append(*p, errors.New("config: "+msg)) }

func (p *problems) err() error { return errors.Join(*p...) }

func (p *problems) token(key string, s Secret, prefix, envName string) {
	t := s.Reveal()
	switch {
	case t == "":
		p.add(key + " is required: set it in the config file or " + envName)
	case strings.ContainsFunc(t, isSpace):
		p.add(key + " must not contain spaces or line breaks (check for a trailing newline)")
	case !strings.HasPrefix(t, prefix):
		p.add(key + " must start with " + prefix)
	case len(t) == len(prefix):
		p.add(key + " is only the " + prefix + " prefix")
	}
}

func (p *problems) channel(key, ch string) {
	if strings.ContainsFunc(ch, isSpace) {
		p.add(key + " must be a channel name or id without spaces")
	}
}

func (p *problems) list(key string, items []string) {
	if len(items) == 0 {
		p.add(key + " must not be empty")
		return
	}
	first := map[string]int{}
	for i, it := range items {
		j, dup := first[it]
		switch {
		case strings.TrimSpace(it) == "" || strings.ContainsFunc(it, isSpace):
			p.add(fmt.Sprintf("%s[%d] must be a word without spaces", key, i))
		case dup:
			// Indexes, not values: a value may come from the environment.
			p.add(fmt.Sprintf("%s[%d] repeats %s[%d]", key, i, key, j))
		default:
			first[it] = i
		}
	}
}

// roles checks incidents.roles: names are lowercase words (they are typed in assign
// and written in templates as incident.roles.NAME), and commander is one of them, since
// every incident has a commander.
func (p *problems) roles(roles []string) {
	p.list("incidents.roles", roles)
	for i, r := range roles {
		if r != "" && !runbook.ValidRoleName(r) {
			p.add(fmt.Sprintf("incidents.roles[%d] must be a lowercase word: a letter, then letters, digits or _ (at most %d)", i, runbook.MaxRoleName))
		}
	}
	if len(roles) > 0 && !contains(roles, runbook.RoleCommander) {
		p.add("incidents.roles must include commander: every incident's commander is its commander role")
	}
}

func validAPIURL(s string) bool {
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") || !strings.HasSuffix(s, "/") {
		return false
	}
	host, _, _ := strings.Cut(strings.SplitN(s, "://", 2)[1], "/")
	return host != "" && !strings.ContainsAny(s, " \t\r\n?#")
}

func validAddr(s string) bool {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535
}

func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f'
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func orList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

func anyMap[V any](m map[string]V) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

var secretNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// actions checks the limits of acting steps and the secret names.
func (p *problems) actions(c *Config) {
	for i, h := range c.Actions.HTTP.AllowedHosts {
		if strings.TrimSpace(h) == "" || strings.ContainsAny(h, "/ \t@") {
			p.add(fmt.Sprintf("actions.http.allowedHosts[%d] must be a host name or IP, optionally with :port (no scheme or path), got %q", i, h))
		}
	}
	for i, prog := range c.Actions.Command.Allowed {
		if strings.TrimSpace(prog) == "" || strings.Contains(prog, "/") && !strings.HasPrefix(prog, "/") {
			p.add(fmt.Sprintf("actions.command.allowed[%d] must be a program name or an absolute path, got %q", i, prog))
		}
	}
	for _, name := range c.SecretNames() {
		if !secretNameRe.MatchString(name) {
			p.add(fmt.Sprintf("secrets.%s: a secret name must be letters, digits and _ (it is used as {{secrets.NAME}})", displayKey(name)))
		}
	}
}
