package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/runbookhq/runbook"
)

// Incidents is the SQLite implementation of runbook.IncidentStore.
type Incidents struct{ db *DB }

var _ runbook.IncidentStore = (*Incidents)(nil)

// Incidents returns the incident store.
func (db *DB) Incidents() *Incidents { return &Incidents{db: db} }

const incidentColumns = `id, title, severity, status, service, commander, channel,
	announcement_channel, announcement_ts, updates_ts, fields, created_by, created_at, updated_at, resolved_at,
	COALESCE(request_key, ''), reopened_at,
	(SELECT COALESCE(json_group_object(role, user_id), '{}') FROM incident_roles r WHERE r.incident_id = incidents.id), summary,
	COALESCE(dedup_key, ''), channel_privacy`

// CreateIncident stores inc and its "declared" timeline entry, then the entries also
// (what the declaration set besides), and sets inc's ID,
// CreatedAt and UpdatedAt. If inc.RequestKey is set and an incident was created under
// it already, or inc.DedupKey is set and an open incident has it, nothing is written
// and inc is set to that incident.
func (s *Incidents) CreateIncident(ctx context.Context, inc *runbook.Incident, also ...runbook.TimelineEntry) error {
	if err := validateIncident(inc); err != nil {
		return err
	}
	fields, err := encodeFields(inc.Fields)
	if err != nil {
		return err
	}
	now := millis(s.db.Now())
	var id int64
	var existing *runbook.Incident
	err = s.db.update(ctx, func(tx *sql.Tx) error {
		// Looked up in the write transaction, so two handlings of one request racing
		// still create one incident.
		found, err := incidentByRequestKey(ctx, tx, inc.RequestKey)
		if err != nil || found != nil {
			existing = found
			return err
		}
		if err := checkChannelFree(ctx, tx, inc.Channel, 0); err != nil {
			return err
		}
		// The open-dedup-key index decides whether another open incident has the key:
		// were two declarations to race to the insert, the second would insert nothing.
		// The look-up first is not what makes it safe; it keeps a repeated
		// declaration from spending an incident number (an insert that does nothing
		// still advances AUTOINCREMENT).
		if inc.DedupKey != "" {
			found, err := findOpenByDedupKey(ctx, tx, inc.DedupKey)
			if err != nil || found != nil {
				existing = found
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO incidents (title, severity, status, service,
			commander, channel, announcement_channel, announcement_ts, updates_ts, fields, created_by,
			created_at, updated_at, resolved_at, request_key, summary, reopened_at, dedup_key, channel_privacy)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (dedup_key) WHERE dedup_key IS NOT NULL AND resolved_at IS NULL DO NOTHING`,
			inc.Title, inc.Severity, inc.Status, inc.Service, inc.Commander, inc.Channel,
			inc.AnnouncementChannel, inc.AnnouncementTS, inc.UpdatesTS, fields, inc.CreatedBy,
			now.UnixMilli(), now.UnixMilli(), nullMillis(inc.ResolvedAt), nullString(inc.RequestKey), inc.Summary,
			nullMillis(inc.ReopenedAt), nullString(inc.DedupKey), string(inc.ChannelPrivacy))
		if err != nil {
			return fmt.Errorf("insert incident: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				existing, err = openIncidentByDedupKey(ctx, tx, inc.DedupKey)
			}
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		if len(inc.Roles) > 0 {
			if err := writeRoles(ctx, tx, id, inc.Roles); err != nil {
				return err
			}
		}
		if err := addTimeline(ctx, tx, runbook.TimelineEntry{
			IncidentID: id,
			At:         now,
			Actor:      inc.CreatedBy,
			Kind:       runbook.TimelineDeclared,
			Text:       fmt.Sprintf("Declared %s: %s", inc.Severity, inc.Title),
		}); err != nil {
			return err
		}
		for _, e := range also {
			e.IncidentID, e.At = id, now
			if err := addTimeline(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create incident: %w", err)
	}
	if existing != nil {
		*inc = *existing
		return nil
	}
	inc.ID, inc.CreatedAt, inc.UpdatedAt = id, now, now
	if !inc.ResolvedAt.IsZero() {
		inc.ResolvedAt = millis(inc.ResolvedAt)
	}
	return nil
}

// Incident returns the incident numbered id.
func (s *Incidents) Incident(ctx context.Context, id int64) (*runbook.Incident, error) {
	return findIncident(ctx, s.db.read, id)
}

// IncidentByRequestKey returns the incident created under a request key.
func (s *Incidents) IncidentByRequestKey(ctx context.Context, key string) (*runbook.Incident, error) {
	inc, err := incidentByRequestKey(ctx, s.db.read, key)
	if err != nil {
		return nil, fmt.Errorf("find incident by request: %w", err)
	}
	if inc == nil {
		return nil, runbook.Errorf(runbook.ENOTFOUND, "No incident was declared by this request.")
	}
	return inc, nil
}

// OpenIncidentByDedupKey returns the open incident holding a dedup key.
func (s *Incidents) OpenIncidentByDedupKey(ctx context.Context, key string) (*runbook.Incident, error) {
	inc, err := findOpenByDedupKey(ctx, s.db.read, key)
	if err != nil {
		return nil, fmt.Errorf("find incident by dedup key: %w", err)
	}
	if inc == nil {
		return nil, runbook.Errorf(runbook.ENOTFOUND, "No open incident was declared under this key.")
	}
	return inc, nil
}

// IncidentByChannel returns the incident whose own channel is channelID.
//
// The statement repeats the channel index's condition (channel <> ”): SQLite uses a
// partial index only for a query whose WHERE contains the index's, and would otherwise
// read every incident.
func (s *Incidents) IncidentByChannel(ctx context.Context, channelID string) (*runbook.Incident, error) {
	if channelID == "" {
		return nil, runbook.Errorf(runbook.ENOTFOUND, "No incident uses this channel.")
	}
	inc, err := scanIncident(s.db.read.QueryRowContext(ctx,
		"SELECT "+incidentColumns+" FROM incidents WHERE channel = ? AND channel <> ''", channelID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, runbook.Errorf(runbook.ENOTFOUND, "No incident uses <#%s>.", channelID)
	}
	if err != nil {
		return nil, fmt.Errorf("find incident by channel %s: %w", channelID, err)
	}
	return inc, nil
}

// UpdateIncident reads the incident, applies fn and writes the result, in one write
// transaction: since there is one writer, concurrent updates apply one after another.
// fn runs while the write lock is held, so it must be quick and must not call the
// store. It may not change ID, CreatedBy, CreatedAt or RequestKey.
func (s *Incidents) UpdateIncident(ctx context.Context, id int64, fn func(*runbook.Incident) error) (*runbook.Incident, error) {
	inc, _, err := s.UpdateIncidentOnce(ctx, id, "", fn)
	return inc, err
}

// UpdateIncidentOnce is UpdateIncident applied at most once per request key: the key
// is recorded in the transaction that writes the change, and a key recorded already
// returns the incident as stored, unchanged, with applied false.
func (s *Incidents) UpdateIncidentOnce(ctx context.Context, id int64, key string, fn func(*runbook.Incident) error) (*runbook.Incident, bool, error) {
	var out *runbook.Incident
	applied := false
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		inc, err := findIncident(ctx, tx, id)
		if err != nil {
			return err
		}
		if done, err := changeApplied(ctx, tx, key); err != nil || done {
			out = inc
			return err
		}
		if err := updateIncident(ctx, tx, inc, s.db.Now(), fn); err != nil {
			return err
		}
		if key != "" {
			if _, err := tx.ExecContext(ctx, "INSERT INTO incident_changes (request_key, incident_id, at) VALUES (?, ?, ?)",
				key, id, inc.UpdatedAt.UnixMilli()); err != nil {
				return fmt.Errorf("record change: %w", err)
			}
		}
		out, applied = inc, true
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("update %s: %w", runbook.IncidentKey(id), err)
	}
	return out, applied, nil
}

// updateIncident applies fn to inc, as read in tx, and writes it back.
func updateIncident(ctx context.Context, tx *sql.Tx, inc *runbook.Incident, now time.Time, fn func(*runbook.Incident) error) error {
	id, createdBy, createdAt, key, dedup := inc.ID, inc.CreatedBy, inc.CreatedAt, inc.RequestKey, inc.DedupKey
	wasResolved := !inc.ResolvedAt.IsZero()
	roles := maps.Clone(inc.Roles) // fn may change the map in place
	if err := fn(inc); err != nil {
		return err
	}
	inc.ID, inc.CreatedBy, inc.CreatedAt, inc.RequestKey, inc.DedupKey = id, createdBy, createdAt, key, dedup
	if wasResolved && inc.ResolvedAt.IsZero() && inc.DedupKey != "" {
		if err := giveUpTakenDedupKey(ctx, tx, inc); err != nil {
			return err
		}
	}
	inc.UpdatedAt = millis(now)
	if !inc.ResolvedAt.IsZero() {
		inc.ResolvedAt = millis(inc.ResolvedAt)
	}
	if err := validateIncident(inc); err != nil {
		return err
	}
	if err := checkChannelFree(ctx, tx, inc.Channel, id); err != nil {
		return err
	}
	fields, err := encodeFields(inc.Fields)
	if err != nil {
		return err
	}
	if !inc.ReopenedAt.IsZero() {
		inc.ReopenedAt = millis(inc.ReopenedAt)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE incidents SET title = ?, severity = ?, status = ?,
		service = ?, commander = ?, channel = ?, announcement_channel = ?, announcement_ts = ?,
		updates_ts = ?, fields = ?, updated_at = ?, resolved_at = ?, summary = ?, reopened_at = ?, dedup_key = ?,
		channel_privacy = ? WHERE id = ?`,
		inc.Title, inc.Severity, inc.Status, inc.Service, inc.Commander, inc.Channel,
		inc.AnnouncementChannel, inc.AnnouncementTS, inc.UpdatesTS, fields, inc.UpdatedAt.UnixMilli(),
		nullMillis(inc.ResolvedAt), inc.Summary, nullMillis(inc.ReopenedAt), nullString(inc.DedupKey),
		string(inc.ChannelPrivacy), id); err != nil {
		return fmt.Errorf("write incident: %w", err)
	}
	if maps.Equal(roles, inc.Roles) {
		return nil // most updates change no role
	}
	return writeRoles(ctx, tx, id, inc.Roles)
}

// giveUpTakenDedupKey clears the dedup key of an incident being reopened when a newer
// open incident was declared under it meanwhile: that one goes on taking the key's
// alerts, and reopening is never refused for it.
func giveUpTakenDedupKey(ctx context.Context, tx *sql.Tx, inc *runbook.Incident) error {
	var other int64
	err := tx.QueryRowContext(ctx, "SELECT id FROM incidents WHERE dedup_key = ? AND dedup_key IS NOT NULL AND resolved_at IS NULL",
		inc.DedupKey).Scan(&other)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("check dedup key: %w", err)
	}
	inc.DedupKey = ""
	return nil
}

// writeRoles stores who holds an incident's roles other than commander (kept in its
// own column), replacing what was stored.
func writeRoles(ctx context.Context, tx *sql.Tx, id int64, roles map[string]string) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM incident_roles WHERE incident_id = ?", id); err != nil {
		return fmt.Errorf("clear roles: %w", err)
	}
	for role, user := range roles {
		if user == "" || role == runbook.RoleCommander {
			continue
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO incident_roles (incident_id, role, user_id) VALUES (?, ?, ?)",
			id, role, user); err != nil {
			return fmt.Errorf("write role %s: %w", role, err)
		}
	}
	return nil
}

// changeApplied reports whether the change asked for under key was applied already.
func changeApplied(ctx context.Context, tx *sql.Tx, key string) (bool, error) {
	if key == "" {
		return false, nil
	}
	var one int
	err := tx.QueryRowContext(ctx, "SELECT 1 FROM incident_changes WHERE request_key = ?", key).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("look up change: %w", err)
	}
	return true, nil
}

// ListIncidents returns the incidents that match f, newest first.
func (s *Incidents) ListIncidents(ctx context.Context, f runbook.IncidentFilter) ([]*runbook.Incident, error) {
	query := "SELECT " + incidentColumns + " FROM incidents"
	var args []any
	if f.Open != nil {
		if *f.Open {
			query += " WHERE resolved_at IS NULL"
		} else {
			query += " WHERE resolved_at IS NOT NULL"
		}
	}
	query += " ORDER BY id DESC"
	if f.Limit > 0 {
		query += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := s.db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	defer rows.Close()
	var out []*runbook.Incident
	for rows.Next() {
		inc, err := scanIncident(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, inc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	return out, nil
}

// AddTimeline appends e to its incident's timeline. An empty Actor is recorded as
// runbook.ActorRunbook and a zero At as the current time.
func (s *Incidents) AddTimeline(ctx context.Context, e runbook.TimelineEntry) error {
	if e.At.IsZero() {
		e.At = s.db.Now()
	}
	err := s.db.update(ctx, func(tx *sql.Tx) error {
		if err := incidentExists(ctx, tx, e.IncidentID); err != nil {
			return err
		}
		return addTimeline(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("add to timeline of %s: %w", runbook.IncidentKey(e.IncidentID), err)
	}
	return nil
}

// Timeline returns the incident's timeline, oldest first.
func (s *Incidents) Timeline(ctx context.Context, id int64) ([]runbook.TimelineEntry, error) {
	// One read transaction, so the existence check and the list see the same snapshot.
	tx, err := s.db.read.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := incidentExists(ctx, tx, id); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT incident_id, at, actor, kind, text
		FROM incident_timeline WHERE incident_id = ? ORDER BY at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("read timeline of %s: %w", runbook.IncidentKey(id), err)
	}
	defer rows.Close()
	var out []runbook.TimelineEntry
	for rows.Next() {
		var e runbook.TimelineEntry
		var at int64
		if err := rows.Scan(&e.IncidentID, &at, &e.Actor, &e.Kind, &e.Text); err != nil {
			return nil, fmt.Errorf("scan timeline entry: %w", err)
		}
		e.At = time.UnixMilli(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read timeline of %s: %w", runbook.IncidentKey(id), err)
	}
	return out, nil
}

// querier is what the helpers below need of a *sql.DB or *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func findIncident(ctx context.Context, q querier, id int64) (*runbook.Incident, error) {
	inc, err := scanIncident(q.QueryRowContext(ctx, "SELECT "+incidentColumns+" FROM incidents WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, runbook.Errorf(runbook.ENOTFOUND, "%s does not exist", runbook.IncidentKey(id))
	}
	return inc, err
}

// incidentByRequestKey returns the incident created under key, or nil.
func incidentByRequestKey(ctx context.Context, q querier, key string) (*runbook.Incident, error) {
	if key == "" {
		return nil, nil
	}
	inc, err := scanIncident(q.QueryRowContext(ctx, "SELECT "+incidentColumns+" FROM incidents WHERE request_key = ?", key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return inc, err
}

// openIncidentByDedupKey returns the open incident that holds a dedup key, which an
// insert under it just found.
func openIncidentByDedupKey(ctx context.Context, q querier, key string) (*runbook.Incident, error) {
	inc, err := findOpenByDedupKey(ctx, q, key)
	if err == nil && inc == nil {
		return nil, fmt.Errorf("no open incident holds dedup key %q, yet inserting under it conflicted", key)
	}
	return inc, err
}

// findOpenByDedupKey returns the open incident that holds a dedup key, or nil; the
// statement repeats the index's condition so that SQLite can use the partial index.
func findOpenByDedupKey(ctx context.Context, q querier, key string) (*runbook.Incident, error) {
	inc, err := scanIncident(q.QueryRowContext(ctx, "SELECT "+incidentColumns+
		" FROM incidents WHERE dedup_key = ? AND dedup_key IS NOT NULL AND resolved_at IS NULL", key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return inc, err
}

func incidentExists(ctx context.Context, q querier, id int64) error {
	var one int
	err := q.QueryRowContext(ctx, "SELECT 1 FROM incidents WHERE id = ?", id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return runbook.Errorf(runbook.ENOTFOUND, "%s does not exist", runbook.IncidentKey(id))
	}
	return err
}

// UnknownChannelPrivacy lists up to limit incidents, newest first, that have a channel
// whose privacy is not known: those recorded before it was kept. The statement repeats
// the partial index's condition, so that SQLite reads only that index.
func (s *Incidents) UnknownChannelPrivacy(ctx context.Context, limit int) ([]runbook.IncidentChannel, error) {
	rows, err := s.db.read.QueryContext(ctx, `SELECT id, channel FROM incidents
		WHERE channel_privacy = '' AND channel <> '' ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list channels of unknown privacy: %w", err)
	}
	defer rows.Close()
	var out []runbook.IncidentChannel
	for rows.Next() {
		var c runbook.IncidentChannel
		if err := rows.Scan(&c.IncidentID, &c.Channel); err != nil {
			return nil, fmt.Errorf("scan channel of unknown privacy: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SetChannelPrivacy records each channel's privacy for its incident in one
// transaction, unless the incident has another channel by now or its privacy was set
// meanwhile (by a runbook claiming a channel, which knows better).
func (s *Incidents) SetChannelPrivacy(ctx context.Context, channels []runbook.IncidentChannel) error {
	if len(channels) == 0 {
		return nil
	}
	return s.db.update(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `UPDATE incidents SET channel_privacy = ?
			WHERE id = ? AND channel = ? AND channel_privacy = ''`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, c := range channels {
			if _, err := st.ExecContext(ctx, string(c.Privacy), c.IncidentID, c.Channel); err != nil {
				return fmt.Errorf("set the privacy of %s's channel: %w", runbook.IncidentKey(c.IncidentID), err)
			}
		}
		return nil
	})
}

// checkChannelFree makes sure no incident other than self already owns channel, so
// that IncidentByChannel has one answer. The unique index would refuse it too, but
// with an error no person could act on.
func checkChannelFree(ctx context.Context, tx *sql.Tx, channel string, self int64) error {
	if channel == "" {
		return nil
	}
	var other int64
	err := tx.QueryRowContext(ctx, "SELECT id FROM incidents WHERE channel = ? AND channel <> '' AND id <> ?", channel, self).Scan(&other)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("check channel %s: %w", channel, err)
	}
	return runbook.Errorf(runbook.ECONFLICT, "<#%s> is already the channel of %s.", channel, runbook.IncidentKey(other))
}

func addTimeline(ctx context.Context, tx *sql.Tx, e runbook.TimelineEntry) error {
	return addKeyedTimeline(ctx, tx, e, "")
}

// addKeyedTimeline adds an entry with the key that makes it once-only ("" for none).
func addKeyedTimeline(ctx context.Context, tx *sql.Tx, e runbook.TimelineEntry, key string) error {
	if strings.TrimSpace(e.Kind) == "" {
		return runbook.Errorf(runbook.EINVALID, "A timeline entry needs a kind.")
	}
	if e.Actor == "" {
		e.Actor = runbook.ActorRunbook
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO incident_timeline (incident_id, at, actor, kind, text, entry_key)
		VALUES (?, ?, ?, ?, ?, ?)`, e.IncidentID, e.At.UnixMilli(), e.Actor, e.Kind, e.Text, nullString(key)); err != nil {
		return fmt.Errorf("insert timeline entry: %w", err)
	}
	return nil
}

func validateIncident(inc *runbook.Incident) error {
	switch {
	case strings.TrimSpace(inc.Title) == "":
		return runbook.Errorf(runbook.EINVALID, "An incident needs a title.")
	case inc.Severity == "":
		return runbook.Errorf(runbook.EINVALID, "An incident needs a severity.")
	case inc.Status == "":
		return runbook.Errorf(runbook.EINVALID, "An incident needs a status.")
	}
	return nil
}

func scanIncident(row scanner) (*runbook.Incident, error) {
	var inc runbook.Incident
	var fields string
	var created, updated int64
	var resolved, reopened sql.NullInt64
	var roles string
	if err := row.Scan(&inc.ID, &inc.Title, &inc.Severity, &inc.Status, &inc.Service, &inc.Commander,
		&inc.Channel, &inc.AnnouncementChannel, &inc.AnnouncementTS, &inc.UpdatesTS, &fields, &inc.CreatedBy,
		&created, &updated, &resolved, &inc.RequestKey, &reopened, &roles, &inc.Summary, &inc.DedupKey, &inc.ChannelPrivacy); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("scan incident: %w", err)
	}
	if err := json.Unmarshal([]byte(fields), &inc.Fields); err != nil {
		return nil, fmt.Errorf("decode fields of %s: %w", inc.Key(), err)
	}
	if inc.Fields == nil {
		inc.Fields = map[string]string{}
	}
	if err := json.Unmarshal([]byte(roles), &inc.Roles); err != nil {
		return nil, fmt.Errorf("decode roles of %s: %w", inc.Key(), err)
	}
	if inc.Roles == nil {
		inc.Roles = map[string]string{}
	}
	if reopened.Valid {
		inc.ReopenedAt = time.UnixMilli(reopened.Int64)
	}
	inc.CreatedAt = time.UnixMilli(created)
	inc.UpdatedAt = time.UnixMilli(updated)
	if resolved.Valid {
		inc.ResolvedAt = time.UnixMilli(resolved.Int64)
	}
	return &inc, nil
}

func encodeFields(fields map[string]string) (string, error) {
	if len(fields) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return "", fmt.Errorf("encode fields: %w", err)
	}
	return string(b), nil
}

// millis drops t's precision below a millisecond, so what a caller is handed equals
// what a later read returns.
func millis(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()) }

// nullString stores an empty string as NULL, for unique columns that are optional.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullMillis stores a zero time as NULL.
func nullMillis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}
