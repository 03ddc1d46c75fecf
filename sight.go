package runbook

import (
	"context"
	"fmt"
	"strings"
)

// IncidentReader reads an incident by its number; an IncidentStore is one.
type IncidentReader interface {
	Incident(ctx context.Context, id int64) (*Incident, error)
}

// IsChannelPrivate says whether channel is private: so if recorded as private, else as
// Slack says now (a channel recorded public may have been made private since). A
// channel Slack no longer shows the bot counts as private; Slack giving no answer is an
// error, never a "public".
func IsChannelPrivate(ctx context.Context, slack Slack, channel string, recorded ChannelPrivacy) (bool, error) {
	if recorded == ChannelPrivate {
		return true, nil
	}
	conv, err := slack.ChannelInfo(ctx, channel)
	if SlackUnanswered(err) {
		return false, fmt.Errorf("check whether %s is private: %w", channel, err)
	}
	return err != nil || conv.Private, nil
}

// Sight decides what one person may see of incidents, channels and approval requests,
// for one request: what belongs to an incident whose channel is private is theirs to
// see only if they are in that channel, declared the incident or lead it; what was
// asked for in a private channel, only if they are in it. Answers are kept for the
// request, and which private channels the person is in is read from Slack once, the
// first time it is needed (users.conversations), so a list of twenty private
// incidents costs one call.
//
// A Sight for a list trusts an incident's record that its channel is public; one made
// with Live, for a decision, asks Slack, since a public channel can be made private.
type Sight struct {
	slack     Slack
	incidents IncidentReader
	user      string
	here      string
	live      bool

	incident map[int64]bool
	channel  map[string]bool
	private  map[string]bool // the private channels user shares with the bot, once read
}

// NewSight is what user, asking in channel here ("" for nowhere in particular), may
// see.
func NewSight(slack Slack, incidents IncidentReader, user, here string) *Sight {
	return &Sight{slack: slack, incidents: incidents, user: user, here: here,
		incident: map[int64]bool{}, channel: map[string]bool{}}
}

// User is whose sight it is.
func (s *Sight) User() string { return s.user }

// Live makes the sight ask Slack about channels an incident recorded as public.
func (s *Sight) Live() *Sight {
	s.live = true
	return s
}

// Incident says whether the person may see inc.
func (s *Sight) Incident(ctx context.Context, inc *Incident) (bool, error) {
	if ok, known := s.incident[inc.ID]; known {
		return ok, nil
	}
	ok := inc.Channel == "" || s.user == inc.CreatedBy || s.user == inc.Commander
	if !ok {
		var err error
		if ok, err = s.inChannel(ctx, inc.Channel, s.privacyOf(inc)); err != nil {
			return false, err
		}
	}
	s.incident[inc.ID] = ok
	return ok, nil
}

// IncidentID is Incident for an incident known by its number; 0 is no incident, which
// anyone may see, and an incident that does not exist nobody.
func (s *Sight) IncidentID(ctx context.Context, id int64) (bool, error) {
	if id == 0 {
		return true, nil
	}
	if ok, known := s.incident[id]; known {
		return ok, nil
	}
	inc, err := s.incidents.Incident(ctx, id)
	if ErrorCode(err) == ENOTFOUND {
		s.incident[id] = false
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return s.Incident(ctx, inc)
}

// Channel says whether the person may see what was done in channel: any public
// channel, a private one they are in, and a direct message only if it is where they
// ask. A channel Slack no longer shows the bot counts as private.
func (s *Sight) Channel(ctx context.Context, channel string) (bool, error) {
	return s.inChannel(ctx, channel, ChannelPrivacyUnknown)
}

// Approval says whether the person may see an approval request: whoever asked for it;
// the people who may see the channel it was asked in (before it is posted, its
// incident's channel); and, wherever it was asked, its incident's declarer and
// commander and the members of the incident's private channel.
func (s *Sight) Approval(ctx context.Context, a *Approval) (bool, error) {
	if a.RequestedBy != "" && a.RequestedBy == s.user {
		return true, nil
	}
	var inc *Incident
	if a.IncidentID != 0 {
		var err error
		if inc, err = s.incidents.Incident(ctx, a.IncidentID); err != nil {
			return false, fmt.Errorf("check who may see %s: %w", a.Key(), err)
		}
		if s.user == inc.CreatedBy || s.user == inc.Commander {
			return true, nil
		}
	}
	channel, privacy := a.Channel, ChannelPrivacyUnknown
	if inc != nil && (channel == "" || channel == inc.Channel) {
		channel, privacy = inc.Channel, s.privacyOf(inc)
	}
	ok, err := s.inChannel(ctx, channel, privacy)
	if ok || err != nil || inc == nil || inc.Channel == "" || inc.Channel == channel {
		return ok, err
	}
	return s.member(ctx, inc.Channel) // asked elsewhere: the incident's private channel still counts
}

// privacyOf is what the sight takes an incident's channel to be. For a list, a channel
// whose privacy the incident never recorded counts as private until the start-up pass
// learns it (incidents.Service): asking Slack about each (conversations.info, 50 a
// minute) would hold a list of twenty for seconds. A decision asks.
func (s *Sight) privacyOf(inc *Incident) ChannelPrivacy {
	if inc.ChannelPrivacy == ChannelPrivacyUnknown && !s.live {
		return ChannelPrivate
	}
	return inc.ChannelPrivacy
}

func (s *Sight) inChannel(ctx context.Context, channel string, privacy ChannelPrivacy) (bool, error) {
	if channel == "" || channel == s.here {
		return true, nil
	}
	if ok, known := s.channel[channel]; known {
		return ok, nil
	}
	ok, err := s.decideChannel(ctx, channel, privacy)
	if err != nil {
		return false, err
	}
	s.channel[channel] = ok
	return ok, nil
}

func (s *Sight) decideChannel(ctx context.Context, channel string, privacy ChannelPrivacy) (bool, error) {
	switch {
	case strings.HasPrefix(channel, "D"):
		return false, nil // someone else's direct message with the bot
	case privacy == ChannelPublic && !s.live:
		return true, nil
	}
	private, err := IsChannelPrivate(ctx, s.slack, channel, privacy)
	if !private || err != nil {
		return !private && err == nil, err
	}
	return s.member(ctx, channel)
}

// member says whether the person is in a private channel, from one read of the private
// channels they share with the bot. Slack failing or refusing (a missing scope) is an
// error, never a silent "no".
func (s *Sight) member(ctx context.Context, channel string) (bool, error) {
	if s.private == nil {
		in, err := s.slack.PrivateChannelsOf(ctx, s.user)
		if err != nil {
			return false, fmt.Errorf("check which private channels may be shown: %w", err)
		}
		s.private = in
	}
	return s.private[channel], nil
}
