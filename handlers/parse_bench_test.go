package handlers

import "testing"

// Command texts as people type them, from short to the longest common form.
var benchCommands = []struct{ name, text string }{
	{"Status", "status INC-1"},
	{"Declare", `declare sev1 payments “Checkout errors after the 14:05 deploy” commander=<@U0123ABCD|alice>`},
	{"Update", `update INC-42 status=mitigating severity=sev2 commander=<@U0123ABCD|alice> note="rolled back to v1.4.2; error rate &lt; 1%"`},
}

func BenchmarkTokenize(b *testing.B) {
	for _, bc := range benchCommands {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Tokenize(bc.text); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseArgs(b *testing.B) {
	for _, bc := range benchCommands {
		tokens, err := Tokenize(bc.text)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				parseArgs(tokens[1:])
			}
		})
	}
}

// BenchmarkParseCommand is what every command pays before its handler runs.
func BenchmarkParseCommand(b *testing.B) {
	for _, bc := range benchCommands {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tokens, err := Tokenize(bc.text)
				if err != nil {
					b.Fatal(err)
				}
				parseArgs(tokens[1:])
			}
		})
	}
}
