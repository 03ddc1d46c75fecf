package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
)

// maxChannelName is Slack's limit on a channel name.
const maxChannelName = 80

// maxSuffix bounds how many "-2", "-3"… names create_channel tries.
const maxSuffix = 50

// channelWords reads the characters mrkdwn escapes as people mean them in a name: the
// name input is rendered for Slack, so a title's "&" arrives as "&amp;", and "&" reads
// "and" while "<" and ">" carry no word at all. Without this a title "Checkout &
// payments" became #checkout-amp-payments.
var channelWords = strings.NewReplacer("&amp;", " and ", "&lt;", "", "&gt;", "", "&", " and ", "<", "", ">", "")

// ChannelName makes a name valid for Slack: lowercase, "&" spelled "and", "<" and ">"
// dropped, anything else but letters, digits, "-" and "_" turned into "-", runs of "-"
// folded, at most 80 characters. It fails when nothing Slack accepts is left.
func ChannelName(name string) (string, error) {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(channelWords.Replace(name)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.Trim(b.String(), "-_")
	if len(out) > maxChannelName {
		out = strings.TrimRight(out[:maxChannelName], "-_")
	}
	if out == "" {
		return "", runbook.Errorf(runbook.EINVALID, "the channel name %q has no letters or digits Slack accepts", name)
	}
	return out, nil
}

// withSuffix returns name-n, shortened so that it stays within Slack's limit.
func withSuffix(name string, n int) string {
	if n <= 1 {
		return name
	}
	suffix := fmt.Sprintf("-%d", n)
	if len(name)+len(suffix) > maxChannelName {
		name = strings.TrimRight(name[:maxChannelName-len(suffix)], "-_")
	}
	return name + suffix
}

// createChannel creates the incident's channel (or reuses one), sets its topic and
// purpose and invites people. A retry after a crash adopts the channel the earlier
// attempt created instead of making a second one.
func (f slackActions) createChannel(ctx context.Context, s *stepRun) (map[string]any, error) {
	base, err := ChannelName(s.str("name"))
	if err != nil {
		return nil, err
	}
	ch, err := s.adoptChannel(ctx)
	if err != nil {
		return nil, err
	}
	if ch == nil {
		if ch, err = s.newChannel(ctx, base); err != nil {
			return nil, err
		}
	}
	// Claimed before it is set up: a private channel that exists is the incident's
	// (and keeps the incident out of lists for outsiders) even if the set-up fails.
	if err := f.claim(ctx, s, *ch); err != nil {
		return nil, err
	}
	out := map[string]any{"id": ch.ID, "name": ch.Name}
	if err := s.setUpChannel(ctx, ch.ID, out); err != nil {
		return nil, err
	}
	return out, nil
}

// adoptChannel finds the channel an earlier attempt of this step created.
func (s *stepRun) adoptChannel(ctx context.Context) (*runbook.Conversation, error) {
	name, _ := s.progress["channel_name"].(string)
	if s.attempt <= 1 || name == "" {
		return nil, nil
	}
	ch, err := s.e.d.Slack.FindChannel(ctx, name)
	if runbook.SlackCode(err) == "channel_not_found" {
		return nil, nil // the earlier attempt died before Slack created it
	}
	if err != nil {
		return nil, err
	}
	if ch.Creator != s.e.bot.BotUserID {
		return nil, nil // someone else's channel took the name meanwhile
	}
	return &ch, nil
}

// newChannel creates a channel named base, or base-2, base-3… when the name is taken
// (on_exists: suffix), or reuses the existing one (on_exists: reuse).
func (s *stepRun) newChannel(ctx context.Context, base string) (*runbook.Conversation, error) {
	for n := 1; n <= maxSuffix; n++ {
		name := withSuffix(base, n)
		// Written before the call: if the process dies after Slack created the channel,
		// the retry knows its name.
		if err := s.saveProgress(ctx, map[string]any{"channel_name": name}); err != nil {
			return nil, err
		}
		ch, err := s.e.d.Slack.CreateChannel(ctx, name, s.flag("private"))
		if err == nil {
			return &ch, nil
		}
		if runbook.SlackCode(err) != "name_taken" {
			return nil, fmt.Errorf("create #%s: %w", name, err)
		}
		if s.str("on_exists") == "reuse" {
			return s.reuseChannel(ctx, name)
		}
	}
	return nil, runbook.Errorf(runbook.ECONFLICT, "#%s and %d numbered variants are all taken", base, maxSuffix-1)
}

func (s *stepRun) reuseChannel(ctx context.Context, name string) (*runbook.Conversation, error) {
	ch, err := s.e.d.Slack.FindChannel(ctx, name)
	if runbook.SlackCode(err) == "channel_not_found" {
		return nil, runbook.Errorf(runbook.EINVALID, "#%s exists but the bot cannot see it (a private channel?): invite the bot or choose another name", name)
	}
	if err != nil {
		return nil, err
	}
	if ch.Archived {
		return nil, runbook.Errorf(runbook.EINVALID, "#%s exists but is archived: unarchive it or choose another name", name)
	}
	return &ch, nil
}

// setUpChannel applies topic, purpose and invitations; each is safe to repeat. People
// Slack will not let in are a warning in out: the channel is there and the run goes on.
func (s *stepRun) setUpChannel(ctx context.Context, channel string, out map[string]any) error {
	if topic := s.str("topic"); topic != "" {
		if err := s.e.d.Slack.SetTopic(ctx, channel, slackui.Truncate(topic, 250)); err != nil {
			return fmt.Errorf("set topic: %w", err)
		}
	}
	if purpose := s.str("purpose"); purpose != "" {
		if err := s.e.d.Slack.SetPurpose(ctx, channel, slackui.Truncate(purpose, 250)); err != nil {
			return fmt.Errorf("set purpose: %w", err)
		}
	}
	users, skipped, err := s.people(ctx, s.list("invite"))
	if err != nil {
		return err
	}
	s.warnSkipped(out, skipped)
	_, refused, err := InviteAll(ctx, s.e.d.Slack, channel, without(users, s.e.bot.BotUserID))
	if err != nil {
		return err
	}
	s.warnRefused(out, refused)
	return nil
}

// userRefusals are the errors with which Slack refuses one user of an invitation, as
// opposed to the channel or the bot (not_in_channel, is_archived, missing_scope…).
var userRefusals = []string{"user_not_found", "cant_invite", "user_is_bot", "ura_max_channels",
	"user_is_restricted", "user_is_ultra_restricted", "user_disabled", "cant_invite_self"}

// InviteAll invites users to channel. Slack refuses a whole batch when it refuses one
// user in it, so then each is invited on its own: the others get in, and refused lists
// "<@U…> (reason)" for those who did not. The invite command shares it with the
// slack.invite action.
func InviteAll(ctx context.Context, slack runbook.Channels, channel string, users []string) (invited, refused []string, err error) {
	err = slack.InviteToChannel(ctx, channel, users)
	if err == nil || !slices.Contains(userRefusals, runbook.SlackCode(err)) {
		return users, nil, err
	}
	for _, u := range users {
		err := slack.InviteToChannel(ctx, channel, []string{u})
		switch code := runbook.SlackCode(err); {
		case err == nil:
			invited = append(invited, u)
		case slices.Contains(userRefusals, code):
			refused = append(refused, fmt.Sprintf("<@%s> (%s)", u, code))
		default:
			return invited, refused, err
		}
	}
	return invited, refused, nil
}

// warnRefused records who could not be invited.
func (s *stepRun) warnRefused(out map[string]any, refused []string) {
	if len(refused) == 0 {
		return
	}
	out["not_invited"] = strings.Join(refused, ", ")
	s.warn(out, "Slack would not invite "+strings.Join(refused, ", "))
}

// warnSkipped records the entries of an invitation list that were passed over: user
// groups the workspace cannot use.
func (s *stepRun) warnSkipped(out map[string]any, skipped []string) {
	if len(skipped) == 0 {
		return
	}
	out["skipped"] = strings.Join(skipped, "; ")
	what := "a user group that cannot be used here: "
	if len(skipped) > 1 {
		what = "user groups that cannot be used here: "
	}
	s.warn(out, "skipped "+what+strings.Join(skipped, "; "))
}

// claim makes a new channel the incident's own, if it has none yet.
func (f slackActions) claim(ctx context.Context, s *stepRun, ch runbook.Conversation) error {
	if s.run.IncidentID == 0 {
		return nil
	}
	return f.incidents.ClaimChannel(ctx, s.run.IncidentID, ch)
}

// people turns invite entries into user ids: ids, <@mentions>, @handles, user groups
// (by id or @handle), and "commander" for the incident's commander. A user group the
// workspace cannot use — its Slack plan (Free) has none, or the group is disabled — is
// skipped, with the sentence saying why in skipped: the people listed by id or name are
// still invited, and the run goes on. Any other entry that names nobody fails the step.
func (s *stepRun) people(ctx context.Context, refs []string) (ids, skipped []string, err error) {
	for _, ref := range refs {
		found, err := s.resolvePeople(ctx, ref)
		if runbook.GroupUnusable(err) {
			skipped = append(skipped, runbook.ErrorMessage(err))
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		for _, id := range found {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return ids, skipped, nil
}

func (s *stepRun) resolvePeople(ctx context.Context, ref string) ([]string, error) {
	switch {
	case ref == "":
		return nil, nil
	case strings.EqualFold(ref, "commander"):
		inc, err := s.incident(ctx)
		if err != nil || inc.Commander == "" {
			return nil, err
		}
		return []string{inc.Commander}, nil
	}
	people, err := runbook.People(ctx, s.e.d.Slack, ref)
	if runbook.GroupUnusable(err) {
		return nil, err
	}
	if runbook.ErrorCode(err) == runbook.ENOTFOUND {
		return nil, runbook.Errorf(runbook.EINVALID, "%s", runbook.ErrorMessage(err))
	}
	return people, err
}

// invite adds people to a channel.
func invite(ctx context.Context, s *stepRun) (map[string]any, error) {
	channel, err := s.channel(ctx)
	if err != nil {
		return nil, err
	}
	users, skipped, err := s.people(ctx, s.list("users"))
	if err != nil {
		return nil, err
	}
	users = without(users, s.e.bot.BotUserID)
	invited, refused, err := InviteAll(ctx, s.e.d.Slack, channel, users)
	if err != nil {
		return nil, err
	}
	if len(invited) == 0 && len(refused) > 0 {
		return nil, runbook.Errorf(runbook.EINVALID, "Slack would not invite anyone: %s", strings.Join(refused, ", "))
	}
	out := map[string]any{"invited": strings.Join(invited, ",")}
	s.warnSkipped(out, skipped)
	s.warnRefused(out, refused)
	return out, nil
}

// setTopic sets a channel's topic.
func setTopic(ctx context.Context, s *stepRun) (map[string]any, error) {
	channel, err := s.channel(ctx)
	if err != nil {
		return nil, err
	}
	topic := slackui.Truncate(s.str("topic"), 250)
	if err := s.e.d.Slack.SetTopic(ctx, channel, topic); err != nil {
		return nil, err
	}
	return map[string]any{"topic": topic}, nil
}

// archiveChannel archives a channel; an archived one is fine.
func archiveChannel(ctx context.Context, s *stepRun) (map[string]any, error) {
	channel, err := s.channel(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.e.d.Slack.ArchiveChannel(ctx, channel); err != nil {
		return nil, err
	}
	return map[string]any{"archived": true}, nil
}

func without(list []string, s string) []string {
	out := list[:0:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}
