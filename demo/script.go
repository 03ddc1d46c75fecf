package demo

import (
	"context"
	"fmt"
	"strings"

	"github.com/runbookhq/runbook"
)

// act is one scene of the scripted incident: what people do, then a check that the
// bot did what it should.
type act struct {
	title string
	play  func(ctx context.Context, d *director) error
}

// scaleTo is the count alice asks the scale-up runbook for.
const scaleTo = 12

// acts is the script.
var acts = []act{
	{"alice declares a sev1 incident in #general", declare},
	{"alice runs the scale-up runbook from the incident channel", scaleUp},
	{"carol, who is not an approver, clicks Approve", refusedClick},
	{"bob, in @oncall, approves; Runbook scales checkout through the deploy API", approve},
	{"alice resolves the incident", resolve},
}

// script plays the acts in order, waiting for Enter between them in step mode.
func (d *director) script(ctx context.Context) error {
	d.intro()
	for i, a := range acts {
		if i > 0 && d.step {
			if err := d.waitForEnter(ctx); err != nil {
				return err
			}
		}
		d.out.printf("\n=== Act %d: %s ===\n", i+1, a.title)
		if err := a.play(ctx, d); err != nil {
			return fmt.Errorf("act %d (%s): %w", i+1, a.title, err)
		}
	}
	return nil
}

// intro says what the demo is and who is in the workspace.
func (d *director) intro() {
	if d.w.yours != nil {
		d.introYours()
		return
	}
	d.out.printf("Runbook demo: the real bot, connected to a local Slack emulator on 127.0.0.1.\n")
	d.out.printf("People: alice, bob (in @%s, the approvers), carol.\n", oncallGroup)
	d.out.printf("Channels: #general, %s (incident announcements), %s (approval requests).\n", defaultChannel, approvalChannel)
	d.out.printf("Runbooks: %s.\n", strings.Join(runbookNames(), ", "))
	d.out.printf("Deploy API: a stand-in on %s (the one host actions.http.allowedHosts allows).\n", d.w.api.url)
	d.out.printf("  scale-up calls it when run with deploy_api=%s, sending secrets.%s.\n", d.w.api.url, deployTokenSecret)
}

// The acts. The commander is named so that the kickoff runbook invites alice to
// the incident channel, where she goes on.
func declare(ctx context.Context, d *director) error {
	alice := d.w.user("alice")
	if err := d.slashCommand(ctx, alice, d.w.chans["general"].ID, "declare sev1 checkout Checkout is failing commander=@alice"); err != nil {
		return err
	}
	inc, err := d.incident(ctx)
	switch {
	case err != nil:
		return err
	case inc.Channel == "":
		return fmt.Errorf("the sev1-kickoff runbook did not create an incident channel")
	}
	return d.runsSucceeded(ctx, 1)
}

func scaleUp(ctx context.Context, d *director) error {
	inc, err := d.incident(ctx)
	if err != nil {
		return err
	}
	cmd := fmt.Sprintf("run scale-up INC-1 service=checkout count=%d deploy_api=%s", scaleTo, d.w.api.url)
	if err := d.slashCommand(ctx, d.w.user("alice"), inc.Channel, cmd); err != nil {
		return err
	}
	_, err = d.approval(ctx, runbook.ApprovalPending)
	return err
}

func refusedClick(ctx context.Context, d *director) error {
	carol := d.w.user("carol")
	if err := d.clickLatest(ctx, carol, "Approve"); err != nil {
		return err
	}
	a, err := d.approval(ctx, runbook.ApprovalPending)
	if err != nil {
		return err
	}
	eph := d.w.srv.Ephemerals(a.Channel, carol.ID)
	if len(eph) == 0 || !strings.Contains(eph[len(eph)-1].Text, "not an approver") {
		return fmt.Errorf("carol was not told she is not an approver")
	}
	return nil
}

func approve(ctx context.Context, d *director) error {
	if err := d.clickLatest(ctx, d.w.user("bob"), "Approve"); err != nil {
		return err
	}
	if _, err := d.approval(ctx, runbook.ApprovalApproved); err != nil {
		return err
	}
	if err := d.runsSucceeded(ctx, 2); err != nil {
		return err
	}
	if err := d.scaled("checkout", scaleTo); err != nil {
		return err
	}
	return d.incidentStatus(ctx, "mitigating")
}

func resolve(ctx context.Context, d *director) error {
	inc, err := d.incident(ctx)
	if err != nil {
		return err
	}
	if err := d.slashCommand(ctx, d.w.user("alice"), inc.Channel, "resolve INC-1 rolled back the bad deploy"); err != nil {
		return err
	}
	if err := d.runsSucceeded(ctx, 3); err != nil {
		return err
	}
	if c, _ := d.w.srv.Channel(inc.Channel); !c.Archived {
		return fmt.Errorf("the wrap-up runbook did not archive %s", d.w.names().channel(inc.Channel))
	}
	return d.incidentStatus(ctx, "resolved")
}
