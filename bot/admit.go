package bot

import (
	"context"

	"github.com/runbookhq/runbook"
)

// admitted are the kinds of request that bring new work — a command can start a run
// or declare an incident — and are turned away while Runbook is busy. Clicks and
// form submissions are not: they decide or finish work already taken (an approval, a
// cancel), which is how a backlog drains.
func admitted(kind runbook.RequestKind) bool {
	return kind == runbook.KindCommand || kind == runbook.KindMention
}

// admit asks Options.Admit whether a new request may add work, and counts the replies
// the outbox owes against Options.MaxOwed. Past either bound the request is answered
// busy — in its ack for a slash command — and recorded as answered, so that a
// redelivery gets the same answer and nothing of it is ever done. A read (the handler
// says it changes nothing) is not weighed against the bounds on runs. It reports
// whether the request may be handled.
func (b *Bot) admit(ctx context.Context, j job, req *runbook.Request, read bool, release func(), acked bool) bool {
	if !admitted(req.Kind) {
		return true
	}
	err := b.busy(ctx, req, read)
	if err == nil {
		return true
	}
	b.opts.Observer.Busy()
	b.log.Debug("busy: request turned away", "request", req.ID, "kind", req.Kind, "reason", runbook.ErrorMessage(err))
	reply := &runbook.Reply{Visibility: runbook.Private, Text: ":hourglass: " + runbook.ErrorMessage(err)}
	b.complete(ctx, j, req, reply, acked, nil, release)
	return false
}

// busy is the reason a request may not add work now, or nil.
func (b *Bot) busy(ctx context.Context, req *runbook.Request, read bool) error {
	if b.owesTooMuch() {
		return runbook.Errorf(runbook.EUNAVAILABLE, "%s", BusyText)
	}
	if b.opts.Admit == nil || read {
		// A read starts no run: the bounds on runs do not weigh it, and it is spared
		// their look-up in the database. The bound on work owed to Slack, above, does.
		return nil
	}
	return b.opts.Admit(ctx, req.UserID)
}

// owesTooMuch says whether the work waiting for Slack is past Options.MaxOwed.
func (b *Bot) owesTooMuch() bool {
	return b.opts.MaxOwed > 0 && b.owed() > b.opts.MaxOwed
}

// owed counts the work waiting for Slack: replies in the outbox, and the adapter's
// calls waiting or in flight.
func (b *Bot) owed() int {
	n := b.out.owed()
	if b.opts.SlackPending != nil {
		n += b.opts.SlackPending()
	}
	return n
}

// BusyText is the answer to a request turned away because the replies owed to Slack
// are past their bound.
const BusyText = "Runbook is busy — try again in a minute."
