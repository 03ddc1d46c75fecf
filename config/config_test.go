package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/knadh/koanf/parsers/yaml"
)

const (
	fakeBot = "xoxb-FAKE-bot-token-1234567890"
	fakeApp = "xapp-FAKE-app-token-0987654321"
)

// writeFile writes content to a YAML file in a fresh temp dir.
func writeFile(t testing.TB, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "runbook.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// load writes content (if any) and loads it with environ.
func load(t testing.TB, content string, environ ...string) (*Config, error) {
	t.Helper()
	path := ""
	if content != "" {
		path = writeFile(t, content)
	}
	return Load(path, environ)
}

func mustLoad(t testing.TB, content string, environ ...string) *Config {
	t.Helper()
	cfg, err := load(t, content, environ...)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}

func TestDefaults(t *testing.T) {
	def := Default()
	want := &Config{
		Slack:    Slack{APIURL: "https://slack.com/api/", Command: "/runbook", Connections: 2, Mode: ModeSocket, Enabled: true},
		Services: map[string]Service{},
		Store:    Store{Path: "runbook.db"},
		Runbooks: Runbooks{Dir: "runbooks"},
		Approvals: Approvals{
			Approvers:     []string{},
			Required:      map[string]int{"low": 1, "medium": 1, "high": 1, "critical": 2},
			Timeout:       30 * time.Minute,
			SweepInterval: 15 * time.Second,
		},
		Permissions: Permissions{Admins: []string{}, Responders: []string{}, Declare: []string{}},
		Incidents: Incidents{
			Severities: []string{"sev0", "sev1", "sev2", "sev3", "sev4"},
			Statuses:   []string{"detected", "investigating", "mitigating", "resolved"},
			Roles:      []string{"commander"},
			Reminders:  map[string]time.Duration{},
			Fields:     []Field{},
		},
		Log:     Log{Level: "info", Format: "text"},
		Bot:     Bot{Workers: 8, Queue: 256, ShutdownTimeout: 10 * time.Second, AckBudget: 2 * time.Second},
		Limits:  Limits{ActiveRuns: 64, QueuedRuns: 1000, RunsPerPerson: 50, SlackCalls: 512},
		Actions: Actions{HTTP: HTTPActions{AllowedHosts: []string{}}, Command: CommandActions{Allowed: []string{}}},
		Secrets: map[string]Secret{},
		API:     API{Tokens: []APIToken{}, Alerts: APIAlerts{Severities: map[string]string{}}},
	}
	if !reflect.DeepEqual(def, want) {
		t.Fatalf("Default() =\n%#v\nwant\n%#v", def, want)
	}
	if err := def.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	if Default() == def || &Default().Approvals.Required == &def.Approvals.Required {
		t.Fatal("Default must return a fresh value")
	}

	for _, tc := range []struct {
		name    string
		content string
	}{
		{"no file", ""},
		{"empty file", "\n"},
		{"comments only", "# nothing here\n"},
		{"null sections keep defaults", "slack:\nbot:\n  workers:\napprovals:\n  required:\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.content != "" {
				path = writeFile(t, tc.content)
			}
			cfg, err := Load(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := *want
			if path != "" { // the default paths are relative to the file
				want.Store.Path = filepath.Join(filepath.Dir(path), "runbook.db")
				want.Runbooks.Dir = filepath.Join(filepath.Dir(path), "runbooks")
			}
			if !reflect.DeepEqual(cfg, &want) {
				t.Fatalf("Load =\n%#v\nwant\n%#v", cfg, want)
			}
		})
	}

	err := def.RequireTokens()
	wantErr := "config: slack.botToken is required: set it in the config file or SLACK_BOT_TOKEN\n" +
		"config: slack.appToken is required: set it in the config file or SLACK_APP_TOKEN"
	if err == nil || err.Error() != wantErr {
		t.Fatalf("RequireTokens() = %v, want\n%s", err, wantErr)
	}
}

func TestFileAndEnv(t *testing.T) {
	const file = `
slack:
  botToken: xoxb-from-file
  defaultChannel: "#ops"
  investigationUpdates: true
services:
  Payments:
    slack:
      channel: "#pay"
  search:
    slack:
      channel: "#search"
store:
  path: /var/lib/runbook/file.db
approvals:
  approvers: [U1, "@alice", S0123]
  required:
    high: 3
  timeout: 45s
incidents:
  severities: [p1, p2]
bot:
  workers: 4
  shutdownTimeout: 1m30s
`
	for _, tc := range []struct {
		name    string
		environ []string
		check   func(t *testing.T, c *Config)
	}{
		{
			name: "file only",
			check: func(t *testing.T, c *Config) {
				eq(t, "slack.botToken", c.Slack.BotToken.Reveal(), "xoxb-from-file")
				eq(t, "slack.defaultChannel", c.Slack.DefaultChannel, "#ops")
				eq(t, "slack.investigationUpdates", c.Slack.InvestigationUpdates, true)
				eq(t, "slack.apiURL", c.Slack.APIURL, "https://slack.com/api/")
				eq(t, "store.path", c.Store.Path, "/var/lib/runbook/file.db")
				eq(t, "approvals.approvers", c.Approvals.Approvers, []string{"U1", "@alice", "S0123"})
				eq(t, "approvals.required", c.Approvals.Required, map[string]int{"low": 1, "medium": 1, "high": 3, "critical": 2})
				eq(t, "approvals.timeout", c.Approvals.Timeout, 45*time.Second)
				eq(t, "incidents.severities", c.Incidents.Severities, []string{"p1", "p2"})
				eq(t, "incidents.statuses", c.Incidents.Statuses, Default().Incidents.Statuses)
				eq(t, "bot.workers", c.Bot.Workers, 4)
				eq(t, "bot.queue", c.Bot.Queue, 256)
				eq(t, "bot.shutdownTimeout", c.Bot.ShutdownTimeout, 90*time.Second)
				eq(t, "services.Payments", c.Services["Payments"].Slack.Channel, "#pay")
			},
		},
		{
			name: "environment overrides the file",
			environ: []string{
				"RUNBOOK_SLACK__BOTTOKEN=xoxb-from-env",
				"RUNBOOK_STORE__PATH=/tmp/env.db",
				"RUNBOOK_BOT__WORKERS=16",
				"RUNBOOK_BOT__SHUTDOWN_TIMEOUT=5s", // underscores inside a level are ignored
				"RUNBOOK_Slack__ApiUrl=http://127.0.0.1:9999/api/",
				"RUNBOOK_SLACK__INVESTIGATIONUPDATES=false",
				"RUNBOOK_APPROVALS__APPROVERS=U9, @bob,,",
				"RUNBOOK_APPROVALS__REQUIRED__CRITICAL=4",
				"RUNBOOK_APPROVALS__TIMEOUT=30m",
				"RUNBOOK_INCIDENTS__STATUSES=open,closed",
				"RUNBOOK_SERVICES__PAYMENTS__SLACK__CHANNEL=#pay-env", // keeps the file's spelling
				"RUNBOOK_SERVICES__NEWSVC__SLACK__CHANNEL=#new",
				"RUNBOOK_HTTP__ADDR=:8080",
				"RUNBOOK_CONFIG=/ignored.yaml",
				"UNRELATED=1",
			},
			check: func(t *testing.T, c *Config) {
				eq(t, "slack.botToken", c.Slack.BotToken.Reveal(), "xoxb-from-env")
				eq(t, "slack.apiURL", c.Slack.APIURL, "http://127.0.0.1:9999/api/")
				eq(t, "slack.investigationUpdates", c.Slack.InvestigationUpdates, false)
				eq(t, "slack.defaultChannel", c.Slack.DefaultChannel, "#ops")
				eq(t, "store.path", c.Store.Path, "/tmp/env.db")
				eq(t, "bot.workers", c.Bot.Workers, 16)
				eq(t, "bot.shutdownTimeout", c.Bot.ShutdownTimeout, 5*time.Second)
				eq(t, "approvals.approvers", c.Approvals.Approvers, []string{"U9", "@bob"})
				eq(t, "approvals.required", c.Approvals.Required, map[string]int{"low": 1, "medium": 1, "high": 3, "critical": 4})
				eq(t, "approvals.timeout", c.Approvals.Timeout, 30*time.Minute)
				eq(t, "incidents.statuses", c.Incidents.Statuses, []string{"open", "closed"})
				eq(t, "services", c.Services, map[string]Service{
					"Payments": {Slack: ServiceSlack{Channel: "#pay-env"}},
					"search":   {Slack: ServiceSlack{Channel: "#search"}},
					"newsvc":   {Slack: ServiceSlack{Channel: "#new"}},
				})
				eq(t, "http.addr", c.HTTP.Addr, ":8080")
			},
		},
		{
			name:    "later duplicate wins",
			environ: []string{"RUNBOOK_BOT__QUEUE=1", "RUNBOOK_BOT__QUEUE=2"},
			check: func(t *testing.T, c *Config) {
				eq(t, "bot.queue", c.Bot.Queue, 2)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, mustLoad(t, file, tc.environ...))
		})
	}
}

func TestDurations(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"45s", 45 * time.Second},
		{"30m", 30 * time.Minute},
		{"1h30m", 90 * time.Minute},
		{"1500ms", 1500 * time.Millisecond},
		{`"2h"`, 2 * time.Hour},
	} {
		t.Run(tc.in, func(t *testing.T) {
			cfg := mustLoad(t, "approvals:\n  timeout: "+tc.in+"\nbot:\n  shutdownTimeout: "+tc.in+"\n")
			eq(t, "approvals.timeout", cfg.Approvals.Timeout, tc.want)
			eq(t, "bot.shutdownTimeout", cfg.Bot.ShutdownTimeout, tc.want)
		})
	}
}

func TestTokenFallback(t *testing.T) {
	for _, tc := range []struct {
		name     string
		content  string
		environ  []string
		bot, app string
	}{
		{
			name:    "SLACK_ variables fill empty tokens",
			environ: []string{"SLACK_BOT_TOKEN=" + fakeBot, "SLACK_APP_TOKEN=" + fakeApp},
			bot:     fakeBot, app: fakeApp,
		},
		{
			name:    "empty strings in the file are empty",
			content: "slack:\n  botToken: \"\"\n  appToken:\n",
			environ: []string{"SLACK_BOT_TOKEN=" + fakeBot, "SLACK_APP_TOKEN=" + fakeApp},
			bot:     fakeBot, app: fakeApp,
		},
		{
			name:    "the file wins",
			content: "slack:\n  botToken: xoxb-file\n",
			environ: []string{"SLACK_BOT_TOKEN=" + fakeBot, "SLACK_APP_TOKEN=" + fakeApp},
			bot:     "xoxb-file", app: fakeApp,
		},
		{
			name:    "RUNBOOK_ variables win",
			environ: []string{"SLACK_BOT_TOKEN=" + fakeBot, "RUNBOOK_SLACK__BOTTOKEN=xoxb-runbook", "RUNBOOK_SLACK__APP_TOKEN=xapp-runbook"},
			bot:     "xoxb-runbook", app: "xapp-runbook",
		},
		{
			name:    "a reference is used as written",
			content: "slack:\n  botToken: ${MY_BOT}\n",
			environ: []string{"SLACK_BOT_TOKEN=" + fakeBot, "MY_BOT=xoxb-mine"},
			bot:     "xoxb-mine",
		},
		{
			name:    "a reference to an empty variable falls back",
			content: "slack:\n  botToken: ${MY_BOT}\n",
			environ: []string{"SLACK_BOT_TOKEN=" + fakeBot, "MY_BOT="},
			bot:     fakeBot,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mustLoad(t, tc.content, tc.environ...)
			eq(t, "slack.botToken", cfg.Slack.BotToken.Reveal(), tc.bot)
			eq(t, "slack.appToken", cfg.Slack.AppToken.Reveal(), tc.app)
		})
	}
}

func TestExpansion(t *testing.T) {
	env := []string{"CH=#ops", "EMPTY=", "HOST=db.internal", "A1=one", "_B=two"}
	for _, tc := range []struct {
		name string
		in   string // the value of slack.defaultChannel
		want string
	}{
		{"whole value", "${CH}", "#ops"},
		{"inside a string", "x-${HOST}-y", "x-db.internal-y"},
		{"several", "${A1}${_B}/${A1}", "onetwo/one"},
		{"set but empty", "a${EMPTY}b", "ab"},
		{"double dollar stays", "a$$b", "a$$b"},
		{"double dollar protects a reference", "$${CH}", "$${CH}"},
		{"lone dollar stays", "cost$5", "cost$5"},
		{"trailing dollar stays", "x$", "x$"},
		{"bare $NAME is not a reference", "$CH", "$CH"},
		{"unterminated", "${CH", "${CH"},
		{"empty name", "${}", "${}"},
		{"name starting with a digit", "${1X}", "${1X}"},
		{"other characters", "${C-H}", "${C-H}"},
		{"no recursion", "${REF}", "${CH}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mustLoad(t, "slack:\n  defaultChannel: '"+tc.in+"'\n", append(env, "REF=${CH}")...)
			eq(t, "slack.defaultChannel", cfg.Slack.DefaultChannel, tc.want)
		})
	}

	t.Run("lists, maps, numbers and environment values", func(t *testing.T) {
		cfg := mustLoad(t, `
services:
  db:
    slack:
      channel: ${CH}
approvals:
  approvers: ["@${A1}", U2]
bot:
  workers: ${N}
  ackBudget: ${BUDGET}
`, "CH=#db", "A1=alice", "N=3", "BUDGET=1500ms", "RUNBOOK_STORE__PATH=/data/${A1}.db")
		eq(t, "services.db.slack.channel", cfg.ServiceChannel("db"), "#db")
		eq(t, "approvals.approvers", cfg.Approvals.Approvers, []string{"@alice", "U2"})
		eq(t, "bot.workers", cfg.Bot.Workers, 3)
		eq(t, "bot.ackBudget", cfg.Bot.AckBudget, 1500*time.Millisecond)
		eq(t, "store.path", cfg.Store.Path, "/data/alice.db")
	})
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content string
		environ []string
		want    string
	}{
		{
			name:    "unset reference",
			content: "slack:\n  botToken: ${SLACK_BOT_TOKEN}\n",
			want:    "config: slack.botToken refers to ${SLACK_BOT_TOKEN}, which is not set",
		},
		{
			name:    "unset references everywhere",
			content: "slack:\n  appToken: ${APP}\napprovals:\n  approvers: [U1, \"${WHO}\"]\nservices:\n  db:\n    slack:\n      channel: ${CH}\n",
			environ: []string{"RUNBOOK_LOG__LEVEL=${LEVEL}"},
			want: "config: approvals.approvers[1] refers to ${WHO}, which is not set\n" +
				"config: log.level refers to ${LEVEL}, which is not set\n" +
				"config: services.db.slack.channel refers to ${CH}, which is not set\n" +
				"config: slack.appToken refers to ${APP}, which is not set",
		},
		{
			name:    "unknown key with suggestion",
			content: "slack:\n  botTokn: xoxb-1\n",
			want:    "config: unknown key slack.botTokn (did you mean slack.botToken?)",
		},
		{
			name:    "keys are case-sensitive in the file",
			content: "slack:\n  apiurl: http://x/\n",
			want:    "config: unknown key slack.apiurl (did you mean slack.apiURL?)",
		},
		{
			name:    "unknown keys everywhere",
			content: "workers: 3\nlog:\n  levle: debug\nservices:\n  db:\n    slack:\n      chanel: '#db'\n    owner: me\nzzz: 1\n",
			want: "config: unknown key log.levle (did you mean log.level?)\n" +
				"config: unknown key services.db.owner\n" +
				"config: unknown key services.db.slack.chanel (did you mean services.db.slack.channel?)\n" +
				"config: unknown key workers (did you mean bot.workers?)\n" +
				"config: unknown key zzz",
		},
		{
			name:    "unknown environment variables",
			environ: []string{"RUNBOOK_SLACK__BOTTOKN=x", "RUNBOOK_LOG=debug", "RUNBOOK_NOPE__X=1", "RUNBOOK_LOG__LEVEL__X=1"},
			want: "config: RUNBOOK_LOG names the section log, not a key: set its keys, e.g. RUNBOOK_LOG__<KEY>\n" +
				"config: RUNBOOK_LOG__LEVEL__X does not name a config key: log.level has no keys under it\n" +
				"config: RUNBOOK_NOPE__X does not name a config key\n" +
				"config: RUNBOOK_SLACK__BOTTOKN does not name a config key (did you mean RUNBOOK_SLACK__BOTTOKEN, for slack.botToken?)",
		},
		{
			name:    "wrong types",
			content: "slack:\n  investigationUpdates: maybe\n  command: [a]\nbot:\n  workers: many\n  queue: 1.5x\napprovals:\n  timeout: soon\n  approvers: [{a: 1}]\n  required:\n    high: lots\nstore: here\n",
			want: "config: approvals.approvers[0] must be a string\n" +
				"config: approvals.required.high must be a whole number\n" +
				"config: approvals.timeout must be a duration such as 45s, 30m or 1h\n" +
				"config: bot.queue must be a whole number\n" +
				"config: bot.workers must be a whole number\n" +
				"config: slack.command must be a string\n" +
				"config: slack.investigationUpdates must be true or false\n" +
				"config: store must be a mapping of keys",
		},
		{
			name:    "a duration needs a unit",
			content: "approvals:\n  timeout: 30\n",
			want:    "config: approvals.timeout must be a duration such as 45s, 30m or 1h",
		},
		{
			name:    "wrong type from the environment",
			environ: []string{"RUNBOOK_BOT__WORKERS=lots"},
			want:    "config: bot.workers must be a whole number (set by RUNBOOK_BOT__WORKERS)",
		},
		{
			name: "invalid values are all reported",
			content: `
slack:
  apiURL: https://slack.com/api
  command: runbook
  defaultChannel: "my channel"
approvals:
  approvers: ["U1", "two words"]
  required: {high: 0, urgent: 2}
  timeout: 0s
incidents:
  severities: [sev1, sev1]
  statuses: []
log:
  level: loud
  format: xml
bot:
  workers: 0
  queue: -1
  shutdownTimeout: -1s
  ackBudget: 3s
http:
  addr: localhost
`,
			want: "config: slack.apiURL must be an http(s) URL ending in /\n" +
				"config: slack.defaultChannel must be a channel name or id without spaces\n" +
				"config: slack.command must be a slash command such as /runbook\n" +
				"config: approvals.approvers[1] must be a user id, @handle or user group, without spaces\n" +
				"config: approvals.required.high must be at least 1\n" +
				"config: approvals.required.urgent is not a risk level: use low, medium, high or critical\n" +
				"config: approvals.timeout must be positive\n" +
				"config: incidents.severities[1] repeats incidents.severities[0]\n" +
				"config: incidents.statuses must not be empty\n" +
				"config: log.level must be one of debug, info, warn, error\n" +
				"config: log.format must be text or json\n" +
				"config: bot.workers must be at least 1\n" +
				"config: bot.queue must not be negative\n" +
				"config: bot.shutdownTimeout must be positive\n" +
				"config: bot.ackBudget must be less than 3s, Slack's deadline for acknowledging an event\n" +
				`config: http.addr must be host:port, e.g. ":8080" or "127.0.0.1:8080", or "" to turn it off`,
		},
		{
			name:    "api URL scheme",
			content: "slack:\n  apiURL: ftp://slack.com/api/\n",
			want:    "config: slack.apiURL must be an http(s) URL ending in /",
		},
		{
			name:    "roles without commander",
			content: "incidents:\n  roles: [comms, Scribe, comms, \"<!channel>\"]\n",
			want: "config: incidents.roles[2] repeats incidents.roles[0]\n" +
				"config: incidents.roles[1] must be a lowercase word: a letter, then letters, digits or _ (at most 32)\n" +
				"config: incidents.roles[3] must be a lowercase word: a letter, then letters, digits or _ (at most 32)\n" +
				"config: incidents.roles must include commander: every incident's commander is its commander role",
		},
		{
			name:    "YAML syntax",
			content: "slack:\n  command: /a\n   apiURL: x\n",
			want:    "config: FILE: line 3: mapping values are not allowed in this context",
		},
		{
			name:    "duplicate key",
			content: "slack:\n  command: /a\n  command: /b\n",
			want:    `config: FILE: line 3: mapping key "command" already defined at line 2`,
		},
		{
			name:    "top level is not a mapping",
			content: "- a\n- b\n",
			want:    "config: FILE: the top level must be a mapping of keys",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.content != "" {
				path = writeFile(t, tc.content)
			}
			cfg, err := Load(path, tc.environ)
			if err == nil {
				t.Fatalf("Load succeeded: %v", cfg)
			}
			if cfg != nil {
				t.Error("Load returned a config with its error")
			}
			want := strings.ReplaceAll(tc.want, "FILE", path)
			if err.Error() != want {
				t.Fatalf("error:\n%s\nwant:\n%s", err, want)
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := Load(path, nil)
	want := "config: config file " + path + " does not exist"
	if err == nil || err.Error() != want {
		t.Fatalf("Load = %v, want %q", err, want)
	}
	dir := t.TempDir()
	_, err = Load(dir, nil)
	if want := "config: config file " + dir + " is a directory"; err == nil || err.Error() != want {
		t.Fatalf("Load(dir) = %v, want %q", err, want)
	}
}

func TestRequireTokens(t *testing.T) {
	for _, tc := range []struct {
		name     string
		bot, app string
		want     string
	}{
		{"valid", fakeBot, fakeApp, ""},
		{"swapped", fakeApp, fakeBot, "config: slack.botToken must start with xoxb-\nconfig: slack.appToken must start with xapp-"},
		{"user token", "xoxp-FAKE-user-token-1234567890", fakeApp, "config: slack.botToken must start with xoxb-"},
		{"missing app", fakeBot, "", "config: slack.appToken is required: set it in the config file or SLACK_APP_TOKEN"},
		{"trailing newline", fakeBot + "\n", fakeApp, "config: slack.botToken must not contain spaces or line breaks (check for a trailing newline)"},
		{"prefix only", "xoxb-", fakeApp, "config: slack.botToken is only the xoxb- prefix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.Slack.BotToken, c.Slack.AppToken = Secret(tc.bot), Secret(tc.app)
			err := c.RequireTokens()
			got := ""
			if err != nil {
				got = err.Error()
				for _, tok := range []string{tc.bot, tc.app} {
					if len(tok) > 5 && strings.Contains(got, strings.TrimSpace(tok)) {
						t.Errorf("error reveals a token: %s", got)
					}
				}
			}
			if got != tc.want {
				t.Fatalf("RequireTokens() = %q, want %q", got, tc.want)
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate checks tokens: %v", err)
			}
		})
	}
}

// TestSecretsNeverLeak puts a fake token everywhere an error or a log line
// could pick it up.
func TestSecretsNeverLeak(t *testing.T) {
	const secret = "xoxb-FAKE-SECRET-do-not-print-42"
	const secretish = "FAKE-SECRET-do-not-print" // any recognisable part
	environ := []string{"SLACK_BOT_TOKEN=" + secret, "SLACK_APP_TOKEN=" + fakeApp}

	// Expanded values must stay out of errors whether or not they are
	// tokens: OTHER is scrubbed by nothing, so only message construction
	// keeps it out.
	const other = "hunter2-OTHER-SECRET-value"
	environ = append(environ, "OTHER="+other)
	for _, ref := range []string{"${SLACK_BOT_TOKEN}", "${OTHER}"} {
		for _, tc := range []struct{ name, content string }{
			{"int", "bot:\n  workers: REF\n"},
			{"duration", "bot:\n  ackBudget: REF\n"},
			{"bool", "slack:\n  investigationUpdates: REF\n"},
			{"section", "store: REF\n"},
			{"map entry", "services:\n  db: REF\n"},
			{"map value", "approvals:\n  required:\n    high: REF\n"},
			{"map key check", "approvals:\n  required:\n    REF: 1\n"},
			{"api URL", "slack:\n  apiURL: REF\n"},
			{"command", "slack:\n  command: REF\n"},
			{"log level", "log:\n  level: REF\n"},
			{"log format", "log:\n  format: REF\n"},
			{"http addr", "http:\n  addr: REF\n"},
			{"duplicate list items", "incidents:\n  severities: [\"REF\", \"REF\"]\n"},
			{"approver with a space", "approvals:\n  approvers: [\"a REF\"]\n"},
			{"channel with a space", "slack:\n  defaultChannel: \"x REF\"\n"},
			{"token with another error", "slack:\n  botToken: REF\nlog:\n  level: loud\n"},
		} {
			t.Run(ref+" into "+tc.name, func(t *testing.T) {
				_, err := load(t, strings.ReplaceAll(tc.content, "REF", ref), environ...)
				if err == nil {
					t.Fatal("Load succeeded")
				}
				if strings.Contains(err.Error(), secretish) || strings.Contains(err.Error(), "OTHER-SECRET") {
					t.Fatalf("error reveals the value:\n%s", err)
				}
			})
		}
	}

	for _, tc := range []struct {
		name    string
		content string
		environ []string
	}{
		{"in an unknown key's value", "slack:\n  botTokn: " + secret + "\n", nil},
		{"as a key", secret + ": 1\n", nil},
		{"literal in a wrong-typed key", "bot:\n  workers: " + secret + "\n", nil},
		{"in a RUNBOOK_ variable", "", []string{"RUNBOOK_BOT__WORKERS=" + secret}},
		{"in an unknown RUNBOOK_ variable", "", []string{"RUNBOOK_SLACK__BOT_TOKN=" + secret}},
		{"YAML error on the token line", "slack:\n  botToken: " + secret + "\n   : - [\n", nil},
		{"YAML scalar at the top", secret + "\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.content, append(append([]string{}, environ...), tc.environ...)...)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if strings.Contains(err.Error(), secretish) {
				t.Fatalf("error reveals the token:\n%s", err)
			}
		})
	}

	t.Run("wrong prefix from RequireTokens", func(t *testing.T) {
		cfg := mustLoad(t, "", "SLACK_BOT_TOKEN=xoxp-"+secretish, "SLACK_APP_TOKEN=xoxb-"+secretish)
		err := cfg.RequireTokens()
		if err == nil || strings.Contains(err.Error(), secretish) {
			t.Fatalf("RequireTokens() = %v", err)
		}
	})

	cfg := mustLoad(t, "slack:\n  botToken: ${SLACK_BOT_TOKEN}\n  appToken: ${SLACK_APP_TOKEN}\n", environ...)
	if cfg.Slack.BotToken.Reveal() != secret {
		t.Fatal("token not loaded")
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("loaded", "config", cfg, "value", *cfg, "slack", cfg.Slack, "token", cfg.Slack.BotToken)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("loaded", "config", cfg, "slack", cfg.Slack, "token", cfg.Slack.BotToken)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("loaded", slog.Any("config", cfg))
	fmt.Fprintf(&buf, "%v %+v %#v %s %q %x\n", cfg, *cfg, *cfg, cfg, cfg.Slack.BotToken, cfg.Slack.BotToken)
	fmt.Fprintf(&buf, "%v %+v %#v %s\n", cfg.Slack, cfg.Slack, cfg.Slack, cfg.Slack.AppToken)
	fmt.Fprintln(&buf, cfg.String(), cfg.Redacted())
	j, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	buf.Write(j)
	y, err := yaml.Parser().Marshal(map[string]any{"slack": cfg.Slack})
	if err != nil {
		t.Fatal(err)
	}
	buf.Write(y)
	out := buf.String()
	for _, s := range []string{secretish, "FAKE-app-token"} {
		if strings.Contains(out, s) {
			t.Fatalf("output reveals a token:\n%s", out)
		}
	}
	if !strings.Contains(out, `"botToken":"[redacted]"`) || !strings.Contains(out, "config.slack.botToken=[redacted]") {
		t.Fatalf("log output lacks the redacted token:\n%s", out)
	}
	if !strings.Contains(out, "timeout=30m0s") || !strings.Contains(out, "config.services={}") {
		t.Fatalf("log output lacks readable values:\n%s", out)
	}
}

func TestSecret(t *testing.T) {
	s := Secret("xoxb-1")
	eq(t, "Reveal", s.Reveal(), "xoxb-1")
	eq(t, "String", s.String(), "[redacted]")
	eq(t, "Sprint", fmt.Sprint(s), "[redacted]")
	eq(t, "GoString", fmt.Sprintf("%#v", s), `config.Secret("[redacted]")`)
	eq(t, "IsSet", s.IsSet(), true)
	eq(t, "empty String", Secret("").String(), "")
	eq(t, "empty IsSet", Secret("").IsSet(), false)
	b, _ := json.Marshal(struct{ T Secret }{s})
	eq(t, "json", string(b), `{"T":"[redacted]"}`)
}

func TestServiceChannel(t *testing.T) {
	cfg := mustLoad(t, `
slack:
  defaultChannel: "#incidents"
services:
  payments: {slack: {channel: "#payments"}}
  Search: {slack: {channel: "#search"}}
  quiet: {}
  empty:
`)
	for svc, want := range map[string]string{
		"payments": "#payments",
		"search":   "#search", // case-insensitive fallback
		"Search":   "#search",
		"quiet":    "#incidents",
		"empty":    "#incidents",
		"unknown":  "#incidents",
		"":         "#incidents",
	} {
		eq(t, "ServiceChannel("+svc+")", cfg.ServiceChannel(svc), want)
	}
	eq(t, "no default", Default().ServiceChannel("x"), "")
}

func TestSlogLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError, "": slog.LevelInfo} {
		eq(t, "SlogLevel("+in+")", Log{Level: in}.SlogLevel(), want)
	}
}

// TestExampleFile loads config.example.yaml and checks that it shows every
// key.
func TestExampleFile(t *testing.T) {
	const path = "../config.example.yaml"
	cfg, err := Load(path, []string{"SLACK_BOT_TOKEN=" + fakeBot, "SLACK_APP_TOKEN=" + fakeApp})
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	if err := cfg.RequireTokens(); err != nil {
		t.Fatalf("RequireTokens: %v", err)
	}
	eq(t, "slack.botToken", cfg.Slack.BotToken.Reveal(), fakeBot)
	eq(t, "slack.appToken", cfg.Slack.AppToken.Reveal(), fakeApp)

	// Without the token variables the references are reported.
	_, err = Load(path, nil)
	want := "config: slack.appToken refers to ${SLACK_APP_TOKEN}, which is not set\n" +
		"config: slack.botToken refers to ${SLACK_BOT_TOKEN}, which is not set"
	if err == nil || err.Error() != want {
		t.Fatalf("Load without tokens = %v, want\n%s", err, want)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := yaml.Parser().Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var walk func(m map[string]any, n *node)
	walk = func(m map[string]any, n *node) {
		for _, f := range n.fields {
			v, ok := m[f.name]
			if !ok {
				t.Errorf("config.example.yaml does not show %s", f.path)
				continue
			}
			switch f.kind {
			case kindSection:
				sub, _ := v.(map[string]any)
				walk(sub, f)
			case kindMap:
				sub, _ := v.(map[string]any)
				// Secrets are shown commented out, so the example loads without them set.
				if len(sub) == 0 && !(f.path == "secrets" && strings.Contains(string(b), "#  deploy_token: ${DEPLOY_TOKEN}")) {
					t.Errorf("config.example.yaml has no example entry under %s", f.path)
				}
				for _, e := range sub {
					if f.elem.kind == kindSection {
						em, _ := e.(map[string]any)
						walk(em, f.elem)
					}
				}
			case kindList:
				items, _ := v.([]any)
				// API tokens are shown commented out, so the example loads without them set.
				if f.path == "api.tokens" && len(items) == 0 {
					for _, line := range []string{"#  - name: ci", "#    token: ${CI_API_TOKEN}", "#    scopes: [approvals]"} {
						if !strings.Contains(string(b), line) {
							t.Errorf("config.example.yaml does not show %q under api.tokens", line)
						}
					}
					continue
				}
				if len(items) == 0 {
					t.Errorf("config.example.yaml has no example entry under %s", f.path)
				}
				// Together the entries show every key of an entry.
				union := map[string]any{}
				for _, e := range items {
					em, _ := e.(map[string]any)
					maps.Copy(union, em)
				}
				walk(union, f.elem)
			}
		}
	}
	walk(raw, rootSchema())
	for _, level := range riskLevels {
		if _, ok := cfg.Approvals.Required[level]; !ok {
			t.Errorf("config.example.yaml does not show approvals.required.%s", level)
		}
	}
}

func TestLoadConcurrently(t *testing.T) {
	path := writeFile(t, "bot:\n  workers: ${N}\n")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			cfg, err := Load(path, []string{fmt.Sprintf("N=%d", i+1)})
			if err != nil {
				t.Error(err)
				return
			}
			if cfg.Bot.Workers != i+1 {
				t.Errorf("workers = %d, want %d", cfg.Bot.Workers, i+1)
			}
		})
	}
	wg.Wait()
}

func TestSuggest(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"botTokn", "slack.botToken"},
		{"levle", "log.level"},
		{"bottoken", "slack.botToken"},
		{"queu", "bot.queue"},
		{"xyzzy", ""},
	} {
		parent := rootSchema()
		path := []string(nil)
		if tc.b != "" {
			sec, _, _ := strings.Cut(tc.b, ".")
			parent, path = parent.field(sec), []string{sec}
		}
		eq(t, "suggest("+tc.a+")", suggest(parent, path, tc.a), tc.b)
	}
}

func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func TestErrorsAreOneLineEach(t *testing.T) {
	_, err := load(t, "\"aaaa\\naaaa\": 1\nslack:\n  \"bad key\": 2\n")
	if err == nil {
		t.Fatal("Load succeeded")
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if !strings.HasPrefix(line, "config: ") {
			t.Fatalf("line %q lacks the config: prefix in\n%s", line, err)
		}
	}
	want := "config: unknown key \"aaaa\\naaaa\"\nconfig: unknown key slack.\"bad key\""
	if err.Error() != want {
		t.Fatalf("error:\n%s\nwant:\n%s", err, want)
	}
}

// TestHTTPMode checks slack.mode and what each mode requires: http needs http.addr and
// the signing secret (from the file or SLACK_SIGNING_SECRET) and no app token, and the
// signing secret is scrubbed from errors like the tokens.
func TestHTTPMode(t *testing.T) {
	const secret = "8f742231b10e8888abcd99yyyzzz85a5"
	path := writeFile(t, "slack:\n  mode: http\n  signingSecret: ${SIGNING}\nhttp:\n  addr: \":8080\"\n")
	cfg, err := Load(path, []string{"SIGNING=" + secret, "SLACK_BOT_TOKEN=" + fakeBot})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if err := cfg.RequireTokens(); err != nil {
		t.Fatalf("RequireTokens in http mode without an app token: %v", err)
	}
	eq(t, "HTTPMode", cfg.Slack.HTTPMode(), true)
	eq(t, "signingSecret", cfg.Slack.SigningSecret.Reveal(), secret)
	if s := fmt.Sprint(cfg) + fmt.Sprintf("%#v %+v", cfg, cfg.Slack); strings.Contains(s, secret) {
		t.Error("the signing secret is printed")
	}

	// From the environment, as the tokens are.
	path = writeFile(t, "slack:\n  mode: http\nhttp:\n  addr: \":8080\"\n")
	cfg, err = Load(path, []string{SigningSecretEnv + "=" + secret})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	eq(t, "signingSecret from "+SigningSecretEnv, cfg.Slack.SigningSecret.Reveal(), secret)

	// http mode without http.addr or the secret: each said in a sentence.
	path = writeFile(t, "slack:\n  mode: http\n")
	_, err = Load(path, nil)
	if err == nil || !strings.Contains(err.Error(), "config: http.addr is required when slack.mode is http") {
		t.Errorf("http mode without http.addr: %v", err)
	}
	cfg = Default()
	cfg.Slack.Mode, cfg.HTTP.Addr, cfg.Slack.BotToken = ModeHTTP, ":8080", fakeBot
	if err := cfg.RequireTokens(); err == nil || !strings.Contains(err.Error(), "slack.signingSecret is required when slack.mode is http") {
		t.Errorf("RequireTokens without a signing secret: %v", err)
	}
	cfg.Slack.Mode = "webhook"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "slack.mode must be socket") {
		t.Errorf("Validate of an unknown mode: %v", err)
	}

	// A value that does not decode is reported without the secret.
	path = writeFile(t, "slack:\n  mode: http\n  signingSecret: [\""+secret+"\"]\nhttp:\n  addr: \":8080\"\n")
	_, err = Load(path, nil)
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("a signing secret of the wrong type: %v", err)
	}
}
