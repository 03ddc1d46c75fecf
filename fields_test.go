package runbook

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFieldCheck(t *testing.T) {
	enum := FieldSpec{Name: "region", Type: FieldEnum, Values: []string{"eu", "us"}}
	for _, tt := range []struct {
		f         FieldSpec
		in, want  string
		errPrefix string
	}{
		{enum, "EU", "eu", ""},
		{enum, " us ", "us", ""},
		{enum, "mars", "", "region is one of eu, us."},
		{enum, "", "", ""},
		{FieldSpec{Name: "n", Type: FieldInteger}, "007", "7", ""},
		{FieldSpec{Name: "n", Type: FieldInteger}, "-3", "-3", ""},
		{FieldSpec{Name: "n", Type: FieldInteger}, "1.5", "", "n is a whole number"},
		{FieldSpec{Name: "u", Type: FieldURL}, "https://x.example.com/a?b=1", "https://x.example.com/a?b=1", ""},
		{FieldSpec{Name: "u", Type: FieldURL}, "javascript:alert(1)", "", "u is a web address"},
		{FieldSpec{Name: "u", Type: FieldURL}, "https://", "", "u is a web address"},
		{FieldSpec{Name: "p", Type: FieldUser}, "U012AB", "U012AB", ""},
		{FieldSpec{Name: "p", Type: FieldUser}, "alice", "", "p is a person"},
		{FieldSpec{Name: "s", Type: FieldString}, "a\nb\u202e", "a b", ""},
		{FieldSpec{Name: "s", Type: FieldString}, strings.Repeat("é", MaxFieldValue+1), "", "The value of s is 301 characters long"},
	} {
		got, err := tt.f.Check(tt.in)
		if tt.errPrefix != "" {
			if ErrorCode(err) != EINVALID || !strings.HasPrefix(ErrorMessage(err), tt.errPrefix) {
				t.Errorf("%s.Check(%q) = %q, %v; want an error starting %q", tt.f.Name, tt.in, got, err, tt.errPrefix)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s.Check(%q) = %q, %v; want %q", tt.f.Name, tt.in, got, err, tt.want)
		}
	}
}

// FuzzFieldCheck checks every field type against arbitrary values: no panic, and what
// is accepted is short, one clean line, of its type, and accepted again unchanged.
// Seeds: testdata/fuzz/FuzzFieldCheck.
func FuzzFieldCheck(f *testing.F) {
	specs := []FieldSpec{
		{Name: "s", Type: FieldString},
		{Name: "n", Type: FieldInteger},
		{Name: "e", Type: FieldEnum, Values: []string{"eu", "us", "Asia Pacific"}},
		{Name: "p", Type: FieldUser},
		{Name: "u", Type: FieldURL},
	}
	f.Fuzz(func(t *testing.T, value string) {
		for _, spec := range specs {
			got, err := spec.Check(value)
			if err != nil {
				if ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), spec.Name) {
					t.Fatalf("%s.Check(%q): %v", spec.Type, value, err)
				}
				continue
			}
			if utf8.RuneCountInString(got) > MaxFieldValue || strings.ContainsAny(got, "\n\r\t") || CleanLine(got) != got {
				t.Fatalf("%s.Check(%q) = %q: not one short clean line", spec.Type, value, got)
			}
			if again, err := spec.Check(got); err != nil || again != got {
				t.Fatalf("%s.Check(%q) = %q, but again %q, %v", spec.Type, value, got, again, err)
			}
			if got == "" {
				continue
			}
			switch spec.Type {
			case FieldInteger:
				if _, err := strconv.ParseInt(got, 10, 64); err != nil {
					t.Fatalf("integer %q", got)
				}
			case FieldEnum:
				if !slices.Contains(spec.Values, got) {
					t.Fatalf("enum %q", got)
				}
			case FieldUser:
				if !LooksLikeID(got, "UW") {
					t.Fatalf("user %q", got)
				}
			case FieldURL:
				if u, err := url.Parse(got); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					t.Fatalf("url %q", got)
				}
			}
		}
	})
}
