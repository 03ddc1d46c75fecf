package runbook

import (
	"strings"
	"unicode"
)

// CleanText removes from text a person typed what must not be stored or shown again:
// control characters (newlines and tabs stay) and the Unicode controls that reorder
// text as displayed, with which a title can read differently from what it is.
func CleanText(s string) string {
	if strings.IndexFunc(s, unwanted) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unwanted(r) {
			return -1
		}
		return r
	}, s)
}

// CleanLine is CleanText for one line, such as a title: line breaks and tabs become
// spaces.
func CleanLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, CleanText(s))
}

func unwanted(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case unicode.IsControl(r):
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true // bidirectional embeddings, overrides and isolates
	}
	return false
}
