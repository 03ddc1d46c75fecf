package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Set at build time with -ldflags "-X main.version=… -X main.commit=… -X main.date=…";
// commit and date matter only where the build has no VCS information (a build context
// without .git, as in the container image).
var (
	version = "dev"
	commit  = ""
	date    = ""
)

// versionLine is what `bot version` prints: the version, then the commit and its date
// when they are known, whether the tree had uncommitted changes, and the Go release.
func versionLine() string {
	v, rev, when, modified := version, commit, date, false
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version // go install …@v1.2.3
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	var details []string
	if rev != "" {
		c := "commit " + rev
		if modified {
			c += " (modified)"
		}
		details = append(details, c)
	}
	if when != "" {
		details = append(details, "committed "+when)
	}
	details = append(details, runtime.Version())
	return fmt.Sprintf("runbook %s (%s)", v, strings.Join(details, ", "))
}
