package demo

import (
	"bytes"
	"io/fs"
	"maps"
	"os"
	"slices"
	"testing"
)

// exampleSources are the examples the demo embeds, by file name: the demo shows the
// examples, so its copies must not drift. After changing one, copy it over.
var exampleSources = map[string]string{
	"scale-up.yaml":     "../runbooks/examples/acting/scale-up.yaml",
	"sev1-kickoff.yaml": "../runbooks/examples/sev1-kickoff.yaml",
	"wrap-up.yaml":      "../runbooks/examples/wrap-up.yaml",
}

func TestRunbooksMatchExamples(t *testing.T) {
	copies, _ := fs.Glob(runbookFiles, "runbooks/*.yaml")
	for i, c := range copies {
		copies[i] = c[len("runbooks/"):]
	}
	if want := slices.Sorted(maps.Keys(exampleSources)); !slices.Equal(copies, want) {
		t.Fatalf("demo/runbooks holds %v, want copies of %v", copies, want)
	}
	for name, source := range exampleSources {
		want, err := os.ReadFile(source)
		if err != nil {
			t.Fatal(err)
		}
		got, err := runbookFiles.ReadFile("runbooks/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("demo/runbooks/%s differs from %s; copy it: cp %s demo/runbooks/", name, source[len("../"):], source[len("../"):])
		}
	}
}
