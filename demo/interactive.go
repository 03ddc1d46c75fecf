package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/runbookhq/runbook/slackfake"
)

const interactiveHelp = `Type as a person in the workspace:
  /runbook …     a slash command (try /runbook help)
  @Runbook …     a mention; Runbook answers in its thread
  click N        click the Nth button listed in the transcript
  as NAME        act as alice, bob or carol
  in #CHANNEL    act in another channel
  help           this list
  quit           end the demo and show what the database holds
`

// session is who is typing, and where.
type session struct {
	user    slackfake.User
	channel string // channel id
}

// interactive reads lines and acts on them until quit or the end of the input,
// printing the new transcript lines after each.
func (d *director) interactive(ctx context.Context) error {
	d.w.tr.numberButtons()
	d.intro()
	d.out.printf("\n%s", interactiveHelp)
	s := &session{user: d.w.user("alice"), channel: d.w.chans["general"].ID}
	news := d.watch(ctx)
	defer news.stop()
	for {
		d.showPrompt(s)
		line, err := d.in.next(ctx)
		d.term.mu.Lock()
		d.term.atPrompt.Store(false)
		if errors.Is(err, io.EOF) {
			d.out.printf("\n")
			d.term.mu.Unlock()
			return nil
		}
		quit, err := d.typed(ctx, s, line, err)
		d.term.mu.Unlock()
		if quit || err != nil {
			return err
		}
	}
}

// showPrompt prints who is typing where, and lets the watcher print news until the
// next line comes.
func (d *director) showPrompt(s *session) {
	d.term.mu.Lock()
	defer d.term.mu.Unlock()
	d.term.prompt = fmt.Sprintf("\n%s in %s> ", s.user.Name, d.w.tr.n.channel(s.channel))
	d.out.printf("%s", d.term.prompt)
	d.term.atPrompt.Store(true)
}

// typed acts on a line read (or the error reading it), with the terminal held.
func (d *director) typed(ctx context.Context, s *session, line string, err error) (quit bool, _ error) {
	if err != nil {
		return true, err
	}
	if d.echo {
		// A terminal has shown what was typed; input from a pipe is shown here.
		d.out.printf("%s\n", line)
	}
	return d.do(ctx, s, strings.TrimSpace(line))
}

// do acts on one line; quit says the session is over.
func (d *director) do(ctx context.Context, s *session, line string) (quit bool, err error) {
	verb, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	switch lower := strings.ToLower(verb); {
	case line == "":
	case lower == "quit" || lower == "exit":
		return true, nil
	case lower == "help":
		d.out.printf("%s", interactiveHelp)
	case lower == "as":
		d.switchUser(s, rest)
	case lower == "in":
		d.switchChannel(s, rest)
	case lower == "/runbook":
		return false, d.tolerate(d.slashCommand(ctx, s.user, s.channel, rest))
	case lower == "@runbook":
		return false, d.tolerate(d.mention(ctx, s.user, s.channel, d.encode(rest)))
	case lower == "click":
		return false, d.clickNumber(ctx, s, rest)
	default:
		d.out.printf("(I understand /runbook …, @Runbook …, click N, as NAME, in #CHANNEL, help and quit.)\n")
	}
	return false, nil
}

// tolerate reports a failed action and goes on, unless the bot has stopped.
func (d *director) tolerate(err error) error {
	if err == nil {
		return nil
	}
	if d.w.bot.Exited() {
		return err
	}
	d.out.printf("(%v)\n", err)
	return nil
}

func (d *director) switchUser(s *session, name string) {
	u := d.w.user(strings.TrimPrefix(name, "@"))
	if u.ID == "" {
		d.out.printf("(There is no %q here; people: %s.)\n", name, strings.Join(d.w.peopleNames(), ", "))
		return
	}
	s.user = u
	d.out.printf("(You are %s now.)\n", u.Name)
}

func (d *director) switchChannel(s *session, name string) {
	c, ok := d.w.srv.Channel(strings.TrimPrefix(name, "#"))
	if !ok || c.IM || c.MPIM {
		d.out.printf("(There is no channel %s; channels: %s.)\n", name, strings.Join(d.channelNames(), ", "))
		return
	}
	s.channel = c.ID
	d.out.printf("(You are in #%s now.)\n", c.Name)
}

func (d *director) channelNames() []string {
	var out []string
	for _, c := range d.w.srv.Channels() {
		if !c.IM && !c.MPIM {
			out = append(out, "#"+c.Name)
		}
	}
	return out
}

func (d *director) clickNumber(ctx context.Context, s *session, arg string) error {
	n, err := strconv.Atoi(arg)
	b, ok := d.w.tr.button(n)
	if err != nil || !ok {
		d.out.printf("(Say which button: click 1 is the first one listed in the transcript.)\n")
		return nil
	}
	return d.tolerate(d.click(ctx, s.user, b))
}

var refRe = regexp.MustCompile(`(^|\s)([@#])([a-z0-9._-]+)`)

// encode writes @people, @groups and #channels in a typed message the way Slack
// sends them to apps: <@U1>, <!subteam^S1|@oncall>, <#C1|name>.
func (d *director) encode(text string) string {
	return refRe.ReplaceAllStringFunc(text, func(m string) string {
		sub := refRe.FindStringSubmatch(m)
		space, sigil, name := sub[1], sub[2], sub[3]
		if sigil == "#" {
			if c, ok := d.w.srv.Channel(name); ok && !c.IM {
				return space + "<#" + c.ID + "|" + c.Name + ">"
			}
			return m
		}
		if u := d.w.user(name); u.ID != "" {
			return space + "<@" + u.ID + ">"
		}
		for id, handle := range d.w.groups {
			if handle == name {
				return space + "<!subteam^" + id + "|@" + handle + ">"
			}
		}
		if slices.Contains([]string{"here", "channel", "everyone"}, name) {
			return space + "<!" + name + ">"
		}
		return m
	})
}
