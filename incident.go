package runbook

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Incident is something going wrong that people are responding to in Slack.
type Incident struct {
	// ID is the incident's number; people see it as its Key, "INC-<ID>".
	ID       int64
	Title    string
	Severity string
	Status   string
	Service  string
	// Commander is the Slack user id of whoever leads the response, or "". It is the
	// holder of the commander role (RoleCommander), which Roles never holds.
	Commander string
	// Roles maps the other roles assigned (incidents.roles: "comms", "scribe") to the
	// Slack user id holding each. Incidents read from a store always have a non-nil map.
	Roles map[string]string
	// Channel is the incident's own Slack channel id, once a runbook has created it.
	Channel string
	// ChannelPrivacy is whether Channel is public or private, as Slack said when the
	// channel became the incident's; ChannelPrivacyUnknown when nobody asked Slack
	// (a channel given by id, or an incident recorded before it was kept).
	ChannelPrivacy ChannelPrivacy
	// AnnouncementChannel and AnnouncementTS say where the declaration was announced,
	// so that status changes can edit that message in place.
	AnnouncementChannel string
	AnnouncementTS      string
	// UpdatesTS is the root message of the incident's thread in the investigation
	// updates channel, so that its updates stay together.
	UpdatesTS string
	// Fields holds custom fields. Incidents read from a store always have a non-nil map.
	Fields map[string]string
	// Summary is what the responders say the incident is about so far (update
	// summary="…"), or "".
	Summary   string
	CreatedBy string
	// RequestKey is the id of the request that declared the incident (Request.ID), or
	// "". A request handled twice — redelivered by Slack, or finished by the next
	// process after a crash — finds the incident it declared by it instead of
	// declaring another.
	RequestKey string
	// DedupKey is what an API caller or an alert group declared the incident under
	// (api.DedupKey), or "". While the incident is open no other open incident has
	// it, so a second declaration under it finds this one; resolving frees it.
	DedupKey  string
	CreatedAt time.Time
	UpdatedAt time.Time
	// ResolvedAt is zero while the incident is open; a store lists an incident as open
	// exactly when it is zero.
	ResolvedAt time.Time
	// ReopenedAt is when the incident last moved from resolved back to an open status,
	// or zero if it never did.
	ReopenedAt time.Time
}

// ChannelPrivacy says whether an incident's channel is public or private.
type ChannelPrivacy string

// ChannelPrivacy values. A list shows an incident whose channel is public to anyone;
// one whose channel is private, or not known to be public, only to the people who may
// see that channel.
const (
	ChannelPrivacyUnknown ChannelPrivacy = ""
	ChannelPublic         ChannelPrivacy = "public"
	ChannelPrivate        ChannelPrivacy = "private"
)

// IncidentChannel is an incident's channel and what is known of its privacy.
type IncidentChannel struct {
	IncidentID int64
	Channel    string
	Privacy    ChannelPrivacy
}

// PrivacyOf is the privacy of conv.
func PrivacyOf(conv Conversation) ChannelPrivacy {
	if conv.Private {
		return ChannelPrivate
	}
	return ChannelPublic
}

// Role returns the user id holding a role, or "": RoleCommander is the commander.
func (i *Incident) Role(name string) string {
	if name == RoleCommander {
		return i.Commander
	}
	return i.Roles[name]
}

// AssignedRoles lists the roles held other than commander, sorted by name, as
// "name=user id" pairs in order, so that drawings show them the same way each time.
func (i *Incident) AssignedRoles() [][2]string {
	names := make([]string, 0, len(i.Roles))
	for name, user := range i.Roles {
		if user != "" && name != RoleCommander {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	out := make([][2]string, len(names))
	for k, name := range names {
		out[k] = [2]string{name, i.Roles[name]}
	}
	return out
}

// RoleCommander is the role every incident has: its commander (Incident.Commander).
const RoleCommander = "commander"

// MaxRoleName bounds a role's name, which shows in topics and announcements.
const MaxRoleName = 32

// ValidRoleName reports whether name can be a role: a lowercase word — a letter, then
// letters, digits or "_" — so that it reads the same in a command, a topic and a
// template (incident.roles.NAME), and can carry no markup.
func ValidRoleName(name string) bool {
	if name == "" || len(name) > MaxRoleName || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for _, r := range name {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}

// Key returns the incident's human key, such as "INC-42".
func (i *Incident) Key() string { return IncidentKey(i.ID) }

// IncidentChange is an update to an incident, from a person or a runbook step; empty
// fields stay as they are.
type IncidentChange struct {
	Status    string
	Severity  string
	Commander string
	// Roles assigns roles other than commander: role name → Slack user id.
	Roles map[string]string
	Note  string
	// Fields set custom fields by name (a user field holds a user id); "" clears one.
	Fields map[string]string
	// Summary replaces the incident's summary when not nil.
	Summary *string
	// By is who asks: a Slack user id, or RunActor for a runbook step.
	By string
	// Key is the id of the request that asks for the change (Request.ID, or a run's
	// step), or "". The change is applied once per key: the request handled again
	// brings Slack in step and starts what the change triggers, but neither records
	// nor announces it twice.
	Key string
}

// RunActor is how a run appears as the actor of a change or timeline entry:
// "runbook R-12".
func RunActor(runID int64) string { return ActorRunbook + " " + RunKey(runID) }

// Timeline entry kinds the project writes; others may be added.
const (
	TimelineDeclared = "declared"
	TimelineStatus   = "status"
	TimelineSeverity = "severity"
	TimelineNote     = "note"
	TimelineRun      = "run"
	TimelineApproval = "approval"
	TimelineResolved = "resolved"
	TimelineRole     = "role"
	TimelineReopened = "reopened"
	TimelineField    = "field"
	TimelineSummary  = "summary"
)

// ActorRunbook is the Actor of timeline entries that Runbook itself wrote.
const ActorRunbook = "runbook"

// apiActorPrefix starts the Actor of what an API token did. A Slack user id never
// contains a colon, so an API actor is never mistaken for a person.
const apiActorPrefix = "api:"

// APIActor is how an API token appears as the actor of a change, timeline entry or
// audit row: "api:ci" for the token named ci.
func APIActor(token string) string { return apiActorPrefix + token }

// APIActorName returns the token name of an APIActor, and whether actor is one.
func APIActorName(actor string) (string, bool) { return strings.CutPrefix(actor, apiActorPrefix) }

// TimelineEntry is one thing that happened during an incident.
type TimelineEntry struct {
	IncidentID int64
	// At is when it happened; a store fills in the current time when it is zero.
	At time.Time
	// Actor is the Slack user id of who did it, or ActorRunbook.
	Actor string
	// Kind says what happened: one of the Timeline* constants, or another word.
	Kind string
	Text string
}

// IncidentFilter narrows ListIncidents.
type IncidentFilter struct {
	// Open, if set, keeps only open (true) or only resolved (false) incidents.
	Open *bool
	// Limit caps how many incidents are returned; 0 means no cap.
	Limit int
}

// IncidentStore keeps incidents and their timelines.
type IncidentStore interface {
	IncidentNotes
	// CreateIncident stores inc, setting its ID, CreatedAt and UpdatedAt, and writes a
	// "declared" timeline entry in the same transaction, followed by also (their
	// incident and time set to the new incident's). If inc.RequestKey is set and
	// an incident was already created under it, or inc.DedupKey is set and an open
	// incident holds it, nothing is written and inc is set to that incident.
	CreateIncident(ctx context.Context, inc *Incident, also ...TimelineEntry) error
	// Incident returns the incident numbered id, or ENOTFOUND.
	Incident(ctx context.Context, id int64) (*Incident, error)
	// IncidentByRequestKey returns the incident created under a request key, or
	// ENOTFOUND.
	IncidentByRequestKey(ctx context.Context, key string) (*Incident, error)
	// IncidentByChannel returns the incident whose own channel is channelID, or ENOTFOUND.
	IncidentByChannel(ctx context.Context, channelID string) (*Incident, error)
	// UnknownChannelPrivacy lists up to limit incidents, newest first, that have a
	// channel whose privacy is not known.
	UnknownChannelPrivacy(ctx context.Context, limit int) ([]IncidentChannel, error)
	// SetChannelPrivacy records each channel's privacy for its incident, unless the
	// incident has another channel by now or its privacy was set meanwhile.
	SetChannelPrivacy(ctx context.Context, channels []IncidentChannel) error
	// UpdateIncident reads the incident, lets fn change it and writes it back, all in
	// one write transaction, so concurrent updates never lose each other's changes.
	// If fn returns an error nothing is written and that error is returned. It sets
	// UpdatedAt and returns the incident as stored.
	UpdateIncident(ctx context.Context, id int64, fn func(*Incident) error) (*Incident, error)
	// UpdateIncidentOnce is UpdateIncident for a change a request asks for, applied at
	// most once per request key however often the request is handled: when key was
	// applied already, fn is not called, nothing is written, and the incident is
	// returned as stored with applied false. An empty key is always applied.
	UpdateIncidentOnce(ctx context.Context, id int64, key string, fn func(*Incident) error) (inc *Incident, applied bool, err error)
	// ListIncidents returns the incidents that match f, newest first.
	ListIncidents(ctx context.Context, f IncidentFilter) ([]*Incident, error)
	// AddTimeline appends an entry to an incident's timeline.
	AddTimeline(ctx context.Context, e TimelineEntry) error
	// Timeline returns an incident's timeline, oldest first, or ENOTFOUND.
	Timeline(ctx context.Context, id int64) ([]TimelineEntry, error)
}
