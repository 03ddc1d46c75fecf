package handlers

import (
	"reflect"
	"testing"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		in    string
		words []string
		opts  map[string]string
	}{
		{`INC-4 status=mitigating`, []string{"INC-4"}, map[string]string{"status": "mitigating"}},
		{`INC-4 note="db is slow" SEVERITY=sev2`, []string{"INC-4"}, map[string]string{"note": "db is slow", "severity": "sev2"}},
		{`INC-4 note=“smart quotes” `, []string{"INC-4"}, map[string]string{"note": "smart quotes"}},
		{`commander=<@U123|alice>`, nil, map[string]string{"commander": "alice"}},
		{`sev1 a=b=c`, []string{"sev1"}, map[string]string{"a": "b=c"}},
		{`=x word`, []string{"=x", "word"}, map[string]string{}},
		{`count=`, nil, map[string]string{"count": ""}},
		{`title with  spaces`, []string{"title", "with", "spaces"}, map[string]string{}},
	}
	for _, tt := range tests {
		tokens, err := Tokenize(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		a := parseArgs(tokens)
		var words []string
		for _, w := range a.words {
			words = append(words, w.Text)
		}
		opts := map[string]string{}
		for k, v := range a.opts {
			opts[k] = v.Text
		}
		if !reflect.DeepEqual(words, tt.words) || !reflect.DeepEqual(opts, tt.opts) {
			t.Errorf("parseArgs(%q) = %q %q, want %q %q", tt.in, words, opts, tt.words, tt.opts)
		}
	}
	tokens, _ := Tokenize(`commander=<@U123|alice>`)
	if id, ok := userID(parseArgs(tokens).opts["commander"]); !ok || id != "U123" {
		t.Errorf("commander=<@U123> gave %q", id)
	}
}

func TestTextAfterColon(t *testing.T) {
	tests := []struct{ in, want string }{
		{"to <#C1|ops>: deploys paused", "deploys paused"},
		{"to #ops: note: two colons", "note: two colons"},
		{"to #ops: see <https://x.example/a:b|this>", "see <https://x.example/a:b|this>"},
		{"to #ops: :fire: hot", ":fire: hot"},
		{"to #ops:", ""},
		{"to #ops no colon", ""},
	}
	for _, tt := range tests {
		if got := textAfterColon(tt.in); got != tt.want {
			t.Errorf("textAfterColon(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIds(t *testing.T) {
	for in, want := range map[string]bool{"INC-4": true, "inc-12": true, "#INC-3": true, "42": true, "INC-": false, "sev1": false, "": false} {
		if got := looksLikeIncident(in); got != want {
			t.Errorf("looksLikeIncident(%q) = %v", in, got)
		}
	}
}

// FuzzCommandText feeds arbitrary command text through the whole parse: tokens,
// options, and the post/show separator. It must never panic.
func FuzzCommandText(f *testing.F) {
	for _, s := range []string{`update INC-4 status=mitigating note="x y"`, `post to <#C1|ops>: hi :fire:`, `commander=<@U1>`, `a= =b "`, "declare sev1 “x”"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tokens, err := Tokenize(s)
		if err != nil {
			return
		}
		a := parseArgs(tokens)
		_ = a.text(0)
		_ = textAfterColon(s)
		if len(a.words)+len(a.opts) > len(tokens) {
			t.Fatalf("more arguments than tokens from %q", s)
		}
	})
}
