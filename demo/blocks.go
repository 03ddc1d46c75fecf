package demo

import (
	"encoding/json"
	"regexp"
	"strings"
)

// block is the part of a Block Kit block the transcript shows.
type block struct {
	Type      string       `json:"type"`
	Text      *textObject  `json:"text"`
	Fields    []textObject `json:"fields"`
	Elements  []element    `json:"elements"`
	Accessory *element     `json:"accessory"`
	Label     *textObject  `json:"label"`
	AltText   string       `json:"alt_text"`
}

type textObject struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// element is a block element: a text or image in a context block, a button or
// another control in an actions block.
type element struct {
	Type     string          `json:"type"`
	Text     json.RawMessage `json:"text"` // a string in context blocks, a text object on buttons
	ActionID string          `json:"action_id"`
	AltText  string          `json:"alt_text"`
}

// button is one button in a message, as `click N` finds it.
type button struct {
	Channel, TS, ActionID, Label string
}

// blocks renders Block Kit as lines of text, and returns the buttons it showed.
// It reports ok false when the JSON is not a list of blocks.
func (n *names) blocks(raw json.RawMessage) (lines []string, buttons []button, ok bool) {
	var list []block
	if json.Unmarshal(raw, &list) != nil {
		return nil, nil, false
	}
	for _, b := range list {
		ls, bs := n.block(b)
		lines = append(lines, ls...)
		buttons = append(buttons, bs...)
	}
	return lines, buttons, true
}

func (n *names) block(b block) ([]string, []button) {
	switch b.Type {
	case "header":
		return []string{"== " + n.text(b.Text) + " =="}, nil
	case "section":
		return n.section(b)
	case "context":
		var parts []string
		for _, e := range b.Elements {
			parts = append(parts, n.elementText(e))
		}
		return []string{"› " + strings.Join(parts, "  ")}, nil
	case "actions":
		return n.actions(b.Elements)
	case "divider":
		return []string{"────────"}, nil
	case "image":
		return []string{"[image: " + b.AltText + "]"}, nil
	case "input":
		return []string{"[input: " + n.text(b.Label) + "]"}, nil
	}
	return []string{"[" + b.Type + " block]"}, nil
}

// section shows the text line by line, then each field as "Label: value".
func (n *names) section(b block) ([]string, []button) {
	var lines []string
	if b.Text != nil {
		lines = append(lines, labelled(splitLines(n.text(b.Text)), b.Text.Text)...)
	}
	for _, f := range b.Fields {
		lines = append(lines, n.field(f))
	}
	var buttons []button
	if b.Accessory != nil {
		ls, bs := n.actions([]element{*b.Accessory})
		lines, buttons = append(lines, ls...), bs
	}
	return lines, buttons
}

// labelled shows a section whose mrkdwn starts with a line in bold and has one more
// line ("*Rollback*\n`cmd`") as "Rollback: `cmd`", like a field.
func labelled(lines []string, raw string) []string {
	first, _, _ := strings.Cut(raw, "\n")
	if len(lines) != 2 || !boldLine.MatchString(first) {
		return lines
	}
	return []string{lines[0] + ": " + lines[1]}
}

var boldLine = regexp.MustCompile(`^\*[^*]+\*$`)

// field shows "*Label*\nvalue" as "Label: value".
func (n *names) field(f textObject) string {
	text := n.text(&f)
	label, value, ok := strings.Cut(text, "\n")
	if !ok {
		return text
	}
	return label + ": " + strings.Join(splitLines(value), " ")
}

// actions shows buttons as [Label] and other controls by their type.
func (n *names) actions(elems []element) ([]string, []button) {
	var parts []string
	var buttons []button
	for _, e := range elems {
		if e.Type != "button" {
			parts = append(parts, "["+e.Type+"]")
			continue
		}
		label := n.elementText(e)
		parts = append(parts, "["+label+"]")
		buttons = append(buttons, button{ActionID: e.ActionID, Label: label})
	}
	return []string{strings.Join(parts, " ")}, buttons
}

// elementText is the text of a context element or button.
func (n *names) elementText(e element) string {
	if e.Type == "image" {
		return "[image: " + e.AltText + "]"
	}
	var s string
	if json.Unmarshal(e.Text, &s) == nil {
		return n.mrkdwnIf(e.Type, s)
	}
	var t textObject
	if json.Unmarshal(e.Text, &t) == nil {
		return n.text(&t)
	}
	return ""
}

func (n *names) text(t *textObject) string {
	if t == nil {
		return ""
	}
	return n.mrkdwnIf(t.Type, t.Text)
}

// mrkdwnIf renders mrkdwn; plain text is shown as it is, its escapes undone.
func (n *names) mrkdwnIf(typ, s string) string {
	if typ == "mrkdwn" {
		return n.mrkdwn(s)
	}
	return entities.Replace(s)
}

// splitLines splits text into its non-empty lines.
func splitLines(s string) []string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimRight(l, " "); l != "" {
			out = append(out, l)
		}
	}
	return out
}
