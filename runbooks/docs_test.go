package runbooks_test

import (
	"os"
	"strings"
	"testing"

	"github.com/runbookhq/runbook/runbooks"
)

// TestDocsCoverEveryAction keeps the runbook guide in step with the actions: every
// action, input and output the code declares is documented.
func TestDocsCoverEveryAction(t *testing.T) {
	doc, err := os.ReadFile("../docs/runbooks.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	for _, name := range runbooks.ActionNames() {
		spec := runbooks.Actions[name]
		start := strings.Index(text, "### "+name+"\n")
		if start < 0 {
			t.Errorf("docs/runbooks.md has no section for %s", name)
			continue
		}
		section := text[start:]
		if end := strings.Index(section[4:], "\n### "); end >= 0 {
			section = section[:end+4]
		}
		for _, in := range spec.Inputs {
			if !strings.Contains(section, "`"+in.Name+"`") {
				t.Errorf("%s: input %s is not documented", name, in.Name)
			}
		}
		for _, out := range spec.Outputs {
			if !strings.Contains(section, "`"+out+"`") {
				t.Errorf("%s: output %s is not documented", name, out)
			}
		}
	}
	for _, f := range runbooks.IncidentFields {
		if !strings.Contains(text, "incident."+f) && !strings.Contains(text, "."+f) {
			t.Errorf("template variable incident.%s is not documented", f)
		}
	}
}
