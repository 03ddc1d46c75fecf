package store_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/store"
)

// MustCreateIncident stores a sev2 incident with the given title.
func MustCreateIncident(tb testing.TB, s *store.Incidents, title string) *runbook.Incident {
	tb.Helper()
	inc := &runbook.Incident{Title: title, Severity: "sev2", Status: "detected", Service: "checkout", CreatedBy: "U1"}
	if err := s.CreateIncident(context.Background(), inc); err != nil {
		tb.Fatal(err)
	}
	return inc
}

// fixedClock sets db's clock to a settable time.
func fixedClock(db *store.DB) *time.Time {
	now := time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.UTC)
	db.Now = func() time.Time { return now }
	return &now
}

func TestIncidents_Create(t *testing.T) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		db := MustOpen(t)
		now := fixedClock(db)
		s := db.Incidents()
		inc := &runbook.Incident{
			Title: "Checkout is down", Severity: "sev1", Status: "detected", Service: "checkout",
			Commander: "U2", AnnouncementChannel: "C9", AnnouncementTS: "1700000000.000100",
			Fields: map[string]string{"region": "eu-west-1"}, CreatedBy: "U1",
		}
		if err := s.CreateIncident(ctx, inc); err != nil {
			t.Fatal(err)
		}
		if inc.ID != 1 || inc.Key() != "INC-1" {
			t.Fatalf("ID = %d, key %s; want 1, INC-1", inc.ID, inc.Key())
		}
		want := time.UnixMilli(now.UnixMilli())
		if !inc.CreatedAt.Equal(want) || !inc.UpdatedAt.Equal(want) {
			t.Fatalf("CreatedAt, UpdatedAt = %v, %v; want %v", inc.CreatedAt, inc.UpdatedAt, want)
		}
		got, err := s.Incident(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Title != inc.Title || got.Severity != "sev1" || got.Status != "detected" ||
			got.Service != "checkout" || got.Commander != "U2" || got.Channel != "" ||
			got.AnnouncementChannel != "C9" || got.AnnouncementTS != "1700000000.000100" ||
			got.CreatedBy != "U1" || got.Fields["region"] != "eu-west-1" || len(got.Fields) != 1 {
			t.Fatalf("read back %+v", got)
		}
		if !got.CreatedAt.Equal(inc.CreatedAt) || !got.UpdatedAt.Equal(inc.UpdatedAt) || !got.ResolvedAt.IsZero() {
			t.Fatalf("read back times %v %v %v", got.CreatedAt, got.UpdatedAt, got.ResolvedAt)
		}
	})

	t.Run("NumbersAreSequential", func(t *testing.T) {
		s := MustOpen(t).Incidents()
		for want := int64(1); want <= 3; want++ {
			if inc := MustCreateIncident(t, s, "x"); inc.ID != want {
				t.Fatalf("ID = %d, want %d", inc.ID, want)
			}
		}
	})

	t.Run("NilFieldsReadBackEmpty", func(t *testing.T) {
		s := MustOpen(t).Incidents()
		inc := MustCreateIncident(t, s, "no fields")
		got, err := s.Incident(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Fields == nil || len(got.Fields) != 0 {
			t.Fatalf("Fields = %#v, want an empty map", got.Fields)
		}
	})

	t.Run("WritesDeclaredEntry", func(t *testing.T) {
		s := MustOpen(t).Incidents()
		inc := MustCreateIncident(t, s, "Checkout is down")
		tl, err := s.Timeline(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(tl) != 1 || tl[0].Kind != runbook.TimelineDeclared || tl[0].Actor != "U1" ||
			tl[0].IncidentID != inc.ID || !tl[0].At.Equal(inc.CreatedAt) || !strings.Contains(tl[0].Text, "Checkout is down") {
			t.Fatalf("timeline = %+v", tl)
		}
	})

	for _, tt := range []struct {
		name string
		inc  runbook.Incident
		msg  string
	}{
		{"ErrTitleRequired", runbook.Incident{Title: "  ", Severity: "sev1", Status: "detected"}, "An incident needs a title."},
		{"ErrSeverityRequired", runbook.Incident{Title: "x", Status: "detected"}, "An incident needs a severity."},
		{"ErrStatusRequired", runbook.Incident{Title: "x", Severity: "sev1"}, "An incident needs a status."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := MustOpen(t).Incidents()
			err := s.CreateIncident(ctx, &tt.inc)
			if runbook.ErrorCode(err) != runbook.EINVALID || runbook.ErrorMessage(err) != tt.msg {
				t.Fatalf("err = %v, want EINVALID %q", err, tt.msg)
			}
			if list, _ := s.ListIncidents(ctx, runbook.IncidentFilter{}); len(list) != 0 {
				t.Fatalf("an invalid incident was stored: %+v", list)
			}
		})
	}

	t.Run("ErrChannelTaken", func(t *testing.T) {
		s := MustOpen(t).Incidents()
		first := &runbook.Incident{Title: "a", Severity: "sev1", Status: "detected", Channel: "C1"}
		if err := s.CreateIncident(ctx, first); err != nil {
			t.Fatal(err)
		}
		err := s.CreateIncident(ctx, &runbook.Incident{Title: "b", Severity: "sev1", Status: "detected", Channel: "C1"})
		if runbook.ErrorCode(err) != runbook.ECONFLICT || runbook.ErrorMessage(err) != "<#C1> is already the channel of INC-1." {
			t.Fatalf("err = %v, want ECONFLICT naming INC-1", err)
		}
	})
}

func TestIncidents_NotFound(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t).Incidents()
	MustCreateIncident(t, s, "exists")

	for _, tt := range []struct {
		name string
		err  func() error
		msg  string
	}{
		{"Incident", func() error { _, err := s.Incident(ctx, 7); return err }, "INC-7 does not exist"},
		{"IncidentByChannel", func() error { _, err := s.IncidentByChannel(ctx, "C404"); return err }, "No incident uses <#C404>."},
		{"IncidentByEmptyChannel", func() error { _, err := s.IncidentByChannel(ctx, ""); return err }, "No incident uses this channel."},
		{"UpdateIncident", func() error {
			_, err := s.UpdateIncident(ctx, 7, func(*runbook.Incident) error { t.Error("fn called"); return nil })
			return err
		}, "INC-7 does not exist"},
		{"AddTimeline", func() error {
			return s.AddTimeline(ctx, runbook.TimelineEntry{IncidentID: 7, Kind: runbook.TimelineNote, Text: "hi"})
		}, "INC-7 does not exist"},
		{"Timeline", func() error { _, err := s.Timeline(ctx, 7); return err }, "INC-7 does not exist"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err()
			if runbook.ErrorCode(err) != runbook.ENOTFOUND || runbook.ErrorMessage(err) != tt.msg {
				t.Fatalf("err = %v, want ENOTFOUND %q", err, tt.msg)
			}
		})
	}
}

func TestIncidents_Update(t *testing.T) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		db := MustOpen(t)
		now := fixedClock(db)
		s := db.Incidents()
		inc := MustCreateIncident(t, s, "Checkout is down")
		*now = now.Add(time.Minute)
		resolved := now.Add(time.Second)
		got, err := s.UpdateIncident(ctx, inc.ID, func(i *runbook.Incident) error {
			i.Status = "resolved"
			i.Severity = "sev1"
			i.Commander = "U3"
			i.Channel = "C42"
			i.Fields["customer_impact"] = "yes"
			i.ResolvedAt = resolved
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !got.UpdatedAt.Equal(time.UnixMilli(now.UnixMilli())) || !got.CreatedAt.Equal(inc.CreatedAt) {
			t.Fatalf("UpdatedAt, CreatedAt = %v, %v", got.UpdatedAt, got.CreatedAt)
		}
		read, err := s.Incident(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if read.Status != "resolved" || read.Severity != "sev1" || read.Commander != "U3" || read.Channel != "C42" ||
			read.Fields["customer_impact"] != "yes" || !read.ResolvedAt.Equal(got.ResolvedAt) ||
			!read.UpdatedAt.Equal(got.UpdatedAt) || read.ResolvedAt.UnixMilli() != resolved.UnixMilli() {
			t.Fatalf("read back %+v, returned %+v", read, got)
		}
	})

	t.Run("IdentityIsKept", func(t *testing.T) {
		s := MustOpen(t).Incidents()
		inc := MustCreateIncident(t, s, "x")
		got, err := s.UpdateIncident(ctx, inc.ID, func(i *runbook.Incident) error {
			i.ID, i.CreatedBy, i.CreatedAt = 99, "U9", time.Time{}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != inc.ID || got.CreatedBy != "U1" || !got.CreatedAt.Equal(inc.CreatedAt) {
			t.Fatalf("fn changed identity: %+v", got)
		}
	})

	t.Run("ErrFromFnAborts", func(t *testing.T) {
		s := MustOpen(t).Incidents()
		inc := MustCreateIncident(t, s, "before")
		refused := runbook.Errorf(runbook.EFORBIDDEN, "Only the commander may do that.")
		_, err := s.UpdateIncident(ctx, inc.ID, func(i *runbook.Incident) error {
			i.Title = "after"
			i.Fields["x"] = "y"
			return refused
		})
		if !errors.Is(err, refused) || runbook.ErrorMessage(err) != "Only the commander may do that." {
			t.Fatalf("err = %v, want fn's error", err)
		}
		got, _ := s.Incident(ctx, inc.ID)
		if got.Title != "before" || len(got.Fields) != 0 || !got.UpdatedAt.Equal(inc.UpdatedAt) {
			t.Fatalf("aborted update left %+v", got)
		}
	})

	t.Run("ErrTitleRemoved", func(t *testing.T) {
		s := MustOpen(t).Incidents()
		inc := MustCreateIncident(t, s, "x")
		_, err := s.UpdateIncident(ctx, inc.ID, func(i *runbook.Incident) error { i.Title = ""; return nil })
		if runbook.ErrorCode(err) != runbook.EINVALID {
			t.Fatalf("err = %v, want EINVALID", err)
		}
	})

	t.Run("ErrChannelTaken", func(t *testing.T) {
		s := MustOpen(t).Incidents()
		a := MustCreateIncident(t, s, "a")
		b := MustCreateIncident(t, s, "b")
		setChannel := func(i *runbook.Incident) error { i.Channel = "C1"; return nil }
		if _, err := s.UpdateIncident(ctx, a.ID, setChannel); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateIncident(ctx, a.ID, setChannel); err != nil {
			t.Fatalf("an incident conflicts with its own channel: %v", err)
		}
		_, err := s.UpdateIncident(ctx, b.ID, setChannel)
		if runbook.ErrorCode(err) != runbook.ECONFLICT {
			t.Fatalf("err = %v, want ECONFLICT", err)
		}
	})
}

// TestIncidents_ConcurrentUpdates shows that UpdateIncident's read-modify-write is
// atomic: with a read outside the write transaction, racing updates would overwrite
// each other and fewer than n would survive.
func TestIncidents_ConcurrentUpdates(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t).Incidents()
	inc := MustCreateIncident(t, s, "racy")
	const n = 20
	var wg sync.WaitGroup
	for g := range n {
		wg.Go(func() {
			_, err := s.UpdateIncident(ctx, inc.ID, func(i *runbook.Incident) error {
				count, _ := strconv.Atoi(i.Fields["count"])
				i.Fields["count"] = strconv.Itoa(count + 1)
				i.Fields["g"+strconv.Itoa(g)] = "done"
				// Give the other goroutines every chance to interleave.
				time.Sleep(time.Millisecond)
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := s.Incident(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Fields["count"] != strconv.Itoa(n) || len(got.Fields) != n+1 {
		t.Fatalf("count = %s with %d fields; want %d and %d", got.Fields["count"], len(got.Fields), n, n+1)
	}
}

func TestIncidents_List(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t).Incidents()
	for _, title := range []string{"one", "two", "three", "four"} {
		MustCreateIncident(t, s, title)
	}
	for _, id := range []int64{1, 3} {
		if _, err := s.UpdateIncident(ctx, id, func(i *runbook.Incident) error {
			i.Status, i.ResolvedAt = "resolved", time.Now()
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	yes, no := true, false

	for _, tt := range []struct {
		name   string
		filter runbook.IncidentFilter
		want   []string
	}{
		{"All", runbook.IncidentFilter{}, []string{"four", "three", "two", "one"}},
		{"Open", runbook.IncidentFilter{Open: &yes}, []string{"four", "two"}},
		{"Resolved", runbook.IncidentFilter{Open: &no}, []string{"three", "one"}},
		{"Limit", runbook.IncidentFilter{Limit: 3}, []string{"four", "three", "two"}},
		{"OpenLimit", runbook.IncidentFilter{Open: &yes, Limit: 1}, []string{"four"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			list, err := s.ListIncidents(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, inc := range list {
				got = append(got, inc.Title)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("titles = %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("Empty", func(t *testing.T) {
		list, err := MustOpen(t).Incidents().ListIncidents(ctx, runbook.IncidentFilter{})
		if err != nil || len(list) != 0 {
			t.Fatalf("list = %v, %v; want none", list, err)
		}
	})
}

func TestIncidents_ByChannel(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t).Incidents()
	MustCreateIncident(t, s, "no channel")
	inc := MustCreateIncident(t, s, "has channel")
	if _, err := s.UpdateIncident(ctx, inc.ID, func(i *runbook.Incident) error { i.Channel = "C42"; return nil }); err != nil {
		t.Fatal(err)
	}
	got, err := s.IncidentByChannel(ctx, "C42")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != inc.ID || got.Title != "has channel" {
		t.Fatalf("by channel = %+v, want %s", got, inc.Key())
	}
}

// TestIncidents_ChannelPrivacy: a channel's privacy is kept with the incident through
// creation, updates and every way of reading it back; an incident recorded without it
// reads as not known, and a value that is none of the three is refused.
func TestIncidents_ChannelPrivacy(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	s := db.Incidents()
	legacy := MustCreateIncident(t, s, "recorded before privacy was kept")
	if read, err := s.Incident(ctx, legacy.ID); err != nil || read.ChannelPrivacy != runbook.ChannelPrivacyUnknown {
		t.Fatalf("an incident recorded without privacy reads %+v, %v", read, err)
	}
	inc := &runbook.Incident{Title: "private", Severity: "sev1", Status: "detected", CreatedBy: "U1",
		Channel: "C1", ChannelPrivacy: runbook.ChannelPrivate}
	if err := s.CreateIncident(ctx, inc); err != nil {
		t.Fatal(err)
	}
	byChannel, err := s.IncidentByChannel(ctx, "C1")
	if err != nil || byChannel.ChannelPrivacy != runbook.ChannelPrivate {
		t.Fatalf("by channel: %+v, %v; want it private", byChannel, err)
	}
	if _, err := s.UpdateIncident(ctx, legacy.ID, func(i *runbook.Incident) error {
		i.Channel, i.ChannelPrivacy = "C2", runbook.ChannelPublic
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListIncidents(ctx, runbook.IncidentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]runbook.ChannelPrivacy{}
	for _, i := range list {
		got[i.Title] = i.ChannelPrivacy
	}
	if got["private"] != runbook.ChannelPrivate || got["recorded before privacy was kept"] != runbook.ChannelPublic {
		t.Errorf("listed privacy = %v", got)
	}
	if _, err := s.UpdateIncident(ctx, inc.ID, func(i *runbook.Incident) error {
		i.ChannelPrivacy = "secret-ish"
		return nil
	}); err == nil || !strings.Contains(err.Error(), "CHECK") {
		t.Errorf("an unknown privacy was stored: %v", err)
	}
	if again, err := s.Incident(ctx, legacy.ID); err != nil || again.ChannelPrivacy != runbook.ChannelPublic {
		t.Errorf("re-read: %+v, %v", again, err)
	}
}

func TestIncidents_Timeline(t *testing.T) {
	ctx := context.Background()

	t.Run("OldestFirst", func(t *testing.T) {
		db := MustOpen(t)
		now := fixedClock(db)
		s := db.Incidents()
		inc := MustCreateIncident(t, s, "x")
		other := MustCreateIncident(t, s, "other")
		at := *now
		// Out of order on purpose: At decides the order, then insertion order.
		entries := []runbook.TimelineEntry{
			{IncidentID: inc.ID, At: at.Add(2 * time.Minute), Actor: "U2", Kind: runbook.TimelineNote, Text: "third"},
			{IncidentID: inc.ID, At: at.Add(time.Minute), Actor: "U2", Kind: runbook.TimelineStatus, Text: "first"},
			{IncidentID: inc.ID, At: at.Add(time.Minute), Kind: runbook.TimelineRun, Text: "second"},
			{IncidentID: other.ID, At: at.Add(time.Minute), Kind: runbook.TimelineNote, Text: "elsewhere"},
		}
		for _, e := range entries {
			if err := s.AddTimeline(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		*now = now.Add(time.Hour)
		if err := s.AddTimeline(ctx, runbook.TimelineEntry{IncidentID: inc.ID, Actor: "U3", Kind: runbook.TimelineResolved, Text: "fourth"}); err != nil {
			t.Fatal(err)
		}
		tl, err := s.Timeline(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, e := range tl {
			texts = append(texts, e.Text)
		}
		if len(tl) != 5 || tl[0].Kind != runbook.TimelineDeclared || strings.Join(texts[1:], ",") != "first,second,third,fourth" {
			t.Fatalf("timeline texts = %q", texts)
		}
		if tl[2].Actor != runbook.ActorRunbook {
			t.Fatalf("empty actor stored as %q, want %q", tl[2].Actor, runbook.ActorRunbook)
		}
		if !tl[4].At.Equal(time.UnixMilli(now.UnixMilli())) {
			t.Fatalf("zero At stored as %v, want the clock's %v", tl[4].At, *now)
		}
		if !tl[1].At.Equal(at.Add(time.Minute).Truncate(time.Millisecond)) || tl[1].IncidentID != inc.ID {
			t.Fatalf("entry = %+v", tl[1])
		}
	})

	t.Run("ErrKindRequired", func(t *testing.T) {
		s := MustOpen(t).Incidents()
		inc := MustCreateIncident(t, s, "x")
		err := s.AddTimeline(ctx, runbook.TimelineEntry{IncidentID: inc.ID, Text: "no kind"})
		if runbook.ErrorCode(err) != runbook.EINVALID {
			t.Fatalf("err = %v, want EINVALID", err)
		}
	})
}

// TestIncidents_Summary: the summary is stored at creation and by updates, and read back.
func TestIncidents_Summary(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t).Incidents()
	inc := &runbook.Incident{Title: "t", Severity: "sev2", Status: "detected", Summary: "first look", CreatedBy: "U1"}
	if err := s.CreateIncident(ctx, inc); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Incident(ctx, inc.ID); got.Summary != "first look" {
		t.Fatalf("summary = %q", got.Summary)
	}
	if _, err := s.UpdateIncident(ctx, inc.ID, func(i *runbook.Incident) error { i.Summary = "db overloaded"; return nil }); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListIncidents(ctx, runbook.IncidentFilter{})
	if err != nil || len(list) != 1 || list[0].Summary != "db overloaded" {
		t.Fatalf("list = %+v, %v", list, err)
	}
}
