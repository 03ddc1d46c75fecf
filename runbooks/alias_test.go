package runbooks

import (
	"strings"
	"testing"
)

// TestHarnessInputNames: slack.create_channel takes description and is_private, as
// Harness names them, as purpose and private; giving both names of one input is an error.
func TestHarnessInputNames(t *testing.T) {
	rb, err := Parse("h.yaml", []byte(`name: h
steps:
  - action: slack.create_channel
    with: {name: inc, description: "Why we are here", is_private: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	with := rb.Steps[0].With
	if with["purpose"] != "Why we are here" || with["private"] != true {
		t.Fatalf("with = %#v", with)
	}
	_, err = Parse("h.yaml", []byte(`name: h
steps:
  - action: slack.create_channel
    with: {name: inc, purpose: a, description: b}
`))
	if err == nil || !strings.Contains(err.Error(), "purpose and description are the same input; give one of them") {
		t.Fatalf("both names: %v", err)
	}
}
