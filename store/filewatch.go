package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/runbookhq/runbook"
)

// The database file's identity.
//
// SQLite opens the database, -wal and -shm files once and keeps their descriptors. If
// one of them is deleted while the bot runs, SQLite goes on writing to the unlinked
// file, and every write after that is gone when the process ends. If one is replaced
// (a restore renamed over it, or deleted it and wrote a new file there), the bot goes
// on writing to the old file while the path holds the new one, and a connection
// opened later pairs the new database with the old WAL. Neither shows up as an error
// from SQLite.
//
// So DB records which files the paths named when it opened them (device and inode,
// through os.SameFile), and Check compares: readiness and every incoming request call
// it, and a goroutine owned by DB calls it every watchEvery for the hours nothing else
// does. The first change found is kept (Lost), signalled (LostC), and from then on
// every write is refused.
//
// A copy written into the existing file (cp onto it truncates and rewrites the same
// inode) keeps the identity and is not seen here; the README's restore steps stop
// the bot first.

// watchEvery is how often the files are looked at when nothing else looks.
const watchEvery = time.Second

// ErrFileLost is what Lost wraps.
var ErrFileLost = errors.New("database file lost")

// FileLost says which file changed under the running bot, and how.
type FileLost struct {
	Path    string // the file's path: the database, its -wal or its -shm
	Deleted bool   // deleted; otherwise replaced by another file
}

func (e *FileLost) Error() string {
	what := "replaced by another file"
	if e.Deleted {
		what = "deleted"
	}
	return fmt.Sprintf("the database file %s was %s while Runbook was running", e.Path, what)
}

// Unwrap makes errors.Is(err, ErrFileLost) hold.
func (e *FileLost) Unwrap() error { return ErrFileLost }

// watchConfig is how the files are watched; tests send the ticks themselves.
type watchConfig struct {
	every time.Duration    // 0: no background watching (unless ticks is set)
	ticks <-chan time.Time // when set, replaces the ticker
}

var defaultWatch = watchConfig{every: watchEvery}

// fileWatch holds the identities recorded at open and the first change found.
type fileWatch struct {
	path string
	cfg  watchConfig

	mu    sync.Mutex
	known map[string]os.FileInfo // by path; -wal and -shm are added when first seen
	lost  *FileLost
	lostC chan struct{} // closed when lost is set

	rescueMu sync.Mutex
	rescued  string // the rescue copy made, if any

	cancel context.CancelFunc
	done   chan struct{} // nil if the goroutine never started
}

func newFileWatch(path string, cfg watchConfig) *fileWatch {
	return &fileWatch{path: path, cfg: cfg, known: map[string]os.FileInfo{}, lostC: make(chan struct{})}
}

// record notes the identity of each file that exists now. It runs after the store is
// open and migrated: the database file exists, and in WAL mode so do -wal and -shm.
func (w *fileWatch) record() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, p := range w.paths() {
		info, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist) && i > 0:
			continue // recorded when it appears
		case err != nil:
			return fmt.Errorf("stat %s: %w", p, err)
		}
		w.known[p] = info
	}
	return nil
}

func (w *fileWatch) paths() [3]string {
	return [3]string{w.path, w.path + "-wal", w.path + "-shm"}
}

// check compares each file with its recorded identity, and returns the loss, the
// first one found or one found earlier. A stat that fails for another reason than a
// missing file (a permission, an I/O error) is not a loss: it says nothing of which
// file is there, and the writes themselves will fail if the disk is gone.
func (w *fileWatch) check() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lost != nil {
		return w.lost
	}
	for _, p := range w.paths() {
		was, seen := w.known[p]
		info, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist) && seen:
			w.setLost(&FileLost{Path: p, Deleted: true})
		case err != nil:
			continue
		case !seen:
			// The -wal or -shm file SQLite had not made yet at open.
			w.known[p] = info
		case !os.SameFile(was, info):
			w.setLost(&FileLost{Path: p})
		}
		if w.lost != nil {
			return w.lost
		}
	}
	return nil
}

func (w *fileWatch) setLost(l *FileLost) {
	w.lost = l
	close(w.lostC)
}

// Lost is the first change found, or nil.
func (w *fileWatch) Lost() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lost == nil {
		return nil
	}
	return w.lost
}

// removeStale removes, after a loss and once every connection is closed, the -wal
// and -shm files at the path that are still the ones the store opened. They belong to
// the lost database: SQLite would pair them with the file put back at the path and
// copy the old WAL's pages into it. Files that are not the ones recorded (a restore's
// own) are left alone.
func (w *fileWatch) removeStale() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var errs []error
	paths := w.paths()
	for _, p := range paths[1:] {
		was, seen := w.known[p]
		info, err := os.Stat(p)
		if !seen || err != nil || !os.SameFile(was, info) {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove the lost database's %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// start looks at the files every cfg.every (or at every tick the test sends) until
// stop, or until a change is found: after that there is nothing more to watch.
func (w *fileWatch) start() {
	ticks := w.cfg.ticks
	var ticker *time.Ticker
	if ticks == nil {
		if w.cfg.every <= 0 {
			return
		}
		ticker = time.NewTicker(w.cfg.every)
		ticks = ticker.C
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel, w.done = cancel, make(chan struct{})
	go func() {
		defer close(w.done)
		if ticker != nil {
			defer ticker.Stop()
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticks:
			}
			if w.check() != nil {
				return
			}
		}
	}()
}

// stop stops the goroutine and waits for it.
func (w *fileWatch) stop() {
	if w.done != nil {
		w.cancel()
		<-w.done
	}
}

// Check looks at the database, -wal and -shm files now, and returns a *FileLost if
// one of them was deleted or replaced since the store opened them (or since any
// earlier check found it so). It is a few stat calls: cheap enough for every request.
func (db *DB) Check() error { return db.watch.check() }

// Lost returns the change an earlier check found, without looking again.
func (db *DB) Lost() error { return db.watch.Lost() }

// LostC is closed when a check finds the database file deleted or replaced.
func (db *DB) LostC() <-chan struct{} { return db.watch.lostC }

// Rescue copies what the store holds — through the descriptors it still has, so
// from the deleted or replaced file, WAL included — to a new file beside the
// database path, named for the time, and returns its path. It is what an operator
// restores from after a loss; the store stays refusing writes.
// A second call returns the first copy's path.
func (db *DB) Rescue(ctx context.Context) (string, error) {
	db.watch.rescueMu.Lock()
	defer db.watch.rescueMu.Unlock()
	if db.watch.rescued != "" {
		return db.watch.rescued, nil
	}
	dest := db.path + rescuedSuffix + db.Now().UTC().Format("20060102T150405.000Z")
	// The writer's connection: it was opened before the loss, so it reads the file the
	// bot was using; a new connection would open whatever the path holds now.
	if _, err := db.write.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		return "", fmt.Errorf("copy the database to %s: %w", dest, err)
	}
	db.watch.rescued = dest
	return dest, nil
}

// rescueAtClose looks at the files a last time and, if they were lost and nothing
// rescued them yet (the loss came after the last look, or no one acted on it), makes
// the rescue copy and logs it. Without it, a bot stopped within a second of a
// deletion would leave nothing behind, and the next start would create an empty
// database without a word.
func (db *DB) rescueAtClose() {
	lost, ok := errors.AsType[*FileLost](db.watch.check())
	if !ok {
		return
	}
	db.watch.rescueMu.Lock()
	done := db.watch.rescued != ""
	db.watch.rescueMu.Unlock()
	if done {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rescued, err := db.Rescue(ctx)
	log := db.ckpt.log.Load()
	if log == nil {
		return
	}
	if err != nil {
		log.Error(lost.Error()+", found as it stopped; what it held could not be copied", "path", lost.Path, "rescue_err", err)
		return
	}
	log.Error(lost.Error()+", found as it stopped; what it held is copied to "+rescued+
		": put that copy (or your backup) at "+db.path+" before starting Runbook again", "path", lost.Path, "rescued_to", rescued)
}

// rescuedSuffix starts the name of a rescue file: the database path, then this, then
// the time.
const rescuedSuffix = ".rescued-"

// checkRescued refuses to create a new, empty database where a running bot lost one
// and rescued it: a supervisor restarting the bot before anyone put the file back would
// otherwise start it on an empty database, every incident and run forgotten.
func checkRescued(path string) error {
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		return nil // checkPath has said what is wrong with the directory
	}
	var copies []string
	prefix := filepath.Base(path) + rescuedSuffix
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			copies = append(copies, filepath.Join(filepath.Dir(path), e.Name()))
		}
	}
	if len(copies) == 0 {
		return nil
	}
	return runbook.Errorf(runbook.EINVALID,
		"the database file %s is missing, and %s beside it is what a running Runbook rescued when it lost that file: "+
			"put it (or your backup) at %s, or move the rescued copies elsewhere to start with an empty database",
		path, strings.Join(copies, ", "), path)
}
