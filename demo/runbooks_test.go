package demo

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestRunbooksMatchExamples keeps the embedded runbooks identical to
// runbooks/examples: the demo shows the examples, so they must not drift. After
// changing an example, copy it: cp runbooks/examples/*.yaml demo/runbooks/
func TestRunbooksMatchExamples(t *testing.T) {
	examples, _ := filepath.Glob("../runbooks/examples/*.yaml")
	copies, _ := filepath.Glob("runbooks/*.yaml")
	base := func(paths []string) []string {
		out := make([]string, len(paths))
		for i, p := range paths {
			out[i] = filepath.Base(p)
		}
		return out
	}
	if len(examples) == 0 || !slices.Equal(base(examples), base(copies)) {
		t.Fatalf("demo/runbooks holds %v, runbooks/examples holds %v; copy them: cp runbooks/examples/*.yaml demo/runbooks/",
			base(copies), base(examples))
	}
	for _, name := range base(examples) {
		want, err := os.ReadFile(filepath.Join("../runbooks/examples", name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := runbookFiles.ReadFile("runbooks/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("demo/runbooks/%s differs from runbooks/examples/%s; copy it: cp runbooks/examples/*.yaml demo/runbooks/", name, name)
		}
	}
}
