package runbook_test

import (
	"strings"
	"testing"

	"github.com/runbookhq/runbook"
)

func TestIncident_Key(t *testing.T) {
	for _, tt := range []struct {
		id   int64
		want string
	}{
		{1, "INC-1"},
		{42, "INC-42"},
		{1000000, "INC-1000000"},
	} {
		if got := (&runbook.Incident{ID: tt.id}).Key(); got != tt.want {
			t.Errorf("Key(%d) = %q, want %q", tt.id, got, tt.want)
		}
		if got := runbook.IncidentKey(tt.id); got != tt.want {
			t.Errorf("IncidentKey(%d) = %q, want %q", tt.id, got, tt.want)
		}
	}
}

func TestParseIncidentKey(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
	}{
		{"INC-42", 42},
		{"inc-42", 42},
		{"Inc-7", 7},
		{"42", 42},
		{"#INC-42", 42},
		{"#42", 42},
		{"  INC-3\n", 3},
		{"INC-007", 7},
		{"INC-9223372036854775807", 9223372036854775807},
	} {
		got, err := runbook.ParseIncidentKey(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseIncidentKey(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
		// Every key parses back to its number.
		if back, err := runbook.ParseIncidentKey(runbook.IncidentKey(tt.want)); err != nil || back != tt.want {
			t.Errorf("round trip of %d = %d, %v", tt.want, back, err)
		}
	}
}

func TestParseIncidentKey_Errors(t *testing.T) {
	long := strings.Repeat("x", 100)
	for _, tt := range []struct {
		in, msg string
	}{
		{"", "Give an incident id, like INC-42."},
		{"   ", "Give an incident id, like INC-42."},
		{"foo", "“foo” is not an incident id (like INC-42)"},
		{"INC-", "“INC-” is not an incident id (like INC-42)"},
		{"INC-0", "“INC-0” is not an incident id (like INC-42)"},
		{"0", "“0” is not an incident id (like INC-42)"},
		{"-4", "“-4” is not an incident id (like INC-42)"},
		{"+4", "“+4” is not an incident id (like INC-42)"},
		{"INC--4", "“INC--4” is not an incident id (like INC-42)"},
		{"INC-4x", "“INC-4x” is not an incident id (like INC-42)"},
		{"INC 42", "“INC 42” is not an incident id (like INC-42)"},
		{"INC-1_000", "“INC-1_000” is not an incident id (like INC-42)"},
		{"##42", "“##42” is not an incident id (like INC-42)"},
		{"R-42", "“R-42” is not an incident id (like INC-42)"},
		{"INC-٤٢", "“INC-٤٢” is not an incident id (like INC-42)"},
		{"INC-9223372036854775808", "“INC-9223372036854775808” is not an incident id (like INC-42)"},
		{long, "“" + strings.Repeat("x", 40) + "…” is not an incident id (like INC-42)"},
	} {
		id, err := runbook.ParseIncidentKey(tt.in)
		if runbook.ErrorCode(err) != runbook.EINVALID || runbook.ErrorMessage(err) != tt.msg || id != 0 {
			t.Errorf("ParseIncidentKey(%q) = %d, %v; want EINVALID %q", tt.in, id, err, tt.msg)
		}
	}
}

func FuzzParseIncidentKey(f *testing.F) {
	for _, s := range []string{"INC-42", "42", "#inc-1", "", "foo", "INC-", "INC-99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := runbook.ParseIncidentKey(s)
		if err != nil {
			if runbook.ErrorCode(err) != runbook.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		if id <= 0 {
			t.Fatalf("ParseIncidentKey(%q) = %d, want a positive id", s, id)
		}
		if back, err := runbook.ParseIncidentKey(runbook.IncidentKey(id)); err != nil || back != id {
			t.Fatalf("round trip of %d = %d, %v", id, back, err)
		}
	})
}
