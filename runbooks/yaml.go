package runbooks

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/runbookhq/runbook"
	"go.yaml.in/yaml/v3"
)

// parser turns the YAML of one file into a Runbook, collecting every problem. Each
// message starts with a prefix saying where in the runbook it is ("step 3
// (slack.send_message): "), or none at the top level.
type parser struct {
	file     string
	settings Settings
	probs    Problems
}

func (p *parser) addf(n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.addAt(line, format, args...)
}

func (p *parser) addAt(line int, format string, args ...any) {
	p.probs = append(p.probs, Problem{File: p.file, Line: max(line, 0), Message: fmt.Sprintf(format, args...)})
}

// document decodes data and returns its root node, or nil when the file is not one
// YAML document that can be read as a runbook.
func (p *parser) document(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.addAt(1, "the file is empty; a runbook needs at least a name and steps")
		} else {
			p.yamlError(data, err)
		}
		return nil
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		p.addAt(next.Line, "a second YAML document starts here; put one runbook in each file")
	} else if !errors.Is(err, io.EOF) {
		p.yamlError(data, err)
	}
	if len(doc.Content) == 0 || p.aliases(doc.Content[0]) {
		return nil
	}
	return doc.Content[0]
}

var (
	yamlLineRe   = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	yamlAnchorRe = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)
)

// yamlParserProblems are the messages of the library's parser, as opposed to its
// scanner: it numbers their lines from 0.
var yamlParserProblems = []string{
	"did not find expected <stream-start>", "did not find expected <document start>",
	"did not find expected node content", "did not find expected key",
	"did not find expected '-' indicator", "did not find expected ',' or ']'",
	"did not find expected ',' or '}'", "found duplicate %YAML directive",
	"found duplicate %TAG directive", "found incompatible YAML document",
	"found undefined tag handle",
}

// yamlError reports a syntax error at its line. The library leaves the line out for
// errors on the first line, for bytes YAML refuses and for unknown anchors.
func (p *parser) yamlError(data []byte, err error) {
	msg := err.Error()
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if slices.Contains(yamlParserProblems, m[2]) {
			line++
		}
		p.addAt(line, "invalid YAML: %s", m[2])
		return
	}
	line := badByteLine(data)
	if m := yamlAnchorRe.FindStringSubmatch(msg); m != nil {
		line = lineOf(data, "*"+m[1])
	}
	p.addAt(line, "invalid YAML: %s", strings.TrimPrefix(msg, "yaml: "))
}

// lineOf returns the line of the first occurrence of s in data, or 1.
func lineOf(data []byte, s string) int {
	i := bytes.Index(data, []byte(s))
	if i < 0 {
		return 1
	}
	return 1 + bytes.Count(data[:i], []byte("\n"))
}

// badByteLine returns the line of the first byte YAML does not accept in a document
// (invalid UTF-8 or a control character), or 1.
func badByteLine(data []byte) int {
	line := 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size == 1 || r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return line
		}
		if r == '\n' {
			line++
		}
		data = data[size:]
	}
	return 1
}

// aliases reports every alias in the tree and whether there was one. Aliases are not
// supported: following them invites exponential expansion and cycles.
func (p *parser) aliases(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode {
		p.addf(n, "YAML aliases (*%s) are not supported; repeat the value instead", n.Value)
		return true
	}
	found := false
	for _, c := range n.Content {
		found = p.aliases(c) || found
	}
	return found
}

// each calls fn with every key and value of a mapping, after reporting keys that are
// not scalars or repeat an earlier key (those are skipped).
func (p *parser) each(n *yaml.Node, prefix string, fn func(k, v *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.addf(k, "%skeys must be plain words, got %s", prefix, describe(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.addf(k, "%sduplicate key %q (first at line %d)", prefix, k.Value, first)
			continue
		}
		seen[k.Value] = k.Line
		fn(k, v)
	}
}

// unknownKey reports a key that is not one of allowed, with a did-you-mean or a hint.
func (p *parser) unknownKey(k *yaml.Node, prefix, noun string, allowed []string, hint string) {
	if sug := runbook.Suggest(k.Value, allowed); sug != "" {
		p.addf(k, "%sunknown %s %s (did you mean %q?)", prefix, noun, quote(k.Value), sug)
		return
	}
	p.addf(k, "%sunknown %s %s; %s", prefix, noun, quote(k.Value), hint)
}

// str returns a scalar's text ("" for null), reporting anything else.
func (p *parser) str(v *yaml.Node, prefix, key string) string {
	if isNull(v) {
		return ""
	}
	if v.Kind != yaml.ScalarNode {
		p.addf(v, "%s%s must be text, got %s", prefix, key, describe(v))
		return ""
	}
	return v.Value
}

// boolean returns a true/false scalar, reporting anything else.
func (p *parser) boolean(v *yaml.Node, prefix, key string) bool {
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool" {
		return strings.EqualFold(v.Value, "true")
	}
	p.addf(v, "%s%s must be true or false, got %s", prefix, key, describe(v))
	return false
}

// stringList returns a scalar as a one-item list, or a list of scalars.
func (p *parser) stringList(v *yaml.Node, prefix, key string) []string {
	switch {
	case isNull(v):
		return nil
	case v.Kind == yaml.ScalarNode:
		return []string{v.Value}
	case v.Kind != yaml.SequenceNode:
		p.addf(v, "%s%s must be a list, got %s", prefix, key, describe(v))
		return nil
	}
	var out []string
	for i, item := range v.Content {
		if item.Kind != yaml.ScalarNode || isNull(item) {
			p.addf(item, "%s%s[%d] must be text, got %s", prefix, key, i, describe(item))
			continue
		}
		out = append(out, item.Value)
	}
	return out
}

// items returns the entries of a list; a single mapping counts as a one-item list when
// single is true.
func (p *parser) items(v *yaml.Node, prefix, key, what string, single bool) []*yaml.Node {
	switch {
	case isNull(v):
		return nil
	case v.Kind == yaml.SequenceNode:
		return v.Content
	case v.Kind == yaml.MappingNode && single:
		return []*yaml.Node{v}
	}
	p.addf(v, "%s%s must be %s, got %s", prefix, key, what, describe(v))
	return nil
}

// scalarAt returns the text of a mapping's scalar value for key, or "".
func scalarAt(n *yaml.Node, key string) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k, v := n.Content[i], n.Content[i+1]; k.Value == key && v.Kind == yaml.ScalarNode {
			return v.Value
		}
	}
	return ""
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe says what a node is, for "got …" in messages.
func describe(n *yaml.Node) string {
	switch {
	case isNull(n):
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	}
	return quote(n.Value)
}

// quote quotes text for a message, shortened when long.
func quote(s string) string {
	const maxRunes = 60
	if utf8.RuneCountInString(s) > maxRunes {
		s = string([]rune(s)[:maxRunes]) + "…"
	}
	return strconv.Quote(s)
}

// scalarValue converts a scalar by its YAML tag: null, bool, int, float, else text.
func scalarValue(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		return strings.EqualFold(n.Value, "true")
	case "!!int":
		var i int
		if n.Decode(&i) == nil {
			return i
		}
		var f float64
		if n.Decode(&f) == nil {
			return f
		}
	case "!!float":
		var f float64
		if n.Decode(&f) == nil {
			return f
		}
	}
	return n.Value
}
