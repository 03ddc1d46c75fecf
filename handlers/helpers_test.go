package handlers_test

import (
	"encoding/json"
	"testing"

	"github.com/runbookhq/runbook"
)

// blocksText returns the reply's blocks as JSON, to search in.
func blocksText(tb testing.TB, reply *runbook.Reply) string {
	tb.Helper()
	b, err := json.Marshal(reply.Blocks)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
