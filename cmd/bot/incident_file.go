package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/runbookhq/runbook"
)

// maxIncidentFile bounds what bot plan reads as an incident: a few lines in practice.
const maxIncidentFile = 1 << 20

// incidentKeys are the keys an incident file may have.
var incidentKeys = []string{"id", "title", "severity", "service", "status", "commander", "channel", "fields"}

// incidentRules are what an incident file's values are checked against: the
// configured severities and statuses.
type incidentRules struct {
	Severities []string
	Statuses   []string
	Now        time.Time
}

// lineError is a problem at a line of the incident file.
type lineError struct {
	Line int
	Msg  string
}

func (e *lineError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

func problemAt(n *yaml.Node, format string, args ...any) error {
	return &lineError{Line: n.Line, Msg: fmt.Sprintf(format, args...)}
}

// parseIncident reads an incident from YAML, as a plan renders runbooks against it:
//
//	id: INC-4            # what {{incident.id}} shows; INC-0 when left out
//	title: Checkout is failing
//	severity: sev1       # one of incidents.severities
//	service: checkout
//	status: mitigating   # one of incidents.statuses; the first when left out
//	commander: U0123ABC  # a user id
//	channel: C0123ABC    # the incident channel's id
//	fields: { region: eu-west-1 }
//
// It is strict, as the configuration and runbook files are: an unknown key is an
// error (with a did-you-mean), and so is a value of the wrong kind.
func parseIncident(data []byte, rules incidentRules) (*runbook.Incident, error) {
	if len(data) > maxIncidentFile {
		return nil, &lineError{Msg: fmt.Sprintf("the file is larger than %d KiB; an incident takes a few lines", maxIncidentFile>>10)}
	}
	root, err := incidentDocument(data)
	if err != nil {
		return nil, err
	}
	inc := &runbook.Incident{Fields: map[string]string{}, CreatedAt: rules.Now, UpdatedAt: rules.Now}
	if len(rules.Statuses) > 0 {
		inc.Status = rules.Statuses[0]
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, problemAt(k, "keys must be plain words")
		}
		if seen[k.Value] {
			return nil, problemAt(k, "%q is given twice", k.Value)
		}
		seen[k.Value] = true
		if err := setIncidentKey(inc, k, v, rules); err != nil {
			return nil, err
		}
	}
	return inc, nil
}

// incidentDocument decodes the file's one YAML document and returns its mapping.
func incidentDocument(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &lineError{Msg: "the file is empty; give at least a title"}
		}
		return nil, &lineError{Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, &lineError{Line: next.Line, Msg: "a second YAML document starts here; give one incident"}
	case !errors.Is(err, io.EOF):
		return nil, &lineError{Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &lineError{Line: doc.Line, Msg: "an incident is a mapping of keys such as title: and severity:"}
	}
	if alias := findAlias(doc.Content[0]); alias != nil {
		return nil, problemAt(alias, "YAML aliases (*%s) are not supported; repeat the value instead", alias.Value)
	}
	return doc.Content[0], nil
}

func findAlias(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode {
		return n
	}
	for _, c := range n.Content {
		if a := findAlias(c); a != nil {
			return a
		}
	}
	return nil
}

// setIncidentKey sets what one key of the file says.
func setIncidentKey(inc *runbook.Incident, k, v *yaml.Node, rules incidentRules) error {
	if k.Value == "fields" {
		return setFields(inc, v)
	}
	if !slices.Contains(incidentKeys, k.Value) {
		if s := runbook.Suggest(strings.ToLower(k.Value), incidentKeys); s != "" {
			return problemAt(k, "unknown key %q (did you mean %q?)", k.Value, s)
		}
		return problemAt(k, "unknown key %q; an incident has %s", k.Value, strings.Join(incidentKeys, ", "))
	}
	text, err := scalarText(k.Value, v)
	if err != nil {
		return err
	}
	switch k.Value {
	case "id":
		id, err := runbook.ParseIncidentKey(text)
		if err != nil {
			return problemAt(v, "id: %s", runbook.ErrorMessage(err))
		}
		inc.ID = id
	case "title":
		inc.Title = runbook.CleanLine(text)
	case "service":
		inc.Service = runbook.CleanLine(text)
	case "severity":
		inc.Severity, err = oneOf(v, "severity", text, rules.Severities, "incidents.severities")
	case "status":
		inc.Status, err = oneOf(v, "status", text, rules.Statuses, "incidents.statuses")
	case "commander":
		id, ok := runbook.UserRef(text)
		if !ok {
			return problemAt(v, "commander must be a Slack user id like U0123ABC, got %q", text)
		}
		inc.Commander = id
	case "channel":
		id := strings.TrimSuffix(strings.TrimPrefix(text, "<#"), ">")
		id, _, _ = strings.Cut(id, "|")
		if !runbook.LooksLikeID(id, "CGD") {
			return problemAt(v, "channel must be a Slack channel id like C0123ABC, got %q", text)
		}
		inc.Channel = id
	}
	return err
}

// scalarText is a value that must be text (a number or a word is text too).
func scalarText(key string, v *yaml.Node) (string, error) {
	if v.Kind != yaml.ScalarNode || v.ShortTag() == "!!null" {
		return "", problemAt(v, "%s must be text", key)
	}
	return runbook.CleanText(v.Value), nil
}

// oneOf checks a value against the configured list it must be one of.
func oneOf(v *yaml.Node, key, text string, allowed []string, setting string) (string, error) {
	for _, a := range allowed {
		if strings.EqualFold(a, text) {
			return a, nil
		}
	}
	return "", problemAt(v, "%s %q is not one of %s (%s)", key, text, strings.Join(allowed, ", "), setting)
}

// setFields reads fields: a mapping of names to text.
func setFields(inc *runbook.Incident, v *yaml.Node) error {
	if v.ShortTag() == "!!null" {
		return nil
	}
	if v.Kind != yaml.MappingNode {
		return problemAt(v, "fields must be a mapping of names to text")
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, fv := v.Content[i], v.Content[i+1]
		name := runbook.CleanLine(k.Value)
		if k.Kind != yaml.ScalarNode || strings.TrimSpace(name) == "" {
			return problemAt(k, "a field's name must be a plain word")
		}
		if _, dup := inc.Fields[name]; dup {
			return problemAt(k, "field %q is given twice", name)
		}
		text, err := scalarText("field "+name, fv)
		if err != nil {
			return err
		}
		inc.Fields[name] = text
	}
	return nil
}
