package runbook

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Human ids. People see incidents, runs and approvals by a prefix and a number
// ("INC-42", "R-12", "APR-7"); the database knows them by the number alone. These are
// the one place the prefixes are written, formatted and read.
const (
	incidentKeyPrefix = "INC-"
	runKeyPrefix      = "R-"
	approvalKeyPrefix = "APR-"
	followUpKeyPrefix = "F-"
)

// IncidentKey returns the human key of the incident numbered id, such as "INC-42".
func IncidentKey(id int64) string { return incidentKeyPrefix + itoa(id) }

// RunKey returns the human key of the run numbered id, such as "R-12".
func RunKey(id int64) string { return runKeyPrefix + itoa(id) }

// ApprovalKey returns the human key of the approval request numbered id, such as "APR-7".
func ApprovalKey(id int64) string { return approvalKeyPrefix + itoa(id) }

// FollowUpKey returns the human key of the follow-up numbered id, such as "F-3".
func FollowUpKey(id int64) string { return followUpKeyPrefix + itoa(id) }

// ParseFollowUpKey reads a follow-up id as people type it: "F-3" in any letter case,
// or "3". Anything else is EINVALID.
func ParseFollowUpKey(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, Errorf(EINVALID, "Give a follow-up id, like F-3.")
	}
	id, ok := parseKey(t, followUpKeyPrefix)
	if !ok {
		return 0, Errorf(EINVALID, "“%s” is not a follow-up id (like F-3).", quoted(t))
	}
	return id, nil
}

// ParseIncidentKey reads an incident id as people type it: "INC-42" in any letter case,
// optionally after a "#", or the bare number "42". Anything else is EINVALID.
func ParseIncidentKey(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, Errorf(EINVALID, "Give an incident id, like INC-42.")
	}
	id, ok := parseKey(strings.TrimPrefix(t, "#"), incidentKeyPrefix)
	if !ok {
		return 0, Errorf(EINVALID, "“%s” is not an incident id (like INC-42)", quoted(t))
	}
	return id, nil
}

// ParseRunKey reads a run id as people type it: "R-12" in any letter case, or "12".
// Anything else is EINVALID.
func ParseRunKey(s string) (int64, error) {
	id, ok := parseKey(strings.TrimSpace(s), runKeyPrefix)
	if !ok {
		return 0, Errorf(EINVALID, "“%s” is not a run id (like R-12).", quoted(strings.TrimSpace(s)))
	}
	return id, nil
}

// ParseApprovalKey reads an approval id as people type it or a button carries it:
// "APR-7" in any letter case, or "7". Anything else is EINVALID.
func ParseApprovalKey(s string) (int64, error) {
	id, ok := parseKey(strings.TrimSpace(s), approvalKeyPrefix)
	if !ok {
		return 0, Errorf(EINVALID, "“%s” is not an approval id (like APR-7).", quoted(strings.TrimSpace(s)))
	}
	return id, nil
}

// parseKey reads "<prefix><digits>" (prefix in any letter case, or left out) as a
// positive number. strconv alone would also take a sign or underscores; an id is
// plain ASCII digits.
func parseKey(s, prefix string) (int64, bool) {
	digits := s
	if len(digits) >= len(prefix) && strings.EqualFold(digits[:len(prefix)], prefix) {
		digits = digits[len(prefix):]
	}
	if digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
		return 0, false
	}
	id, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}

// maxQuoted bounds how much of someone's input an error message repeats back.
const maxQuoted = 40

// quoted is someone's input as an error message repeats it: cut short, and with
// Slack's control characters escaped so that it cannot mention or link anything.
func quoted(s string) string {
	if utf8.RuneCountInString(s) > maxQuoted {
		s = string([]rune(s)[:maxQuoted]) + "…"
	}
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
