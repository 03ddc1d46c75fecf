package demo

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// runbookFiles are copies of runbooks/examples, embedded so that the demo works from
// the binary alone. TestRunbooksMatchExamples keeps them identical to the examples.
//
//go:embed runbooks/*.yaml
var runbookFiles embed.FS

// writeRunbooks writes the embedded runbooks into dir, for runbooks.dir.
func writeRunbooks(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write the runbooks: %w", err)
	}
	files, err := fs.Glob(runbookFiles, "runbooks/*.yaml")
	if err != nil {
		return err
	}
	for _, name := range files {
		data, err := runbookFiles.ReadFile(name)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(name)), data, 0o644); err != nil {
			return fmt.Errorf("write the runbooks: %w", err)
		}
	}
	return nil
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
