//go:build unix

package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// checkPath says in words why the database at path could not be opened or written.
// SQLite's own errors do not name the cause: a read-only directory comes back as
// "unable to open database file: no such file or directory", and a read-only file
// opens without complaint and fails at the first write.
func checkPath(path string) error {
	dir := filepath.Dir(path)
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("the directory %s does not exist: create it, or point store.path elsewhere", dir)
	case err != nil:
		return fmt.Errorf("cannot use the directory %s: %w", dir, err)
	case !info.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	}
	// SQLite creates the -wal and -shm files beside the database, so the directory
	// must be writable even when the database file exists.
	if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
		return fmt.Errorf("cannot create files in %s, where the database and its -wal and -shm files live (%s): %w",
			dir, owner(info), err)
	}
	info, err = os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil // created by the first open
	case err != nil:
		return fmt.Errorf("cannot use %s: %w", path, err)
	case info.IsDir():
		return fmt.Errorf("%s is a directory, not a database file", path)
	}
	if err := unix.Access(path, unix.R_OK|unix.W_OK); err != nil {
		return fmt.Errorf("cannot write the database file %s (%s): %w", path, owner(info), err)
	}
	return nil
}

// owner describes who may write a file, for the operator who must fix its
// permissions: its owner, mode, and who the bot runs as.
func owner(info fs.FileInfo) string {
	desc := "mode " + info.Mode().Perm().String()
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		desc = fmt.Sprintf("owned by uid %d, %s", st.Uid, desc)
	}
	return fmt.Sprintf("%s; the bot runs as uid %d", desc, os.Getuid())
}
