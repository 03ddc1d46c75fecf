//go:build !unix

package store

// checkPath is the unix check's stand-in: elsewhere SQLite's own errors are reported.
func checkPath(string) error { return nil }
