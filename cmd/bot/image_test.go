package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
)

// nonroot is the user the image runs as (distroless's nonroot).
const nonroot = 65532

// The container image, run as written: the binary built with the Dockerfile's tags and
// flags, the Dockerfile's ENV, a root directory standing for the image's / with the
// example runbooks in /etc/runbook/runbooks, a fresh /data volume and a mounted
// /config/config.yaml whose runbooks.dir names a mounted directory. As root, the bot
// runs as the image's user on a /data owned the way Docker initialises a new named
// volume from the image.
func TestImageLayout(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary as the Dockerfile does")
	}
	df := parseDockerfile(t, filepath.Join("..", "..", "Dockerfile"))
	bin := buildAsDockerfile(t, df)

	root := t.TempDir()
	ws := apptest.NewWorkspace(t, slackfake.Options{})
	ws.Seed()
	alice, general := ws.Person("alice"), ws.Channel("general")

	// The image's directories, as its COPY lines leave them.
	mustMkdir(t, filepath.Join(root, "data"), filepath.Join(root, "config"))
	examples := os.DirFS(filepath.Join("..", "..", "runbooks", "examples"))
	if err := apptest.WriteRunbooks(filepath.Join(root, "etc/runbook/runbooks"), examples, nil); err != nil {
		t.Fatal(err)
	}
	// What the operator mounts: their runbooks and their config, which says nothing of
	// store.path, so the image's /data/runbook.db applies.
	mounted := filepath.Join(root, "mnt/runbooks")
	if err := apptest.WriteRunbooks(mounted, nil, map[string]string{"team-only.yaml": teamRunbook}); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cfg := fmt.Sprintf("slack:\n  apiURL: %s\n  defaultChannel: \"#incidents\"\nrunbooks:\n  dir: %s\nhttp:\n  addr: %q\n",
		ws.Slack.APIURL(), mounted, addr)
	if err := os.WriteFile(filepath.Join(root, "config/config.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}

	env := apptest.Environ(ws)
	for _, kv := range df.env {
		name, value, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(value, "/") {
			value = filepath.Join(root, value)
		}
		env = append(env, name+"="+value)
	}
	asNonroot := os.Geteuid() == 0 && openToAll(root, filepath.Dir(bin))
	if asNonroot {
		// A new named volume takes the owner of the image's directory.
		if err := os.Chown(filepath.Join(root, "data"), nonroot, nonroot); err != nil {
			t.Fatal(err)
		}
	} else {
		t.Log("the bot runs as this user, not as the image's: only root can switch users, and the temporary directory must be open to others")
	}
	command := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Env, cmd.Dir = env, root
		if asNonroot {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nonroot, Gid: nonroot}}
		}
		return cmd
	}

	logPath := filepath.Join(t.TempDir(), "bot.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	botLog := func() string { b, _ := os.ReadFile(logPath); return apptest.Tail(string(b), 40) }
	bot := command(df.cmd...)
	bot.Stdout, bot.Stderr = logFile, logFile
	if err := bot.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = bot.Wait(); close(exited) }()
	gone := func() bool {
		select {
		case <-exited:
			return true
		default:
			return false
		}
	}
	t.Cleanup(func() {
		_ = bot.Process.Kill()
		<-exited
	})
	ctx, cancel := context.WithTimeout(context.Background(), apptest.Patience)
	defer cancel()
	if err := ws.WaitConnected(ctx, 0, 1, gone); err != nil {
		t.Fatalf("%v\n%s", err, botLog())
	}

	if want := fmt.Sprintf(`msg="runbooks loaded" dir=%s count=1`, mounted); !strings.Contains(botLog(), want) {
		t.Errorf("the log does not say %q:\n%s", want, botLog())
	}
	if list := answer(t, ctx, ws, alice.ID, general.ID, "runbooks"); !strings.Contains(list, "team-only") || strings.Contains(list, "sev1-kickoff") {
		t.Errorf("/runbook runbooks lists %s; want the mounted team-only and not the image's examples", list)
	}

	db, err := os.Stat(filepath.Join(root, "data/runbook.db"))
	if err != nil {
		t.Fatalf("the database is not on the /data volume: %v\n%s", err, botLog())
	}
	if owner := db.Sys().(*syscall.Stat_t).Uid; asNonroot && owner != nonroot {
		t.Errorf("the database belongs to uid %d, not the image's user", owner)
	}

	check := command(df.healthcheck...)
	out, err := check.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "healthy: http://"+addr+"/healthz answered ok") {
		t.Errorf("the HEALTHCHECK command: %v, %q", err, out)
	}

	_ = bot.Process.Signal(syscall.SIGTERM)
	<-exited
	if waitErr != nil {
		t.Errorf("the bot did not stop cleanly on SIGTERM: %v\n%s", waitErr, botLog())
	}
}

const teamRunbook = `name: team-only
description: A runbook of the team's, not one of the image's examples
steps:
  - action: slack.send_message
    with:
      channel: "#incidents"
      text: hello from the mounted runbooks
`

// dockerfile is what the test takes from the Dockerfile, so that it cannot drift from it.
type dockerfile struct {
	tags, ldflags string   // of the go build in the build stage, ARGs expanded
	env           []string // the final stage's ENV, NAME=value
	cmd           []string // ENTRYPOINT's arguments: CMD
	healthcheck   []string // HEALTHCHECK CMD's arguments
}

func parseDockerfile(t *testing.T, path string) dockerfile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var df dockerfile
	args := map[string]string{}
	for _, line := range dockerLines(string(b)) {
		instr, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(instr) {
		case "ARG":
			name, value, _ := strings.Cut(rest, "=")
			args[name] = value
		case "RUN":
			if !strings.Contains(rest, "go build") {
				continue
			}
			expanded := os.Expand(rest, func(name string) string { return args[name] })
			df.tags = quoted(t, expanded, `-tags '([^']*)'`)
			df.ldflags = quoted(t, expanded, `-ldflags "([^"]*)"`)
		case "ENV":
			for _, kv := range strings.Fields(rest) {
				df.env = append(df.env, kv)
			}
		case "CMD":
			df.cmd = jsonArgs(t, rest)
		case "HEALTHCHECK":
			_, c, ok := strings.Cut(rest, "CMD ")
			if !ok {
				t.Fatalf("Dockerfile: HEALTHCHECK without CMD: %s", rest)
			}
			df.healthcheck = jsonArgs(t, c)[1:] // without the binary's path
		case "ENTRYPOINT":
			if e := jsonArgs(t, rest); len(e) != 1 {
				t.Fatalf("Dockerfile: ENTRYPOINT is not just the binary: %s", rest)
			}
		}
	}
	if df.tags == "" || len(df.env) == 0 || len(df.cmd) == 0 || len(df.healthcheck) == 0 {
		t.Fatalf("Dockerfile: no go build, ENV, CMD or HEALTHCHECK found: %+v", df)
	}
	return df
}

// dockerLines joins continued lines and drops comments and blank lines.
func dockerLines(s string) []string {
	var out []string
	var cur strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if l, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(l + " ")
			continue
		}
		cur.WriteString(line)
		out = append(out, cur.String())
		cur.Reset()
	}
	return out
}

func quoted(t *testing.T, s, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("Dockerfile: the go build has no %s", pattern)
	}
	return m[1]
}

func jsonArgs(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil || len(out) == 0 {
		t.Fatalf("Dockerfile: %q is not an exec-form argument list", s)
	}
	return out
}

// buildAsDockerfile builds ./cmd/bot with the Dockerfile's tags and flags. Where this
// machine cannot link statically (no static libc), it links dynamically and says so:
// the layout and environment are what the test is about.
func buildAsDockerfile(t *testing.T, df dockerfile) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "runbook-image-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "bot")
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	build := func(ldflags string) ([]byte, error) {
		cmd := exec.Command(goTool, "build", "-trimpath", "-tags", df.tags, "-ldflags", ldflags, "-o", bin, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		return cmd.CombinedOutput()
	}
	out, err := build(df.ldflags)
	if err != nil {
		dynamic := strings.Replace(df.ldflags, "-linkmode external -extldflags -static", "", 1)
		if dynamic == df.ldflags {
			t.Fatalf("go build as the Dockerfile does: %v\n%s", err, out)
		}
		t.Logf("no static link here (%v); linking dynamically", err)
		if out, err := build(dynamic); err != nil {
			t.Fatalf("go build as the Dockerfile does: %v\n%s", err, out)
		}
	}
	return bin
}

func mustMkdir(t *testing.T, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// answer sends /runbook text and returns the answer only the sender sees: the ack's,
// or the one sent after it.
func answer(t *testing.T, ctx context.Context, ws *apptest.Workspace, user, channel, text string) string {
	t.Helper()
	before := len(ws.Slack.Ephemerals(channel, user))
	ack, err := ws.Slack.SlashCommand(user, channel, "/runbook", text).WaitAck(ctx)
	if err != nil {
		t.Fatalf("/runbook %s: %v", text, err)
	}
	if len(ack.Payload) > 0 {
		return string(ack.Payload)
	}
	var got string
	err = apptest.Wait(ctx, ws.Slack, func() bool {
		eph := ws.Slack.Ephemerals(channel, user)
		if len(eph) > before {
			got = eph[len(eph)-1].Text + string(eph[len(eph)-1].Blocks)
		}
		return got != ""
	})
	if err != nil {
		t.Fatalf("no answer to /runbook %s: %v", text, err)
	}
	return got
}

// openToAll lets another user reach and read the paths given (directories made by
// t.TempDir and os.MkdirTemp are the owner's alone), opening the directories on the way
// up to the temporary directory, which must already be open; it reports whether it
// could.
func openToAll(paths ...string) bool {
	tmp := filepath.Clean(os.TempDir())
	if fi, err := os.Stat(tmp); err != nil || fi.Mode().Perm()&0o005 != 0o005 {
		return false
	}
	for _, p := range paths {
		for d := p; d != tmp; d = filepath.Dir(d) {
			if d == filepath.Dir(d) {
				return false // not under the temporary directory
			}
			fi, err := os.Stat(d)
			if err != nil || os.Chmod(d, fi.Mode().Perm()|0o005) != nil {
				return false
			}
		}
	}
	return true
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
