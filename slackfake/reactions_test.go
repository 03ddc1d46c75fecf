package slackfake

import (
	"encoding/json"
	"testing"
)

func TestReactionAdded(t *testing.T) {
	srv := newServer(t, Options{})
	alice, bob := srv.AddUser("alice"), srv.AddUser("bob")
	ch := srv.AddChannel("ops", ChannelMembers(alice.ID, bob.ID))
	m, err := srv.PostAs(alice.ID, ch.ID, "look at this")
	if err != nil {
		t.Fatal(err)
	}
	d, err := srv.ReactionAdded(bob.ID, ch.ID, m.TS, ":pushpin:")
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Type    string `json:"type"`
		EventID string `json:"event_id"`
		Event   struct {
			Type     string `json:"type"`
			User     string `json:"user"`
			Reaction string `json:"reaction"`
			ItemUser string `json:"item_user"`
			Item     struct{ Type, Channel, TS string }
			EventTS  string `json:"event_ts"`
		} `json:"event"`
	}
	if err := json.Unmarshal(d.Payload, &p); err != nil {
		t.Fatal(err)
	}
	ev := p.Event
	if p.Type != "event_callback" || p.EventID == "" || ev.Type != "reaction_added" || ev.User != bob.ID || ev.Reaction != "pushpin" ||
		ev.ItemUser != alice.ID || ev.Item.Type != "message" || ev.Item.Channel != ch.ID || ev.Item.TS != m.TS || ev.EventTS == "" {
		t.Errorf("reaction_added payload %s", d.Payload)
	}
	if _, err := srv.ReactionAdded(bob.ID, ch.ID, m.TS, "pushpin"); err == nil {
		t.Error("the same person added the same emoji twice (Slack: already_reacted)")
	}
	if _, err := srv.ReactionAdded(alice.ID, ch.ID, m.TS, "pushpin"); err != nil {
		t.Errorf("another person's pushpin: %v", err)
	}
	if _, err := srv.ReactionAdded(bob.ID, ch.ID, "1.000001", "pushpin"); err == nil {
		t.Error("a reaction on a message that does not exist")
	}
	private := srv.AddChannel("secret", ChannelPrivate(), ChannelMembers(alice.ID))
	if _, err := srv.ReactionAdded(bob.ID, private.ID, m.TS, "pushpin"); err == nil {
		t.Error("a reaction in a private channel by someone not in it")
	}
}
