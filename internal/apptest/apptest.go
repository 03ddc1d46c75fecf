// Package apptest starts Runbook against the Slack emulator the same way everywhere: in
// the tests, in the demo (`bot demo`) and in the load generator. It offers the parts
// apart — a workspace (the emulator, with people and channels added by name), a
// configuration pointed at it, runbook and configuration files, the store, the app
// running in a goroutine the kit owns or the binary as a subprocess, a log buffer, and
// waits that wake on what they wait for — and, for tests, Kit, which puts them together
// and cleans up after the test.
//
// The demo is part of the bot binary, so this package must not import package testing:
// tests hand it their *testing.T as a TB; the demo and the load generator use the
// functions that return errors.
package apptest

import "time"

// TB is the part of testing.TB the kit uses; *testing.T and *testing.B satisfy it.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Cleanup(func())
	TempDir() string
}

// Patience bounds every wait of a Kit: long enough for a loaded machine, so that
// running out of it means what was awaited will not happen. It only ever fails a test;
// no test asserts how long something took.
const Patience = time.Minute

// Tick is how often Wait looks again at a condition between changes in the emulator,
// for what only the database shows.
const Tick = 20 * time.Millisecond
