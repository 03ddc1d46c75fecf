package runbook_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackapi"
	"github.com/runbookhq/runbook/slackfake"
)

// peopleWorld is a workspace with bob, the @oncall group (bob only) and mallory, who
// may call herself anything; People is asked through the real adapter.
type peopleWorld struct {
	srv          *slackfake.Server
	slack        *slackapi.Client
	bob, mallory slackfake.User
	oncall       slackfake.UserGroup
}

func newPeopleWorld(t *testing.T) *peopleWorld {
	t.Helper()
	srv, err := slackfake.New(slackfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	w := &peopleWorld{srv: srv}
	w.bob, w.mallory = srv.AddUser("bob"), srv.AddUser("mallory")
	w.oncall = srv.AddUserGroup("oncall", w.bob.ID)
	w.slack = slackapi.New(slack.New(srv.BotToken(), slack.OptionAPIURL(srv.APIURL())), nil, nil)
	return w
}

func (w *peopleWorld) people(t *testing.T, entry string) []string {
	t.Helper()
	got, err := runbook.People(context.Background(), w.slack, entry)
	if err != nil {
		t.Fatalf("People(%q): %v", entry, err)
	}
	return got
}

// A display name is chosen by its owner: calling yourself "bob" or "oncall" makes you
// neither bob nor a member of @oncall.
func TestPeopleNeverMatchDisplayNames(t *testing.T) {
	w := newPeopleWorld(t)
	w.srv.SetDisplayName(w.mallory.ID, "bob")
	if got := w.people(t, "@bob"); !slices.Equal(got, []string{w.bob.ID}) {
		t.Errorf("@bob = %v, want only bob (%s)", got, w.bob.ID)
	}
	w.srv.SetDisplayName(w.mallory.ID, "oncall")
	if got := w.people(t, "@oncall"); !slices.Equal(got, []string{w.bob.ID}) {
		t.Errorf("@oncall = %v, want the group's members [%s]", got, w.bob.ID)
	}
	w.srv.SetDisplayName(w.mallory.ID, "carol")
	if _, err := runbook.People(context.Background(), w.slack, "@carol"); runbook.ErrorCode(err) != runbook.ENOTFOUND {
		t.Errorf("@carol, only a display name, = %v; want ENOTFOUND", err)
	}
}

// A handle that is both a user group and someone's username means the group.
func TestPeopleHandleIsAGroupFirst(t *testing.T) {
	w := newPeopleWorld(t)
	w.srv.AddUser("oncall")
	if got := w.people(t, "@oncall"); !slices.Equal(got, []string{w.bob.ID}) {
		t.Errorf("@oncall = %v, want the group's members [%s]", got, w.bob.ID)
	}
	if got := w.people(t, "mallory"); !slices.Equal(got, []string{w.mallory.ID}) {
		t.Errorf("mallory = %v, want her id", got)
	}
}

func TestPeopleByID(t *testing.T) {
	w := newPeopleWorld(t)
	for entry, want := range map[string][]string{
		w.bob.ID:                         {w.bob.ID},
		"<@" + w.bob.ID + ">":            {w.bob.ID},
		"<@" + w.bob.ID + "|bob>":        {w.bob.ID},
		w.oncall.ID:                      {w.bob.ID},
		"<!subteam^" + w.oncall.ID + ">": {w.bob.ID},
	} {
		if got := w.people(t, entry); !slices.Equal(got, want) {
			t.Errorf("People(%q) = %v, want %v", entry, got, want)
		}
	}
}

// Who is in a group is read from Slack, not kept by People: after a change, a new
// question (here a new adapter, whose own cache is bounded by TestGroupMembersAreForgottenQuickly)
// sees the group as it is now.
func TestPeopleFollowGroupChanges(t *testing.T) {
	w := newPeopleWorld(t)
	ref := "<!subteam^" + w.oncall.ID + ">"
	if got := w.people(t, ref); !slices.Equal(got, []string{w.bob.ID}) {
		t.Fatalf("before the change @oncall = %v, want [%s]", got, w.bob.ID)
	}
	w.srv.SetUserGroupMembers(w.oncall.ID, w.mallory.ID)
	w.slack = slackapi.New(slack.New(w.srv.BotToken(), slack.OptionAPIURL(w.srv.APIURL())), nil, nil)
	if got := w.people(t, ref); !slices.Equal(got, []string{w.mallory.ID}) {
		t.Errorf("after the change @oncall = %v, want [%s]", got, w.mallory.ID)
	}
}

// On Slack's Free plan there are no user groups: a group id names nobody (saying why),
// and a handle can still be a member's username.
func TestPeopleOnAWorkspaceWithoutGroups(t *testing.T) {
	srv, err := slackfake.New(slackfake.Options{FreePlan: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	bob := srv.AddUser("bob")
	adapter := slackapi.New(slack.New(srv.BotToken(), slack.OptionAPIURL(srv.APIURL())), nil, nil)
	_, err = runbook.People(context.Background(), adapter, "S0123ABC")
	if runbook.ErrorCode(err) != runbook.ENOTFOUND || !strings.Contains(runbook.ErrorMessage(err), "Slack plan has none") {
		t.Fatalf("a group id on the Free plan = %v", err)
	}
	got, err := runbook.People(context.Background(), adapter, "@bob")
	if err != nil || !slices.Equal(got, []string{bob.ID}) {
		t.Fatalf("@bob on the Free plan = %v, %v", got, err)
	}
}
