// Package watch tells the batch loop when the incoming queues may hold new
// mail: file system notifications (a qf file renamed into place) within
// milliseconds, plus a full rescan every interval as a safety net for
// missed or overflowed events.
package watch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/sirupsen/logrus"
)

// Watcher signals on C when an incoming queue changed or a rescan is due.
// Signals are coalesced: one pending signal stands for any number of
// events.
type Watcher struct {
	dirs   []string
	rescan time.Duration
	c      chan struct{}
	log    logrus.FieldLogger
	fs     *fsnotify.Watcher
	match  func(name string) bool
}

// Pattern says where an MTA's queue announces a message and by what name.
type Pattern struct {
	// Dirs returns the directories to watch for queue dir d; the first
	// must exist, the others are watched when they exist.
	Dirs func(d string) []string
	// Match reports whether a file name is a message's control file.
	Match func(name string) bool
}

// Sendmail is sendmail's pattern: qf files, in the queue dir or its qf/
// sub-directory (the qf/ df/ xf/ layout).
var Sendmail = Pattern{
	Dirs:  func(d string) []string { return []string{d, filepath.Join(d, "qf")} },
	Match: func(name string) bool { return strings.HasPrefix(name, "qf") },
}

// New watches the sendmail queues dirs (see Sendmail).
func New(dirs []string, rescan time.Duration, log logrus.FieldLogger) (*Watcher, error) {
	return NewFor(dirs, rescan, log, Sendmail)
}

// NewFor watches the queues dirs of an MTA whose queue has pattern p.
func NewFor(dirs []string, rescan time.Duration, log logrus.FieldLogger, p Pattern) (*Watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	w := &Watcher{dirs: dirs, rescan: rescan, c: make(chan struct{}, 1), log: log, fs: fw, match: p.Match}
	for _, d := range dirs {
		for i, path := range p.Dirs(d) {
			if i > 0 {
				if st, err := os.Stat(path); err != nil || !st.IsDir() {
					continue
				}
			}
			if err := fw.Add(path); err != nil {
				fw.Close()
				return nil, fmt.Errorf("watch %s: %w", path, err)
			}
		}
	}
	w.Poke() // the start-up scan
	return w, nil
}

// C delivers a signal when the queues should be scanned.
func (w *Watcher) C() <-chan struct{} { return w.c }

// Poke asks for a scan (used after a retry delay expires).
func (w *Watcher) Poke() {
	select {
	case w.c <- struct{}{}:
	default:
	}
}

// Run forwards events until ctx is done, then closes the watcher.
func (w *Watcher) Run(ctx context.Context) error {
	defer w.fs.Close()
	tick := time.NewTicker(w.rescan)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			w.Poke()
		case ev, ok := <-w.fs.Events:
			if !ok {
				return errors.New("watch: event channel closed")
			}
			// Chmod: Postfix marks a queue file complete by its mode.
			if ev.Has(fsnotify.Create) || ev.Has(fsnotify.Write) || ev.Has(fsnotify.Rename) || ev.Has(fsnotify.Chmod) {
				if w.match(filepath.Base(ev.Name)) {
					w.Poke()
				}
			}
		case err, ok := <-w.fs.Errors:
			if !ok {
				return errors.New("watch: error channel closed")
			}
			// An overflow means events were lost: scan everything.
			w.log.WithError(err).Warn("watch: file system notification error, rescanning")
			w.Poke()
		}
	}
}
