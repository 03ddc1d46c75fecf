package config

import (
	"log/slog"
)

// redacted is what a non-empty Secret prints as.
const redacted = "[redacted]"

// Secret is a string that must not be printed: a Slack token. Every way of
// turning it into text (fmt verbs including %#v, slog, encoding/json,
// encoding.TextMarshaler, YAML) prints "[redacted]" instead, or "" when the
// secret is empty, so that "not set" stays visible. Use Reveal to get the
// value for the one place that needs it (the Slack client).
type Secret string

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret is non-empty.
func (s Secret) IsSet() bool { return s != "" }

// String returns "[redacted]", or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return "config.Secret(" + quote(s.String()) + ")" }

// LogValue keeps log/slog from printing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText keeps encoding/json, YAML and other encoders from printing the
// value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func quote(s string) string {
	return `"` + s + `"`
}
