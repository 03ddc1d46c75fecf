package slackfake

import (
	"fmt"
	"strconv"
	"strings"
)

// viewState builds view.state.values for a submission.
func viewState(def map[string]any, values map[string]map[string]string) (map[string]any, error) {
	state := map[string]any{}
	used := 0
	blocks, _ := def["blocks"].([]any)
	for _, b := range blocks {
		blk, _ := b.(map[string]any)
		el := obj(blk, "element")
		if str(blk, "type") != "input" || el == nil {
			continue
		}
		blockID, actionID := str(blk, "block_id"), str(el, "action_id")
		val, given := values[blockID][actionID]
		if given {
			used++
		} else if opt, _ := blk["optional"].(bool); !opt {
			return nil, fmt.Errorf("required input %s/%s has no value", blockID, actionID)
		}
		st, err := elementState(el, val, given)
		if err != nil {
			return nil, fmt.Errorf("input %s/%s: %w", blockID, actionID, err)
		}
		state[blockID] = map[string]any{actionID: st}
	}
	total := 0
	for _, m := range values {
		total += len(m)
	}
	if used != total {
		return nil, fmt.Errorf("values name inputs the view does not have")
	}
	return state, nil
}

// elementState is the state of one input element, as Slack reports it.
func elementState(el map[string]any, val string, given bool) (map[string]any, error) {
	typ := str(el, "type")
	st := map[string]any{"type": typ}
	var list []string
	if given {
		for p := range strings.SplitSeq(val, ",") {
			if p = strings.TrimSpace(p); p != "" {
				list = append(list, p)
			}
		}
	}
	single := func(key string) {
		st[key] = nil
		if given {
			st[key] = val
		}
	}
	switch typ {
	case "static_select", "external_select", "radio_buttons":
		st["selected_option"] = nil
		if given {
			opt, err := findOption(el, val, typ == "external_select")
			if err != nil {
				return nil, err
			}
			st["selected_option"] = opt
		}
	case "multi_static_select", "multi_external_select", "checkboxes":
		opts := []any{}
		for _, v := range list {
			opt, err := findOption(el, v, typ == "multi_external_select")
			if err != nil {
				return nil, err
			}
			opts = append(opts, opt)
		}
		st["selected_options"] = opts
	case "users_select":
		single("selected_user")
	case "conversations_select":
		single("selected_conversation")
	case "channels_select":
		single("selected_channel")
	case "multi_users_select":
		st["selected_users"] = append([]string{}, list...)
	case "multi_conversations_select":
		st["selected_conversations"] = append([]string{}, list...)
	case "multi_channels_select":
		st["selected_channels"] = append([]string{}, list...)
	case "datepicker":
		single("selected_date")
	case "timepicker":
		single("selected_time")
	case "datetimepicker":
		st["selected_date_time"] = nil
		if given {
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("selected_date_time %q is not a Unix time", val)
			}
			st["selected_date_time"] = n
		}
	default: // plain_text_input, email_text_input, url_text_input, number_input, …
		single("value")
	}
	return st, nil
}

// findOption finds the option with the given value in a select's options or
// option groups. External selects have no options; any value is accepted.
func findOption(el map[string]any, value string, external bool) (map[string]any, error) {
	var opts []any
	if o, ok := el["options"].([]any); ok {
		opts = o
	}
	if groups, ok := el["option_groups"].([]any); ok {
		for _, g := range groups {
			if gm, ok := g.(map[string]any); ok {
				if o, ok := gm["options"].([]any); ok {
					opts = append(opts, o...)
				}
			}
		}
	}
	for _, o := range opts {
		if om, ok := o.(map[string]any); ok && str(om, "value") == value {
			return om, nil
		}
	}
	if external {
		return map[string]any{"text": map[string]any{"type": "plain_text", "text": value, "emoji": true},
			"value": value}, nil
	}
	return nil, fmt.Errorf("no option with value %q", value)
}
