package demo

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/runbookhq/runbook/slackfake"
)

// director acts as the people in the workspace, through the emulator, and prints
// the transcript as it goes.
type director struct {
	w    *world
	out  *syncWriter
	in   *input
	step bool
	// echo shows the lines read in interactive mode, when they come from a pipe
	// rather than a terminal (which shows them as they are typed).
	echo bool
	// term is shared by the interactive session and its watcher.
	term terminal
}

// slashCommand has a person type "/runbook text" in a channel (by id), waits until
// the bot has answered and finished, and prints what happened.
func (d *director) slashCommand(ctx context.Context, user slackfake.User, channel, text string) error {
	srv := d.w.srv
	d.w.tr.say(d.out, channel, user.Name+": /runbook "+text)
	before := d.answers(channel, user.ID)
	dl := srv.SlashCommand(user.ID, channel, "/runbook", text)
	err := d.w.waitFor(ctx, "the answer to /runbook "+text, func() bool {
		acks := srv.Acks(dl.EnvelopeID)
		answered := len(acks) > 0 && (acks[0].Payload != nil || d.answers(channel, user.ID).grew(before))
		return answered && d.w.quiet(ctx)
	})
	d.w.tr.flush(d.out, answerTo(channel, user.ID, ""))
	return err
}

// mention has a person post "@Runbook text" in a channel (by id); the bot answers in the
// thread. A mention in a channel the bot is not in reaches nobody, as on Slack.
func (d *director) mention(ctx context.Context, user slackfake.User, channel, text string) error {
	srv := d.w.srv
	before := d.answers(channel, user.ID)
	dl := srv.Mention(user.ID, channel, text, "")
	if dl.EnvelopeID == "" {
		d.w.tr.flush(d.out, nil)
		d.out.printf("(%s is not in this channel, so Slack does not tell it about the mention)\n", botName)
		return nil
	}
	err := d.w.waitFor(ctx, "the answer to @Runbook "+text, func() bool {
		replied := d.threadReplies(channel, dl.TS) > 0 || d.answers(channel, user.ID).grew(before)
		return acked(srv, dl) && replied && d.w.quiet(ctx)
	})
	d.w.tr.flush(d.out, answerTo(channel, user.ID, dl.TS))
	return err
}

// click has a person click a button, waits until the bot has answered and finished,
// and prints what happened.
func (d *director) click(ctx context.Context, user slackfake.User, b button) error {
	srv := d.w.srv
	before := d.answers(b.Channel, user.ID)
	dl, err := srv.ClickButton(user.ID, b.Channel, b.TS, b.ActionID)
	if err != nil {
		return fmt.Errorf("[%s] is no longer on its message", b.Label)
	}
	d.w.tr.say(d.out, b.Channel, user.Name+" clicks ["+b.Label+"]")
	err = d.w.waitFor(ctx, "the answer to "+user.Name+"'s click on ["+b.Label+"]", func() bool {
		return acked(srv, dl) && d.answers(b.Channel, user.ID).grew(before) && d.w.quiet(ctx)
	})
	d.w.tr.flush(d.out, answerTo(b.Channel, user.ID, ""))
	return err
}

// acked reports whether the bot acknowledged an envelope.
func acked(srv *slackfake.Server, dl *slackfake.Delivery) bool {
	return len(srv.Acks(dl.EnvelopeID)) > 0
}

// answers counts what shows that the bot answered someone in a channel: messages
// shown to them alone, forms opened, and response_url calls (which may also answer
// in the channel, or replace the message clicked).
type answers struct{ ephemerals, views, responses int }

func (d *director) answers(channel, userID string) answers {
	srv := d.w.srv
	a := answers{ephemerals: len(srv.Ephemerals(channel, userID)), views: len(srv.Views())}
	for _, c := range srv.APICalls() {
		if c.Method == "response_url" {
			a.responses++
		}
	}
	return a
}

// grew reports whether anything was answered since before.
func (a answers) grew(before answers) bool {
	return a.ephemerals > before.ephemerals || a.views > before.views || a.responses > before.responses
}

// threadReplies counts the bot's replies in a thread.
func (d *director) threadReplies(channel, ts string) int {
	n := 0
	for _, m := range d.w.srv.Messages(channel) {
		if m.ThreadTS == ts && m.TS != ts && m.BotID != "" {
			n++
		}
	}
	return n
}

// answerTo picks out the answer to what a person did in a channel: what was shown
// to them alone there, or (for a mention) their message and the bot's replies to it.
func answerTo(channel, userID, threadTS string) func(slackfake.Message) bool {
	return func(m slackfake.Message) bool {
		if m.Channel != channel {
			return false
		}
		if threadTS != "" && (m.TS == threadTS || m.ThreadTS == threadTS) {
			return true
		}
		return m.Ephemeral && m.To == userID
	}
}

// waitForEnter prompts and waits for Enter; at the end of the input it goes on.
func (d *director) waitForEnter(ctx context.Context) error {
	d.out.printf("\n(press Enter for the next act)\n")
	if _, err := d.in.next(ctx); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}
