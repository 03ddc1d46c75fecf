//go:build unix

package app

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/runbookhq/runbook"
)

// instanceLock is held by a running bot on its database, for as long as it runs: two
// bots on one database would both take Slack's events and race on every incident. It
// is an flock on a file beside the database (the database's own file is locked by
// SQLite in ways that let several connections in), holding the holder's pid for the
// message the next one prints. The kernel releases it when the process ends however it
// ends, so a restart after a crash or SIGKILL is never refused. The descriptor is
// close-on-exec (Go's default), so commands a runbook starts do not inherit it.
type instanceLock struct{ f *os.File }

// lockDatabase takes the lock for the database at dbPath, or says who holds it.
func lockDatabase(dbPath string) (*instanceLock, error) {
	path := dbPath + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock the database: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		holder := holderOf(f)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, runbook.Errorf(runbook.ECONFLICT,
				"another Runbook (%s) is running on %s; run exactly one per database and Slack app", holder, dbPath)
		}
		return nil, fmt.Errorf("lock the database with %s: %w", path, err)
	}
	if err := writePID(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock the database: write %s: %w", path, err)
	}
	return &instanceLock{f: f}, nil
}

// holderOf reads the pid the lock's holder wrote. The holder may not have written it
// yet, just after it took the lock.
func holderOf(f *os.File) string {
	b, err := io.ReadAll(io.LimitReader(f, 32))
	if pid, convErr := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && convErr == nil {
		return "pid " + strconv.Itoa(pid)
	}
	return "pid unknown"
}

func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

// release empties the file and lets the lock go. The file stays: removing it would let
// a process that opened it just before lock a file no one else can see.
func (l *instanceLock) release() {
	l.f.Truncate(0)
	l.f.Close()
}
