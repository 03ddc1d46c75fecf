package handlers

import (
	"reflect"
	"testing"
)

func TestTokenize(t *testing.T) {
	w := func(s string) Token { return Token{Kind: Word, Text: s} }
	q := func(s string) Token { return Token{Kind: Word, Text: s, Quoted: true} }
	tests := []struct {
		name string
		in   string
		want []Token
	}{
		{"Empty", "", nil},
		{"Words", "declare sev1 checkout", []Token{w("declare"), w("sev1"), w("checkout")}},
		{"ExtraSpaces", "  help\t\n status  ", []Token{w("help"), w("status")}},
		{"NonBreakingSpace", "help\u00a0status", []Token{w("help"), w("status")}},
		{"StraightQuotes", `declare sev1 "checkout is down"`, []Token{w("declare"), w("sev1"), q("checkout is down")}},
		{"SmartQuotes", "declare sev1 “checkout is down”", []Token{w("declare"), w("sev1"), q("checkout is down")}},
		{"MixedQuotes", "note “db slow\"", []Token{w("note"), q("db slow")}},
		{"SingleSmartQuotes", "note ‘db slow’", []Token{w("note"), q("db slow")}},
		{"ApostropheInWord", "it's down", []Token{w("it's"), w("down")}},
		{"QuotedValue", `update INC-4 note="db is slow" status=mitigating`,
			[]Token{w("update"), w("INC-4"), q("note=db is slow"), w("status=mitigating")}},
		{"SmartQuotedValue", "update note=“db slow”", []Token{w("update"), q("note=db slow")}},
		{"User", "invite <@U123ABC>", []Token{w("invite"), {Kind: User, ID: "U123ABC", Text: "U123ABC"}}},
		{"UserWithName", "<@U1|alice>", []Token{{Kind: User, ID: "U1", Text: "alice"}}},
		{"Channel", "post to <#C42|ops-alerts>: hi", []Token{w("post"), w("to"), {Kind: Channel, ID: "C42", Text: "#ops-alerts"}, w(":"), w("hi")}},
		{"ChannelNoName", "<#C42>", []Token{{Kind: Channel, ID: "C42", Text: "#C42"}}},
		{"Group", "<!subteam^S9|@oncall>", []Token{{Kind: Group, ID: "S9", Text: "@oncall"}}},
		{"Here", "<!here>", []Token{{Kind: Special, Text: "@here"}}},
		{"Link", "<https://status.example.com/a?b=1&amp;c=2|status>", []Token{{Kind: Link, Text: "https://status.example.com/a?b=1&c=2"}}},
		{"Entities", "a &amp; b &lt;x&gt;", []Token{w("a"), w("&"), w("b"), w("<x>")}},
		{"UnclosedAngle", "a <b", []Token{w("a"), w("<b")}},
		{"EntityInQuotes", `"a &amp; b"`, []Token{q("a & b")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Tokenize(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Tokenize(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestTokenizeErrors(t *testing.T) {
	for _, in := range []string{`declare "oops`, "note “never closed"} {
		if _, err := Tokenize(in); err == nil {
			t.Errorf("Tokenize(%q) accepted an unclosed quote", in)
		}
	}
}

func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"help", `declare sev1 "x y"`, "<@U1|a> <#C1|b> <!subteam^S1|@c>", "“a” ‘b’ «c»", "a=\"b", "&amp;&lt;", "<<<>>>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tokens, err := Tokenize(s)
		if err != nil {
			return
		}
		for _, tok := range tokens {
			if tok.Kind == Word && tok.Text == "" && !tok.Quoted {
				t.Fatalf("empty unquoted word from %q", s)
			}
		}
	})
}
