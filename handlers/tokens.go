package handlers

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/runbookhq/runbook/slackui"
)

// TokenKind says what a token of command text is.
type TokenKind int

// Kinds of token. Slack encodes mentions, channels, groups and links as <…> in the
// text it sends; each becomes one token carrying its id.
const (
	Word    TokenKind = iota // plain or quoted text
	User                     // <@U123> or <@U123|name>
	Channel                  // <#C123|name>
	Group                    // <!subteam^S123|@handle>
	Link                     // <https://…|label>
	Special                  // <!here>, <!channel>, <!everyone>
)

// Token is one unit of command text, Slack's encoding undone.
type Token struct {
	Kind TokenKind
	// Text is the word as the person meant it (entities decoded, quotes removed); for a
	// link the URL, for a channel "#name", for a user or group its label or id.
	Text string
	// ID is the Slack id of a user, channel or group.
	ID     string
	Quoted bool
}

// quotePairs maps each opening quote to the quotes that may close it. Phones type
// “smart” quotes; people mix them with straight ones.
var quotePairs = map[rune]string{
	'"':  `"”“`,
	'“':  `”"“`,
	'”':  `”"“`,
	'‘':  `’'‘`,
	'’':  `’'‘`,
	'\'': `'’‘`,
	'«':  `»`,
}

// Tokenize splits Slack-encoded command text into tokens. Words are separated by any
// white space; a quoted phrase is one word (quotes may also follow "=" as in
// note="db is slow"); <…> sequences become User, Channel, Group, Link or Special tokens.
func Tokenize(text string) ([]Token, error) {
	var (
		tokens []Token
		word   strings.Builder
		inWord bool
		quoted bool
	)
	flush := func() {
		if inWord {
			tokens = append(tokens, Token{Kind: Word, Text: slackui.Unescape(word.String()), Quoted: quoted})
		}
		word.Reset()
		inWord, quoted = false, false
	}
	runes := []rune(text)
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		switch {
		case unicode.IsSpace(r):
			flush()
		case r == '<':
			end := indexRune(runes, i+1, '>')
			if end < 0 {
				word.WriteRune(r)
				inWord = true
				continue
			}
			flush()
			tokens = append(tokens, special(string(runes[i+1:end])))
			i = end
		case isOpenQuote(r) && (!inWord || strings.HasSuffix(word.String(), "=")):
			end := closingQuote(runes, i+1, r)
			if end < 0 {
				return nil, fmt.Errorf("a quote (%c) is not closed", r)
			}
			word.WriteString(string(runes[i+1 : end]))
			inWord, quoted = true, true
			i = end
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	flush()
	return tokens, nil
}

func isOpenQuote(r rune) bool {
	_, ok := quotePairs[r]
	return ok
}

func indexRune(runes []rune, from int, r rune) int {
	for i := from; i < len(runes); i++ {
		if runes[i] == r {
			return i
		}
	}
	return -1
}

func closingQuote(runes []rune, from int, open rune) int {
	closers := quotePairs[open]
	for i := from; i < len(runes); i++ {
		if strings.ContainsRune(closers, runes[i]) {
			return i
		}
	}
	return -1
}

// special decodes the inside of a <…> sequence.
func special(inner string) Token {
	body, label, _ := strings.Cut(inner, "|")
	label = slackui.Unescape(label)
	switch {
	case strings.HasPrefix(body, "@"):
		return Token{Kind: User, ID: body[1:], Text: orDefault(label, body[1:])}
	case strings.HasPrefix(body, "#"):
		return Token{Kind: Channel, ID: body[1:], Text: "#" + strings.TrimPrefix(orDefault(label, body[1:]), "#")}
	case strings.HasPrefix(body, "!subteam^"):
		id := strings.TrimPrefix(body, "!subteam^")
		return Token{Kind: Group, ID: id, Text: orDefault(label, id)}
	case strings.HasPrefix(body, "!"):
		name, _, _ := strings.Cut(body[1:], "^")
		return Token{Kind: Special, Text: "@" + name}
	case strings.Contains(body, ":"):
		return Token{Kind: Link, Text: slackui.Unescape(body)}
	}
	// Not a form Slack produces: keep it as written.
	return Token{Kind: Word, Text: "<" + slackui.Unescape(inner) + ">"}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
