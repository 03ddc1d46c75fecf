package demo

import (
	"embed"
	"io/fs"
	"path/filepath"
	"strings"
)

// runbookFiles are copies of example runbooks, embedded so that the demo works from
// the binary alone: sev1-kickoff and wrap-up from runbooks/examples, and scale-up from
// runbooks/examples/acting, which calls the stand-in deploy API. restart-service is
// left out: the demo allows no program, so that no kubectl of the person trying it
// could reach their cluster. TestRunbooksMatchExamples keeps the copies identical.
//
//go:embed runbooks/*.yaml
var runbookFiles embed.FS

// runbooksFS is the embedded runbooks directory.
func runbooksFS() fs.FS {
	sub, err := fs.Sub(runbookFiles, "runbooks")
	if err != nil {
		panic(err) // "runbooks" is a valid path: it cannot fail
	}
	return sub
}

// runbookNames are the embedded runbooks' file names without the extension.
func runbookNames() []string {
	files, _ := fs.Glob(runbookFiles, "runbooks/*.yaml")
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(filepath.Base(f), ".yaml")
	}
	return names
}
