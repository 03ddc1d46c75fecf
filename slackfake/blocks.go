package slackfake

import (
	"encoding/json"
	"fmt"
	"slices"
	"unicode/utf8"
)

// Block Kit limits enforced on messages and views.
const (
	maxMessageBlocks = 50
	maxViewBlocks    = 100
	maxTextLen       = 40000
)

var knownBlockTypes = []string{
	"section", "divider", "image", "actions", "context", "context_actions", "file", "input",
	"header", "rich_text", "call", "video", "markdown", "table", "data_table",
	"data_visualization", "task_card", "plan", "alert", "auth_provider", "card", "carousel",
	"container", "layout",
}

// parseBlocks validates a JSON blocks argument and returns the blocks as
// Slack stores them: every block gets a block_id and every interactive
// element an action_id. ptr is the JSON pointer of the blocks in Slack's
// error messages ("/blocks" or "/view/blocks").
func parseBlocks(raw string, maxBlocks int, ptr string) (json.RawMessage, *apiError) {
	var blocks []any
	if err := decodeJSON([]byte(raw), &blocks); err != nil {
		return nil, fail("invalid_blocks_format")
	}
	if err := normalizeBlocks(blocks, maxBlocks, ptr); err != nil {
		return nil, err
	}
	if len(blocks) == 0 {
		return nil, nil
	}
	return mustJSON(blocks), nil
}

func blockErr(msg, ptr string) *apiError {
	return failMsg("invalid_blocks", fmt.Sprintf("[ERROR] %s [json-pointer:%s]", msg, ptr))
}

func normalizeBlocks(blocks []any, maxBlocks int, ptr string) *apiError {
	if len(blocks) > maxBlocks {
		return blockErr(fmt.Sprintf("no more than %d items allowed", maxBlocks), ptr)
	}
	seen := map[string]bool{}
	for i, b := range blocks {
		p := fmt.Sprintf("%s/%d", ptr, i)
		blk, ok := b.(map[string]any)
		if !ok {
			return blockErr("expected an object", p)
		}
		typ := str(blk, "type")
		if typ == "" {
			return blockErr("missing required field: type", p)
		}
		if !slices.Contains(knownBlockTypes, typ) {
			return blockErr("unsupported type: "+typ, p+"/type")
		}
		id := str(blk, "block_id")
		if id == "" {
			id = randAlnum(5)
			blk["block_id"] = id
		} else if utf8.RuneCountInString(id) > 255 {
			return blockErr("must be less than 256 characters", p+"/block_id")
		}
		if seen[id] {
			return blockErr("duplicate block_id: "+id, p+"/block_id")
		}
		seen[id] = true
		if err := checkBlock(blk, typ, p); err != nil {
			return err
		}
	}
	return nil
}

func checkBlock(blk map[string]any, typ, p string) *apiError {
	actionIDs := map[string]bool{}
	switch typ {
	case "section":
		text, fields := obj(blk, "text"), blk["fields"]
		if text == nil && fields == nil {
			return blockErr("must provide at least one of: text, fields", p)
		}
		if text != nil {
			if err := checkText(text, 3000, p+"/text"); err != nil {
				return err
			}
		}
		if fields != nil {
			list, ok := fields.([]any)
			if !ok || len(list) > 10 {
				return blockErr("no more than 10 items allowed", p+"/fields")
			}
			for j, f := range list {
				fo, _ := f.(map[string]any)
				if err := checkText(fo, 2000, fmt.Sprintf("%s/fields/%d", p, j)); err != nil {
					return err
				}
			}
		}
		if acc := obj(blk, "accessory"); acc != nil {
			return checkElement(acc, actionIDs, p+"/accessory")
		}
	case "header":
		text := obj(blk, "text")
		if text == nil {
			return blockErr("missing required field: text", p)
		}
		if str(text, "type") != "plain_text" {
			return blockErr("must be plain_text", p+"/text/type")
		}
		return checkText(text, 150, p+"/text")
	case "actions", "context":
		limit := 25
		if typ == "context" {
			limit = 10
		}
		elems, ok := blk["elements"].([]any)
		if !ok || len(elems) == 0 {
			return blockErr("missing required field: elements", p)
		}
		if len(elems) > limit {
			return blockErr(fmt.Sprintf("no more than %d items allowed", limit), p+"/elements")
		}
		if typ == "context" {
			return nil
		}
		for j, e := range elems {
			eo, ok := e.(map[string]any)
			if !ok {
				return blockErr("expected an object", fmt.Sprintf("%s/elements/%d", p, j))
			}
			if err := checkElement(eo, actionIDs, fmt.Sprintf("%s/elements/%d", p, j)); err != nil {
				return err
			}
		}
	case "input":
		label := obj(blk, "label")
		if label == nil {
			return blockErr("missing required field: label", p)
		}
		if err := checkText(label, 2000, p+"/label"); err != nil {
			return err
		}
		el := obj(blk, "element")
		if el == nil {
			return blockErr("missing required field: element", p)
		}
		return checkElement(el, actionIDs, p+"/element")
	}
	return nil
}

// checkText checks a text object and its length in characters.
func checkText(t map[string]any, limit int, p string) *apiError {
	if t == nil {
		return blockErr("expected a text object", p)
	}
	switch str(t, "type") {
	case "plain_text", "mrkdwn":
	default:
		return blockErr("must be one of plain_text, mrkdwn", p+"/type")
	}
	text, ok := t["text"].(string)
	if !ok || text == "" {
		return blockErr("must be more than 0 characters", p+"/text")
	}
	if utf8.RuneCountInString(text) > limit {
		return blockErr(fmt.Sprintf("must be less than %d characters", limit+1), p+"/text")
	}
	return nil
}

// checkElement checks an interactive element and gives it an action_id.
func checkElement(el map[string]any, actionIDs map[string]bool, p string) *apiError {
	typ := str(el, "type")
	if typ == "" {
		return blockErr("missing required field: type", p)
	}
	if typ == "image" {
		return nil
	}
	id := str(el, "action_id")
	if id == "" {
		id = randAlnum(5)
		el["action_id"] = id
	} else if utf8.RuneCountInString(id) > 255 {
		return blockErr("must be less than 256 characters", p+"/action_id")
	}
	if actionIDs[id] {
		return blockErr("duplicate action_id: "+id, p+"/action_id")
	}
	actionIDs[id] = true
	if typ == "button" {
		text := obj(el, "text")
		if text == nil {
			return blockErr("missing required field: text", p)
		}
		if err := checkText(text, 75, p+"/text"); err != nil {
			return err
		}
		if utf8.RuneCountInString(str(el, "value")) > 2000 {
			return blockErr("must be less than 2001 characters", p+"/value")
		}
		switch str(el, "style") {
		case "", "primary", "danger":
		default:
			return blockErr("must be one of primary, danger", p+"/style")
		}
	}
	return nil
}

// findElement finds an element with the given action_id in stored blocks.
func findElement(raw json.RawMessage, actionID string) (blockID string, el map[string]any) {
	var blocks []map[string]any
	if decodeJSON(raw, &blocks) != nil {
		return "", nil
	}
	for _, b := range blocks {
		var cands []any
		if elems, ok := b["elements"].([]any); ok {
			cands = append(cands, elems...)
		}
		for _, k := range []string{"accessory", "element"} {
			if e := obj(b, k); e != nil {
				cands = append(cands, e)
			}
		}
		for _, c := range cands {
			if e, ok := c.(map[string]any); ok && str(e, "action_id") == actionID {
				return str(b, "block_id"), e
			}
		}
	}
	return "", nil
}
