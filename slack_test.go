package runbook

import "testing"

func TestHistoryMessageTagged(t *testing.T) {
	tag := MessageMetadata{EventType: "runbook_step", Payload: map[string]any{"run": 3, "step": "2"}}
	cases := []struct {
		name string
		meta *MessageMetadata
		want bool
	}{
		{"no metadata", nil, false},
		{"other type", &MessageMetadata{EventType: "runbook_reply", Payload: map[string]any{"run": 3, "step": "2"}}, false},
		{"numbers back as numbers", &MessageMetadata{EventType: "runbook_step", Payload: map[string]any{"run": float64(3), "step": 2}}, true},
		{"extra keys", &MessageMetadata{EventType: "runbook_step", Payload: map[string]any{"run": "3", "step": "2", "x": 1}}, true},
		{"other run", &MessageMetadata{EventType: "runbook_step", Payload: map[string]any{"run": "4", "step": "2"}}, false},
		{"missing key", &MessageMetadata{EventType: "runbook_step", Payload: map[string]any{"run": "3"}}, false},
	}
	for _, c := range cases {
		if got := (HistoryMessage{Metadata: c.meta}).Tagged(tag); got != c.want {
			t.Errorf("%s: Tagged = %v, want %v", c.name, got, c.want)
		}
	}
}
