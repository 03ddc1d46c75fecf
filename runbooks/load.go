package runbooks

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// maxFileSize bounds what is read of one runbook file.
const maxFileSize = 1 << 20

// Catalog is every runbook of a directory, by name.
type Catalog struct {
	byName map[string]*Runbook
	list   []*Runbook // sorted by name
}

// NewCatalog makes a catalog of runbooks whose names are known to be unique (later ones
// replace earlier ones of the same name). LoadDir is the usual way to get one.
func NewCatalog(rbs ...*Runbook) *Catalog {
	c := &Catalog{byName: map[string]*Runbook{}}
	for _, rb := range rbs {
		c.byName[rb.Name] = rb
	}
	for _, rb := range c.byName {
		c.list = append(c.list, rb)
	}
	slices.SortFunc(c.list, func(a, b *Runbook) int { return strings.Compare(a.Name, b.Name) })
	return c
}

// Get returns the runbook called name.
func (c *Catalog) Get(name string) (*Runbook, bool) {
	rb, ok := c.byName[name]
	return rb, ok
}

// List returns the runbooks sorted by name. The slice is the caller's.
func (c *Catalog) List() []*Runbook { return slices.Clone(c.list) }

// Names returns the runbook names, sorted (e.g. for did-you-mean hints).
func (c *Catalog) Names() []string {
	names := make([]string, len(c.list))
	for i, rb := range c.list {
		names[i] = rb.Name
	}
	return names
}

// Triggered returns the runbooks that event on incident starts, sorted by name.
func (c *Catalog) Triggered(event string, incident map[string]any) []*Runbook {
	var out []*Runbook
	for _, rb := range c.list {
		if rb.Triggered(event, incident) {
			out = append(out, rb)
		}
	}
	return out
}

// LoadDir loads every *.yaml and *.yml file directly in dir (not in subdirectories;
// hidden files are skipped). If any file has problems, the error is a *Problems
// listing all of them, and the returned catalog holds only the runbooks that have
// none, so a caller may choose to run with those. Two files with one runbook name are
// a problem, and neither runbook is kept. Other errors (dir unreadable) return a nil
// catalog.
func LoadDir(dir string) (*Catalog, error) { return Settings{}.LoadDir(dir) }

// LoadDir is the package's LoadDir, checking the runbooks against s.
func (s Settings) LoadDir(dir string) (*Catalog, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("load runbooks: %w", err)
	}
	l := dirLoader{settings: s, firstFile: map[string]string{}, bad: map[string]bool{}}
	for _, e := range entries {
		if isRunbookFile(e) {
			l.add(filepath.Join(dir, e.Name()))
		}
	}
	good := slices.DeleteFunc(l.good, func(rb *Runbook) bool { return l.bad[rb.Name] })
	return NewCatalog(good...), l.probs.err()
}

// dirLoader collects the runbooks and problems of a directory's files.
type dirLoader struct {
	settings  Settings
	good      []*Runbook
	probs     Problems
	firstFile map[string]string // runbook name → the file that used it first
	bad       map[string]bool   // runbook names not to keep
}

func (l *dirLoader) add(file string) {
	rb, ps := loadFile(file, l.settings)
	l.probs = append(l.probs, ps...)
	if rb == nil || !nameRe.MatchString(rb.Name) {
		return
	}
	if first, dup := l.firstFile[rb.Name]; dup {
		msg := fmt.Sprintf("runbook name %q is also used by %s; names must be unique", rb.Name, first)
		l.probs = append(l.probs, Problem{File: file, Line: rb.nameLine, Message: msg})
		l.bad[rb.Name] = true
		return
	}
	l.firstFile[rb.Name] = file
	if len(ps) > 0 {
		l.bad[rb.Name] = true
		return
	}
	l.good = append(l.good, rb)
}

func isRunbookFile(e os.DirEntry) bool {
	name := e.Name()
	ext := strings.ToLower(filepath.Ext(name))
	return !e.IsDir() && !strings.HasPrefix(name, ".") && (ext == ".yaml" || ext == ".yml")
}

// LoadFile loads one runbook file. The error is a *Problems when the file has
// problems, listing all of them.
func LoadFile(path string) (*Runbook, error) { return Settings{}.LoadFile(path) }

// LoadFile is the package's LoadFile, checking the runbook against s.
func (s Settings) LoadFile(path string) (*Runbook, error) {
	rb, probs := loadFile(path, s)
	if err := probs.err(); err != nil {
		return nil, err
	}
	return rb, nil
}

// loadFile reads and parses a file, turning read errors into problems.
func loadFile(path string, s Settings) (*Runbook, Problems) {
	data, err := readLimited(path)
	if err != nil {
		return nil, Problems{{File: path, Message: err.Error()}}
	}
	return parse(path, data, s)
}

func readLimited(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", err)
	}
	if info.Size() > maxFileSize {
		return nil, fmt.Errorf("file is larger than %d KiB", maxFileSize>>10)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", err)
	}
	return data, nil
}

// Parse parses and checks one runbook; name is the file name used in problems. The
// error is a *Problems when there are any, listing all of them, and the runbook is
// then nil.
func Parse(name string, data []byte) (*Runbook, error) { return Settings{}.Parse(name, data) }

// Parse is the package's Parse, checking the runbook against s.
func (s Settings) Parse(name string, data []byte) (*Runbook, error) {
	if len(data) > maxFileSize {
		return nil, (Problems{{File: name, Message: fmt.Sprintf("file is larger than %d KiB", maxFileSize>>10)}}).err()
	}
	rb, probs := parse(name, data, s)
	if err := probs.err(); err != nil {
		return nil, err
	}
	return rb, nil
}
