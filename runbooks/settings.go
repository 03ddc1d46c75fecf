package runbooks

import (
	"fmt"

	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/runbookhq/runbook"
)

// Settings are what runbooks are checked against besides their own files: the
// configured secret names, the hosts and programs actions may reach, and the
// incidents' severities, statuses and services that triggers and incident.update name. The same
// rules (HostAllowed, ProgramAllowed) are applied again when a step runs, to what its
// templates rendered; here they catch what is literal in the file.
//
// The zero value knows no secrets and allows no program, and any host.
type Settings struct {
	// Secrets are the names under config secrets:, usable as {{secrets.NAME}} in the
	// inputs of actions that send to machines (http.request, command.run).
	Secrets []string
	// AllowedHosts are actions.http.allowedHosts: host names or IPs, each optionally
	// with ":port". Empty allows any host.
	AllowedHosts []string
	// AllowedPrograms are actions.command.allowed: program names or absolute paths.
	// Empty allows none.
	AllowedPrograms []string
	// Severities and Statuses are incidents.severities and incidents.statuses: the
	// literal values a trigger's conditions and an incident.update step may use.
	// Empty checks nothing.
	Severities, Statuses []string
	// Services are the configured service names. Empty (no services configured, so
	// an incident may name any service) checks nothing.
	Services []string
	// Roles are incidents.roles, the names {{incident.roles.NAME}} may use. Empty
	// checks nothing.
	Roles []string
	// Fields are the configured custom incident fields' names (incidents.fields), the
	// only names incident.fields.NAME and Activity.NAME may use.
	Fields []string
	// FieldSpecs are the same fields with their types, when known: a literal value an
	// incident.update step gives a field is then checked against its type.
	FieldSpecs []runbook.FieldSpec
}

// CheckURL says what is wrong with a URL an http.request step is about to call, or
// "": it must be http or https, have a host, and that host must be allowed.
func CheckURL(raw string, allowedHosts []string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("must be an http:// or https:// URL with a host, got %s", quote(raw))
	}
	if !HostAllowed(allowedHosts, u) {
		return fmt.Sprintf("host %s is not in actions.http.allowedHosts (%s)", quote(u.Host), strings.Join(allowedHosts, ", "))
	}
	return ""
}

// HostAllowed reports whether u's host is allowed: allowed is empty, or an entry names
// the host (case-insensitively) and either has no port or has u's port (80 or 443
// when u gives none).
func HostAllowed(allowed []string, u *url.URL) bool {
	if len(allowed) == 0 {
		return true
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return slices.ContainsFunc(allowed, func(entry string) bool {
		h, p := splitHostPort(strings.ToLower(strings.TrimSpace(entry)))
		return h == host && (p == "" || p == port)
	})
}

// splitHostPort splits "host", "host:port", "[v6]" and "[v6]:port".
func splitHostPort(entry string) (host, port string) {
	if h, p, err := net.SplitHostPort(entry); err == nil {
		return h, p
	}
	return strings.Trim(entry, "[]"), ""
}

// ProgramAllowed reports whether a command's program is allowed: it is, exactly, one
// of the allowed names or absolute paths. A name allows that name only (found on
// PATH), not a path that happens to end in it.
func ProgramAllowed(allowed []string, program string) bool {
	return program != "" && slices.Contains(allowed, program)
}

// checkProgram says what is wrong with a literal program, or "".
func checkProgram(program string, allowed []string) string {
	if ProgramAllowed(allowed, program) {
		return ""
	}
	if len(allowed) == 0 {
		return fmt.Sprintf("program %s is not allowed: no program is, until it is listed in actions.command.allowed", quote(program))
	}
	return fmt.Sprintf("program %s is not in actions.command.allowed (%s)", quote(program), strings.Join(allowed, ", "))
}

// literalURLPrefix returns the part of a URL template before its first tag, and
// whether that part holds the whole host (so the host can be checked before the run).
func literalURLPrefix(tmpl string) (string, bool) {
	before, _, templated := strings.Cut(tmpl, "{{")
	if !templated {
		return tmpl, true
	}
	_, rest, ok := strings.Cut(before, "://")
	return before, ok && strings.ContainsAny(rest, "/?#")
}
