package demo

import (
	"embed"
	"io/fs"
	"path/filepath"
	"strings"
)

// runbookFiles are copies of runbooks/examples, embedded so that the demo works from
// the binary alone. TestRunbooksMatchExamples keeps them identical to the examples.
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
