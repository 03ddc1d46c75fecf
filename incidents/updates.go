package incidents

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/runbookhq/runbook"
	"github.com/runbookhq/runbook/slackui"
)

// Updates posts investigation updates — declared, status changed, runbook started,
// step failed, approval requested and decided, resolved — to one channel, threaded per
// incident. The incident service and the runbook engine both report to it.
type Updates struct {
	store   runbook.IncidentStore
	slack   runbook.Slack
	channel string // "" when investigation updates are off
	log     *slog.Logger
	poster  *updatePoster
}

// NewUpdates returns the investigation-update poster for channel; "" turns updates off.
func NewUpdates(store runbook.IncidentStore, slack runbook.Slack, channel string, logger *slog.Logger) *Updates {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	u := &Updates{store: store, slack: slack, channel: channel, log: logger}
	u.poster = newUpdatePoster(u.post, logger)
	return u
}

// updatesFlush bounds how long investigation updates still queued at a stop may take.
const updatesFlush = 2 * time.Second

// Run posts investigation updates, apart from the commands and run steps that report
// them, until ctx ends; then it posts what is still queued, for at most a couple of
// seconds. Without Run, Progress posts in line.
func (u *Updates) Run(ctx context.Context) { u.poster.run(ctx, updatesFlush) }

// Waiting is how many lines are queued or being posted.
func (u *Updates) Waiting() int { return u.poster.waiting() }

// Progress posts an investigation update for an incident, in its thread in the
// updates channel, when investigation updates are on: queued while Run runs, else at
// once. It never fails the caller.
func (u *Updates) Progress(ctx context.Context, incidentID int64, text string) {
	if u.channel == "" || incidentID == 0 {
		return
	}
	if u.poster.add(incidentID, text) {
		return
	}
	if err := u.post(ctx, incidentID, text); err != nil {
		u.log.Warn("cannot post investigation update", "incident", incidentID, "err", err)
	}
}

func (u *Updates) post(ctx context.Context, incidentID int64, text string) error {
	inc, err := u.store.Incident(ctx, incidentID)
	if err != nil {
		return err
	}
	root, err := u.updatesRoot(ctx, inc)
	if err != nil {
		return err
	}
	_, err = u.slack.PostMessage(ctx, runbook.Message{Channel: u.channel, ThreadTS: root, Text: text})
	return err
}

// updatesRoot is the message the incident's updates thread under: its announcement
// when that is in the updates channel, else a root message posted once.
func (u *Updates) updatesRoot(ctx context.Context, inc *runbook.Incident) (string, error) {
	if inc.UpdatesTS != "" {
		return inc.UpdatesTS, nil
	}
	channel, err := u.slack.ResolveChannel(ctx, u.channel)
	if err != nil {
		return "", err
	}
	root := ""
	if inc.AnnouncementChannel == channel && inc.AnnouncementTS != "" {
		root = inc.AnnouncementTS
	} else {
		posted, err := u.slack.PostMessage(ctx, runbook.Message{Channel: channel,
			Text: slackui.UpdatesHeading(inc)})
		if err != nil {
			return "", err
		}
		root = posted.TS
	}
	_, err = u.store.UpdateIncident(ctx, inc.ID, func(i *runbook.Incident) error {
		if i.UpdatesTS == "" {
			i.UpdatesTS = root
		}
		root = i.UpdatesTS
		return nil
	})
	return root, err
}

// maxUpdateText bounds one investigation-update message: lines waiting for the same
// incident are posted together up to this length.
const maxUpdateText = 3000

// updatePoster posts investigation updates apart from whoever reports them. They all
// go to one channel, which Slack lets the bot post to about once a second: posted in
// line, a busy minute of incidents would hold every command and run step that reports
// progress behind the channel's pace. Lines waiting for the same incident go out as one
// message, so the channel keeps up however many there are.
//
// The queue is in memory: an update is a notice of something the timeline and the runs
// already record, and a process that dies loses the few still queued.
type updatePoster struct {
	post func(ctx context.Context, incidentID int64, text string) error
	log  *slog.Logger

	mu      sync.Mutex
	pending map[int64][]string
	order   []int64 // incidents with lines waiting, oldest first
	unsent  int     // lines queued or being posted
	running bool
	wake    chan struct{}
}

func newUpdatePoster(post func(context.Context, int64, string) error, log *slog.Logger) *updatePoster {
	return &updatePoster{post: post, log: log, pending: map[int64][]string{}, wake: make(chan struct{}, 1)}
}

// add queues a line for an incident's thread; it reports false when no sender runs, and
// the caller posts it itself.
func (p *updatePoster) add(incidentID int64, text string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running {
		return false
	}
	if len(p.pending[incidentID]) == 0 {
		p.order = append(p.order, incidentID)
	}
	p.pending[incidentID] = append(p.pending[incidentID], text)
	p.unsent++
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return true
}

// take removes the next message to post: the oldest waiting incident's lines, as many
// as fit in one message. An incident with more lines waits behind the others.
func (p *updatePoster) take() (id int64, text string, lines int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.order) == 0 {
		return 0, "", 0
	}
	id = p.order[0]
	p.order = p.order[1:]
	queued := p.pending[id]
	n, size := 1, len(queued[0])
	for n < len(queued) && size+1+len(queued[n]) <= maxUpdateText {
		size += 1 + len(queued[n])
		n++
	}
	if n < len(queued) {
		p.pending[id] = queued[n:]
		p.order = append(p.order, id)
	} else {
		delete(p.pending, id)
	}
	return id, strings.Join(queued[:n], "\n"), n
}

// sent counts lines as no longer waiting.
func (p *updatePoster) sent(lines int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.unsent -= lines
}

// waiting is how many lines are queued or being posted.
func (p *updatePoster) waiting() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.unsent
}

// run posts queued updates until ctx ends, then for at most flush longer; what is left
// after that is logged and dropped. A post under way when ctx ends is not cut short: it
// has the flush time too.
func (p *updatePoster) run(ctx context.Context, flush time.Duration) {
	posts, cancelPosts := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelPosts()
	// The flush time starts with the stop signal (a later call of cancelPosts is a
	// no-op once run has returned).
	stopWatch := context.AfterFunc(ctx, func() { time.AfterFunc(flush, cancelPosts) })
	defer stopWatch()

	p.mu.Lock()
	p.running = true
	p.mu.Unlock()
	for ctx.Err() == nil {
		p.sendAll(posts)
		select {
		case <-p.wake:
		case <-ctx.Done():
		}
	}
	p.mu.Lock()
	p.running = false // from here, Progress posts in line
	p.mu.Unlock()
	p.sendAll(posts)
	if left := p.dropAll(); left > 0 {
		p.log.Warn("investigation updates not posted before stopping", "count", left)
	}
}

func (p *updatePoster) sendAll(ctx context.Context) {
	for ctx.Err() == nil {
		id, text, lines := p.take()
		if lines == 0 {
			return
		}
		if err := p.post(ctx, id, text); err != nil {
			p.log.Warn("cannot post investigation update", "incident", id, "err", err)
		}
		p.sent(lines)
	}
}

func (p *updatePoster) dropAll() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, lines := range p.pending {
		n += len(lines)
	}
	p.pending, p.order = map[int64][]string{}, nil
	p.unsent -= n
	return n
}
