package demo

import (
	"context"
	"fmt"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackfake"
)

// The script's checks read the database once an act is over, so that a bot that
// did not do its part fails the demo with a sentence saying what is missing.

// incident returns INC-1.
func (d *director) incident(ctx context.Context) (*runbook.Incident, error) {
	inc, err := d.w.app.DB.Incidents().Incident(ctx, 1)
	if err != nil {
		return nil, fmt.Errorf("INC-1 was not declared: %w", err)
	}
	return inc, nil
}

func (d *director) incidentStatus(ctx context.Context, want string) error {
	inc, err := d.incident(ctx)
	if err != nil {
		return err
	}
	if inc.Status != want {
		return fmt.Errorf("INC-1 is %s, not %s", inc.Status, want)
	}
	return nil
}

// runsSucceeded checks that there are n runs and all of them succeeded.
func (d *director) runsSucceeded(ctx context.Context, n int) error {
	runs, err := d.w.app.DB.Runs().ListRuns(ctx, 0, 100)
	if err != nil {
		return err
	}
	if len(runs) != n {
		return fmt.Errorf("%d runs started, want %d", len(runs), n)
	}
	for _, r := range runs {
		if r.State != runbook.RunSucceeded {
			return fmt.Errorf("%s (%s) %s: %s", r.Key(), r.Runbook, r.State, r.Error)
		}
	}
	return nil
}

// approval returns APR-1, posted and in the given state.
func (d *director) approval(ctx context.Context, want runbook.ApprovalState) (*runbook.Approval, error) {
	a, err := d.w.app.DB.Approvals().Approval(ctx, 1)
	switch {
	case err != nil:
		return nil, fmt.Errorf("no approval was requested: %w", err)
	case a.MessageTS == "":
		return nil, fmt.Errorf("%s was not posted", a.Key())
	case a.State != want:
		return nil, fmt.Errorf("%s is %s, not %s", a.Key(), a.State, want)
	}
	return a, nil
}

// clickLatest clicks the last button shown with the label, as a person would.
func (d *director) clickLatest(ctx context.Context, user slackfake.User, label string) error {
	b, ok := d.w.tr.lastButton(label)
	if !ok {
		return fmt.Errorf("no [%s] button was shown", label)
	}
	return d.click(ctx, user, b)
}

// scaled checks that the stand-in deploy API was asked once, with its token, to scale
// the service to n, and did.
func (d *director) scaled(service string, n int) error {
	var scales []exchange
	for _, x := range d.w.api.received() {
		if x.Scaled == service {
			scales = append(scales, x)
		}
	}
	switch got, _ := d.w.api.count(service); {
	case len(scales) != 1:
		return fmt.Errorf("the deploy API scaled %s %d times, want once", service, len(scales))
	case got != n:
		return fmt.Errorf("the deploy API runs %d tasks of %s, want %d", got, service, n)
	}
	return nil
}
