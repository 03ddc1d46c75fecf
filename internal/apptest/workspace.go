package apptest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/runbookhq/runbook/slackfake"
)

// Workspace is the Slack emulator, with people, groups and channels added by name.
type Workspace struct {
	Slack *slackfake.Server
	mu    sync.Mutex // adding people and channels
}

// StartWorkspace starts an emulator on 127.0.0.1 with nobody in it but the bot.
func StartWorkspace(opts slackfake.Options) (*Workspace, error) {
	srv, err := slackfake.New(opts)
	if err != nil {
		return nil, fmt.Errorf("start the Slack emulator: %w", err)
	}
	return &Workspace{Slack: srv}, nil
}

// NewWorkspace is StartWorkspace for a test: it fails tb on error and closes the
// emulator when the test ends.
func NewWorkspace(tb TB, opts slackfake.Options) *Workspace {
	tb.Helper()
	ws, err := StartWorkspace(opts)
	if err != nil {
		tb.Fatalf("%v", err)
	}
	tb.Cleanup(func() { ws.Close() })
	return ws
}

// Close stops the emulator.
func (w *Workspace) Close() error { return w.Slack.Close() }

// Seeded is what Seed added, in order.
type Seeded struct {
	People   []slackfake.User
	Groups   []slackfake.UserGroup
	Channels []slackfake.Channel
}

// Seed adds the usual workspace: alice, bob and carol; @oncall, which is bob; and
// #general, #incidents and #ops with the three of them in each.
func (w *Workspace) Seed() Seeded {
	var s Seeded
	people := []string{"alice", "bob", "carol"}
	for _, name := range people {
		s.People = append(s.People, w.Person(name))
	}
	s.Groups = append(s.Groups, w.Group("oncall", "bob"))
	for _, name := range []string{"general", "incidents", "ops"} {
		s.Channels = append(s.Channels, w.Channel(name, people...))
	}
	return s
}

// Person returns the person with this handle, adding them the first time.
func (w *Workspace) Person(name string) slackfake.User {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.personLocked(name)
}

func (w *Workspace) personLocked(name string) slackfake.User {
	if u, ok := w.Slack.User(name); ok {
		return u
	}
	return w.Slack.AddUser(name)
}

// Group adds a user group of people, by handle.
func (w *Workspace) Group(handle string, people ...string) slackfake.UserGroup {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.Slack.AddUserGroup(handle, w.idsLocked(people)...)
}

// Channel returns the channel of this name, adding it the first time with people (by
// handle) as its members.
func (w *Workspace) Channel(name string, people ...string) slackfake.Channel {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c, ok := w.Slack.Channel(name); ok {
		return c
	}
	return w.Slack.AddChannel(name, slackfake.ChannelMembers(w.idsLocked(people)...))
}

func (w *Workspace) idsLocked(people []string) []string {
	ids := make([]string, len(people))
	for i, name := range people {
		ids[i] = w.personLocked(name).ID
	}
	return ids
}

// BotReplies returns the bot's replies in the thread of ts.
func (w *Workspace) BotReplies(channel, ts string) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range w.Slack.Messages(channel) {
		if m.ThreadTS == ts && m.TS != ts && m.BotID != "" {
			out = append(out, m)
		}
	}
	return out
}

// WaitConnected waits until the bot holds n Socket Mode connections opened after since
// (a ConnectCount), or until gone reports that it stopped. Waiting for all n, not the
// first, keeps a test's later connection counts free of the bot's own start-up.
func (w *Workspace) WaitConnected(ctx context.Context, since, n int, gone func() bool) error {
	n = max(n, 1)
	connected := func() bool { return w.Slack.ConnectCount() >= since+n && w.Slack.Connections() >= n }
	if err := Wait(ctx, w.Slack, func() bool { return connected() || gone() }); err != nil {
		return fmt.Errorf("waiting for the bot to connect: %w", err)
	}
	if !connected() {
		return errors.New("the bot stopped before it connected")
	}
	return nil
}
