package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/internal/apptest"
	"github.com/runbookhq/runbook/slackfake"
	"github.com/runbookhq/runbook/slackui"
)

// pipeline is a bot with the API on, on a clock the test moves, and a CI job that runs
// bot approval request … --wait against it in this process.
type pipeline struct {
	*apptest.Kit
	t          *testing.T
	clock      *apptest.Clock
	alice, bob slackfake.User
	ops        slackfake.Channel
}

func startPipeline(t *testing.T) *pipeline {
	t.Helper()
	p := &pipeline{Kit: apptest.New(t, apptest.Options{Emulator: slackfake.Options{AckTimeout: time.Second}}), t: t,
		clock: apptest.NewClock(time.Now())}
	apptest.WithAPI(p.Config)
	p.Config.Slack.ApprovalChannel = "#ops"
	p.Config.Approvals.Timeout = 30 * time.Minute
	p.clock.Use(&p.AppOptions)
	p.alice, p.bob = p.Person("alice"), p.Person("bob")
	p.ops = p.Channel("ops", "alice", "bob")
	p.Start()
	return p
}

type jobResult struct {
	code           int
	stdout, stderr string
}

// job runs the client as a CI step would, on behalf of alice, approvable by bob.
func (p *pipeline) job(extra ...string) <-chan jobResult {
	args := append([]string{"approval", "request", "--url", p.APIURL(), "--operation", "deploy api v2 to production",
		"--requester", p.alice.ID, "--approvers", p.alice.ID + "," + p.bob.ID, "--wait"}, extra...)
	done := make(chan jobResult, 1)
	go func() {
		var out, errOut bytes.Buffer
		code := run(p.Context(), args, &out, &errOut, []string{"RUNBOOK_API_TOKEN=" + apptest.APITokenApprovals})
		done <- jobResult{code, out.String(), errOut.String()}
	}()
	return done
}

// posted waits for approval id's request message.
func (p *pipeline) posted(id int64) *runbook.Approval {
	p.t.Helper()
	var a *runbook.Approval
	p.WaitFor("the request message of "+runbook.ApprovalKey(id), func() bool {
		got, err := p.App().DB.Approvals().Approval(context.Background(), id)
		if err != nil || got.MessageTS == "" {
			return false
		}
		a = got
		return true
	})
	return a
}

func (p *pipeline) finished(done <-chan jobResult) jobResult {
	p.t.Helper()
	select {
	case r := <-done:
		if strings.Contains(r.stdout+r.stderr, apptest.APITokenApprovals) {
			p.t.Fatal("the client printed its token")
		}
		return r
	case <-p.Context().Done():
		p.t.Fatal("the job never finished")
		return jobResult{}
	}
}

// TestApprovalRequestWaitsForTheDecision: a pipeline's one-line approval step exits 0
// once an approver clicks Approve, 1 once one clicks Deny and 2 when nobody decides in
// time; the requester's own Approve does not count.
func TestApprovalRequestWaitsForTheDecision(t *testing.T) {
	p := startPipeline(t)

	done := p.job()
	a := p.posted(1)
	if got := p.Press(p.alice.ID, p.ops.ID, a.MessageTS, slackui.ActionApprove, slackui.ApprovalValue(a)); !strings.Contains(got, "someone else must approve it") {
		t.Fatalf("alice approving her own request was answered %q", got)
	}
	if got := p.Press(p.bob.ID, p.ops.ID, a.MessageTS, slackui.ActionApprove, slackui.ApprovalValue(a)); !strings.Contains(got, "You approved APR-1") {
		t.Fatalf("bob's approval was answered %q", got)
	}
	r := p.finished(done)
	if r.code != 0 || strings.TrimSpace(r.stdout) != "APR-1 approved by "+p.bob.ID {
		t.Fatalf("after an approval: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	done = p.job()
	a = p.posted(2)
	p.Press(p.bob.ID, p.ops.ID, a.MessageTS, slackui.ActionDeny, slackui.ApprovalValue(a))
	if r := p.finished(done); r.code != 1 || !strings.HasPrefix(r.stdout, "APR-2 denied by "+p.bob.ID) {
		t.Fatalf("after a denial: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	done = p.job("--timeout", "10m")
	a = p.posted(3)
	p.clock.Advance(11 * time.Minute)
	// The sweeper may have read the clock just before it moved and arm its wait from
	// there, ten minutes past now: move the clock on until the request has expired.
	p.WaitFor("APR-3 to expire", func() bool {
		if got, err := p.App().DB.Approvals().Approval(context.Background(), a.ID); err == nil && got.State == runbook.ApprovalExpired {
			return true
		}
		p.clock.Advance(time.Minute)
		return false
	})
	if r := p.finished(done); r.code != 2 || strings.TrimSpace(r.stdout) != "APR-3 expired with no decision" {
		t.Fatalf("after expiry: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	// The decision is stored before its message is redrawn: the job may end first.
	p.WaitFor("the expired request's message to say so", func() bool {
		m, _ := p.Slack.Message(p.ops.ID, a.MessageTS)
		return strings.Contains(string(m.Blocks), "Expired") && !strings.Contains(string(m.Blocks), slackui.ActionApprove)
	})
}

// TestApprovalRequestErrors: a refusal is one sentence on stderr and exit 3, and the
// token is never shown.
func TestApprovalRequestErrors(t *testing.T) {
	p := startPipeline(t)
	for _, c := range []struct {
		name string
		args []string
		env  []string
		says string
	}{
		{"no token", []string{"--url", p.APIURL(), "--operation", "x"}, nil, "give a token in $RUNBOOK_API_TOKEN"},
		{"no operation", []string{"--url", p.APIURL()}, []string{"RUNBOOK_API_TOKEN=" + apptest.APITokenApprovals}, "--operation"},
		{"wrong scope", []string{"--url", p.APIURL(), "--operation", "x"}, []string{"RUNBOOK_API_TOKEN=" + apptest.APITokenNone}, "lacks the approvals scope"},
		{"bad approvers", []string{"--url", p.APIURL(), "--operation", "x", "--approvers", "<!everyone>"},
			[]string{"RUNBOOK_API_TOKEN=" + apptest.APITokenApprovals}, "is not a user id"},
		// Neither is retried until the job times out: they fail at once, and the token
		// with its stray character is not shown.
		{"url without a scheme", []string{"--url", strings.TrimPrefix(p.APIURL(), "http://"), "--operation", "x"},
			[]string{"RUNBOOK_API_TOKEN=" + apptest.APITokenApprovals}, "must start with http://"},
		{"token with a stray character", []string{"--url", p.APIURL(), "--operation", "x"},
			[]string{"RUNBOOK_API_TOKEN=" + apptest.APITokenApprovals[:10] + "\x00" + apptest.APITokenApprovals[10:]}, "cannot be sent"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(p.Context(), append([]string{"approval", "request"}, c.args...), &out, &errOut, c.env)
			if code != 3 || !strings.Contains(errOut.String(), c.says) || strings.Count(strings.TrimSpace(errOut.String()), "\n") > 0 {
				t.Fatalf("exit %d, stderr %q; want 3 and one line saying %q", code, errOut.String(), c.says)
			}
			if strings.Contains(errOut.String()+out.String(), apptest.APITokenNone) || strings.Contains(errOut.String()+out.String(), apptest.APITokenApprovals) {
				t.Fatal("the client printed a token")
			}
		})
	}
}

// TestApprovalRequestRidesOutARestart: the bot restarts while the job waits; the job
// reconnects on its own and still exits 0 on the approval given after the restart.
func TestApprovalRequestRidesOutARestart(t *testing.T) {
	p := &pipeline{Kit: apptest.New(t, apptest.Options{Emulator: slackfake.Options{AckTimeout: time.Second}}), t: t,
		clock: apptest.NewClock(time.Now())}
	apptest.WithAPI(p.Config)
	p.Config.HTTP.Addr = freeAddr(t) // the same address after the restart, as in production
	p.Config.Slack.ApprovalChannel = "#ops"
	p.clock.Use(&p.AppOptions)
	p.alice, p.bob = p.Person("alice"), p.Person("bob")
	p.ops = p.Channel("ops", "alice", "bob")
	p.Start()

	done := p.job()
	p.posted(1)
	p.Restart()
	a := p.posted(1)
	p.Press(p.bob.ID, p.ops.ID, a.MessageTS, slackui.ActionApprove, slackui.ApprovalValue(a))
	if r := p.finished(done); r.code != 0 || strings.TrimSpace(r.stdout) != "APR-1 approved by "+p.bob.ID {
		t.Fatalf("after a restart and an approval: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
