package runbook

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Custom incident field types (config incidents.fields[].type).
const (
	FieldString  = "string"
	FieldInteger = "integer"
	FieldEnum    = "enum"
	FieldUser    = "user"
	FieldURL     = "url"
)

// FieldTypes lists the custom field types, in the order messages name them.
var FieldTypes = []string{FieldString, FieldInteger, FieldEnum, FieldUser, FieldURL}

// MaxFieldValue caps a custom field's value, in characters: a field is a label shown in
// the announcement and the topic, not a place for paragraphs (notes are).
const MaxFieldValue = 300

// MaxSummary caps an incident's summary, in characters.
const MaxSummary = 2000

// ReservedFieldNames cannot name a custom field: they are the incident's own values
// under incident.* and Activity.* in templates, or the keys of update and declare.
var ReservedFieldNames = []string{"id", "number", "title", "severity", "sev", "status", "service",
	"commander", "commander_id", "channel", "channel_id", "url", "created_at", "fields", "summary",
	"slack_channel", "note", "roles"}

// fieldName is what a custom field's name may look like: a word a template can name
// ({{incident.fields.NAME}}) and a command can set (NAME=value), lowercase because
// command keys are read lowercased.
var fieldName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// FieldSpec is one configured custom incident field.
type FieldSpec struct {
	Name string
	// Type is one of FieldTypes.
	Type string
	// Values are the allowed values of an enum field.
	Values []string
	// Required fields must have a value when an incident is declared; Default, when
	// set, is that value.
	Required    bool
	Default     string
	Description string
}

// Problem says what is wrong with the specification, or "": how configuration
// validation reports a field.
func (f FieldSpec) Problem() string {
	switch {
	case !fieldName.MatchString(f.Name):
		return "name must be lowercase letters, digits and _, starting with a letter (at most 40)"
	case slices.Contains(ReservedFieldNames, f.Name):
		return fmt.Sprintf("name %q is taken by the incident itself; reserved: %s", f.Name, strings.Join(ReservedFieldNames, ", "))
	case !slices.Contains(FieldTypes, f.Type):
		msg := fmt.Sprintf("type %q is not a field type; use one of %s", f.Type, strings.Join(FieldTypes, ", "))
		if s := Suggest(f.Type, FieldTypes); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return msg
	case f.Type == FieldEnum && len(f.Values) == 0:
		return "an enum needs values: the list of allowed values"
	case f.Type != FieldEnum && len(f.Values) > 0:
		return "values are for enum fields only"
	}
	seen := map[string]bool{}
	for _, v := range f.Values {
		if strings.TrimSpace(v) == "" || seen[v] {
			return "values must be distinct and not empty"
		}
		seen[v] = true
	}
	if f.Default != "" {
		if f.Type == FieldUser && !LooksLikeID(f.Default, "UW") {
			return "default of a user field must be a user id (U012AB3CD)"
		}
		if _, err := f.Check(f.Default); err != nil {
			return "default: " + ErrorMessage(err)
		}
	}
	return ""
}

// Check returns value as the field stores it, or an EINVALID error saying what a
// value must be. A user field's value must already be a user id: who a mention or
// @handle names is for the caller to ask Slack. An empty value clears the field.
func (f FieldSpec) Check(value string) (string, error) {
	value = strings.TrimSpace(CleanLine(value))
	if value == "" {
		return "", nil
	}
	if n := utf8.RuneCountInString(value); n > MaxFieldValue {
		return "", Errorf(EINVALID, "The value of %s is %d characters long; keep it under %d.", f.Name, n, MaxFieldValue)
	}
	switch f.Type {
	case FieldInteger:
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return "", Errorf(EINVALID, "%s is a whole number, like %s=3.", f.Name, f.Name)
		}
		return strconv.FormatInt(n, 10), nil
	case FieldEnum:
		for _, v := range f.Values {
			if strings.EqualFold(v, value) {
				return v, nil
			}
		}
		msg := fmt.Sprintf("%s is one of %s.", f.Name, strings.Join(f.Values, ", "))
		if s := Suggest(strings.ToLower(value), f.Values); s != "" {
			msg = fmt.Sprintf("%s is one of %s (did you mean %s?).", f.Name, strings.Join(f.Values, ", "), s)
		}
		return "", Errorf(EINVALID, "%s", msg)
	case FieldURL:
		u, err := url.Parse(value)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(value, " <>|") {
			return "", Errorf(EINVALID, "%s is a web address starting with https:// or http://.", f.Name)
		}
		return value, nil
	case FieldUser:
		if !LooksLikeID(value, "UW") {
			return "", Errorf(EINVALID, "%s is a person: mention them (%s=@alice).", f.Name, f.Name)
		}
		return value, nil
	}
	return value, nil
}

// FieldByName returns the spec named name.
func FieldByName(specs []FieldSpec, name string) (FieldSpec, bool) {
	for _, f := range specs {
		if f.Name == name {
			return f, true
		}
	}
	return FieldSpec{}, false
}

// FieldNames lists the names of specs, in order.
func FieldNames(specs []FieldSpec) []string {
	names := make([]string, len(specs))
	for i, f := range specs {
		names[i] = f.Name
	}
	return names
}
