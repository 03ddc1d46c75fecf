package slackfake

import (
	"testing"

	"github.com/slack-go/slack"
)

// A disabled user group is as Slack keeps it: left out of usergroups.list and not
// answered for by usergroups.users.list (no_such_subteam) unless include_disabled is
// set, when it shows with a date_delete; enabled again, it is back.
func TestDisabledUserGroup(t *testing.T) {
	srv := newServer(t, Options{})
	api := newAPI(srv)
	alice := srv.AddUser("alice")
	g := srv.AddUserGroup("oncall", alice.ID)
	srv.AddUserGroup("dba", alice.ID)
	if !srv.DisableUserGroup(g.ID) || srv.DisableUserGroup("S404") {
		t.Fatal("DisableUserGroup answered wrongly")
	}
	groups, err := api.GetUserGroups()
	if err != nil || len(groups) != 1 || groups[0].Handle != "dba" {
		t.Errorf("usergroups.list = %+v %v; want dba only", groups, err)
	}
	groups, err = api.GetUserGroups(slack.GetUserGroupsOptionIncludeDisabled(true))
	if err != nil || len(groups) != 2 || groups[0].Handle != "oncall" || groups[0].DateDelete == 0 || groups[1].DateDelete != 0 {
		t.Errorf("usergroups.list include_disabled = %+v %v", groups, err)
	}
	_, err = api.GetUserGroupMembers(g.ID)
	wantSlackErr(t, err, "no_such_subteam")
	members, err := api.GetUserGroupMembers(g.ID, slack.GetUserGroupMembersOptionIncludeDisabled(true))
	if err != nil || len(members) != 1 || members[0] != alice.ID {
		t.Errorf("usergroups.users.list include_disabled = %v %v", members, err)
	}
	srv.EnableUserGroup("@oncall")
	if members, err := api.GetUserGroupMembers(g.ID); err != nil || len(members) != 1 {
		t.Errorf("usergroups.users.list after enable = %v %v", members, err)
	}
}
