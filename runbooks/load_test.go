package runbooks

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/invalid")

// TestInvalidFixtures loads each file under testdata/invalid, which holds exactly one
// problem, and compares the problems with the file's .golden twin. Each directory
// there is loaded with LoadDir and compared with its own .golden.
func TestInvalidFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			_, err := LoadFile(file)
			got := problemsOf(t, err)
			if len(got) != 1 {
				t.Errorf("want exactly one problem per fixture, got %d:\n%v", len(got), got)
			}
			compareGolden(t, strings.TrimSuffix(file, ".yaml")+".golden", got)
		})
	}
	entries, _ := os.ReadDir("testdata/invalid")
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join("testdata/invalid", e.Name())
		t.Run(filepath.Base(dir), func(t *testing.T) {
			_, err := LoadDir(dir)
			compareGolden(t, dir+".golden", problemsOf(t, err))
		})
	}
}

// TestLoadDirReportsEveryProblem loads the whole invalid directory at once: LoadDir
// must report every file's problems, in file order.
func TestLoadDirReportsEveryProblem(t *testing.T) {
	c, err := LoadDir("testdata/invalid")
	got := problemsOf(t, err)
	var want []string
	goldens, _ := filepath.Glob("testdata/invalid/*.golden")
	for _, g := range goldens {
		if info, err := os.Stat(strings.TrimSuffix(g, ".golden")); err == nil && info.IsDir() {
			continue // a directory fixture, which LoadDir does not descend into
		}
		want = append(want, readLines(t, g)...)
	}
	if strings.Join(got.lines(), "\n") != strings.Join(want, "\n") {
		t.Errorf("LoadDir problems differ from the goldens:\n got:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if n := len(c.List()); n != 0 {
		t.Errorf("catalog of an all-invalid dir has %d runbooks, want 0", n)
	}
}

func TestDuplicateNamesDropBoth(t *testing.T) {
	c, err := LoadDir("testdata/invalid/duplicate-names")
	ps := problemsOf(t, err)
	if len(ps) != 1 || !strings.Contains(ps[0].Message, "a.yaml") || !strings.HasSuffix(ps[0].File, "b.yaml") {
		t.Errorf("want one problem on b.yaml naming a.yaml, got %v", ps)
	}
	if _, ok := c.Get("sev1-kickoff"); ok {
		t.Error("a runbook whose name is taken twice must not be kept")
	}
}

func TestValidFixtures(t *testing.T) {
	c, err := LoadDir("testdata/valid")
	if err != nil {
		t.Fatalf("valid fixtures have problems:\n%v", err)
	}
	if got := strings.Join(c.Names(), " "); got != "resolve sev1-kickoff status_update" {
		t.Fatalf("names = %q", got)
	}
	rb, _ := c.Get("sev1-kickoff")
	if rb.File != filepath.Join("testdata", "valid", "sev1-kickoff.yaml") || len(rb.Steps) != 5 || len(rb.Triggers) != 2 {
		t.Fatalf("sev1-kickoff loaded wrong: file %s, %d steps, %d triggers", rb.File, len(rb.Steps), len(rb.Triggers))
	}
	ch := rb.Steps[0]
	if ch.ID != "channel" || ch.Line != 15 || ch.OnError != OnErrorFail || ch.With["private"] != false {
		t.Errorf("step 1 = %+v", ch)
	}
	if inv, _ := ch.With["invite"].([]any); len(inv) != 3 || inv[0] != "commander" {
		t.Errorf("invite = %#v, want a []any of 3 strings", ch.With["invite"])
	}
	scale := rb.Steps[3]
	if scale.With["required"] != 2 || scale.With["timeout"] != "15m" || rb.Steps[4].OnError != OnErrorContinue {
		t.Errorf("scale = %+v", scale)
	}
	if p, _ := rb.Param("region"); p.Default != "eu" {
		t.Errorf("region default = %#v", p.Default)
	}
	resolve, _ := c.Get("resolve")
	if users, _ := resolve.Steps[0].With["users"].([]any); len(users) != 1 {
		t.Errorf("a single user must become a one-item list, got %#v", resolve.Steps[0].With["users"])
	}
}

func TestLoadFileValid(t *testing.T) {
	rb, err := LoadFile("testdata/valid/status-update.yml")
	if err != nil {
		t.Fatal(err)
	}
	blocks, _ := rb.Steps[0].With["blocks"].([]any)
	first, _ := blocks[0].(map[string]any)
	if text, _ := first["text"].(map[string]any); text["text"] != "*{{Activity.title}}* is {{Activity.status}}" {
		t.Errorf("blocks = %#v", rb.Steps[0].With["blocks"])
	}
}

func TestLoadDirErrors(t *testing.T) {
	if _, err := LoadDir("testdata/no-such-dir"); err == nil || errors.As(err, new(*Problems)) {
		t.Errorf("missing dir: err = %v, want a plain error", err)
	}
	dir := t.TempDir()
	c, err := LoadDir(dir)
	if err != nil || len(c.List()) != 0 {
		t.Errorf("empty dir: %v, %v", c, err)
	}
}

func TestLoadDirKeepsGoodRunbooks(t *testing.T) {
	dir := t.TempDir()
	good, _ := os.ReadFile("testdata/valid/resolve.yaml")
	bad, _ := os.ReadFile("testdata/invalid/unknown-action.yaml")
	write(t, filepath.Join(dir, "good.yaml"), good)
	write(t, filepath.Join(dir, "bad.yml"), bad)
	write(t, filepath.Join(dir, "notes.txt"), []byte("ignored"))
	write(t, filepath.Join(dir, ".hidden.yaml"), []byte("ignored: ["))
	if err := os.Mkdir(filepath.Join(dir, "sub.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := LoadDir(dir)
	ps := problemsOf(t, err)
	if len(ps) != 1 || ps[0].File != filepath.Join(dir, "bad.yml") {
		t.Errorf("problems = %v", ps)
	}
	if got := strings.Join(c.Names(), " "); got != "resolve" {
		t.Errorf("kept %q, want resolve", got)
	}
}

func TestProblemsErrorsAs(t *testing.T) {
	_, err := Parse("x.yaml", []byte("name: x\n"))
	var ps Problems
	var pp *Problems
	if !errors.As(err, &ps) || !errors.As(err, &pp) || len(ps) != 1 || len(*pp) != 1 {
		t.Fatalf("errors.As failed for %v", err)
	}
	if want := "x.yaml:1: no steps; a runbook needs at least one"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	if got := (Problem{File: "f.yaml", Message: "m"}).String(); got != "f.yaml: m" {
		t.Errorf("a problem without a line = %q", got)
	}
}

func TestParseTooLarge(t *testing.T) {
	_, err := Parse("big.yaml", make([]byte, maxFileSize+1))
	if ps := problemsOf(t, err); len(ps) != 1 || ps[0].Line != 0 {
		t.Errorf("problems = %v", ps)
	}
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func problemsOf(t *testing.T, err error) Problems {
	t.Helper()
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want *Problems, got %v", err)
	}
	return ps
}

func (ps Problems) lines() []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func compareGolden(t *testing.T, golden string, got Problems) {
	t.Helper()
	text := strings.Join(got.lines(), "\n") + "\n"
	if *update {
		write(t, golden, []byte(text))
		return
	}
	if want := strings.Join(readLines(t, golden), "\n") + "\n"; text != want {
		t.Errorf("%s differs:\n got:\n%s\nwant:\n%s", golden, text, want)
	}
}
