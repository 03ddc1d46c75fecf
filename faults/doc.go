// Package faults holds Runbook's fault-injection tests: the real bot (in this process,
// or the real binary as a subprocess) against the Slack emulator while connections
// drop, the process is killed, Slack answers 429 and 5xx, the database is locked by
// another connection, the process is asked to stop under load, and envelopes arrive
// malformed. It has no code of its own; see the *_test.go files.
package faults
