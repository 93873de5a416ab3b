package web

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/spam"
	"github.com/qscan/qscan/pkg/store"
)

// maxEntry bounds one list entry.
const maxEntry = 320

// CheckEntry checks a white or black list entry with the syntax and
// semantics of the configuration's lists ([spam] whitelist, blacklist:
// spam.ParseList): an address, *@domain, domain, @domain, *.domain, an IP
// address, a CIDR range or MailScanner's "192.168." prefix form.
func CheckEntry(pattern string) error {
	if pattern == "" || len(pattern) > maxEntry {
		return fmt.Errorf("an entry has 1 to %d characters", maxEntry)
	}
	if pattern[0] == '#' {
		return fmt.Errorf("%q is a comment, not an entry", pattern)
	}
	l, err := spam.ParseList([]string{pattern})
	if err != nil {
		return err
	}
	if l.Len() != 1 {
		return fmt.Errorf("%q is not an entry", pattern)
	}
	return nil
}

// ListSource is where the lists edited in the web desk are kept.
type ListSource interface {
	ListEntries(ctx context.Context, list string) ([]store.ListEntry, error)
}

// Lists are the white and black lists edited in the web desk, as the
// daemon's spam check consults them: Whitelisted and Blacklisted have
// spam.List's semantics. The web desk reloads them after each edit; a
// daemon that runs the desk elsewhere calls Run to reload them
// periodically, so that an entry takes effect without a restart.
type Lists struct {
	Source ListSource
	Log    logrus.FieldLogger // nil: errors are only returned

	mu           sync.RWMutex
	white, black *spam.List
}

// Reload reads both lists again. Entries the configuration's syntax
// refuses (written by another tool) are skipped, the others kept.
func (l *Lists) Reload(ctx context.Context) error {
	var lists [2]*spam.List
	for i, name := range []string{"whitelist", "blacklist"} {
		es, err := l.Source.ListEntries(ctx, name)
		if err != nil {
			return fmt.Errorf("web lists %s: %w", name, err)
		}
		pats := make([]string, 0, len(es))
		for _, e := range es {
			if CheckEntry(e.Pattern) == nil {
				pats = append(pats, e.Pattern)
			}
		}
		lists[i], _ = spam.ParseList(pats)
	}
	l.mu.Lock()
	l.white, l.black = lists[0], lists[1]
	l.mu.Unlock()
	return nil
}

// Run reloads the lists every interval until ctx ends.
func (l *Lists) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := l.Reload(ctx); err != nil && l.Log != nil && ctx.Err() == nil {
			l.Log.WithError(err).Warn("web lists not reloaded; the previous ones stay in force")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Whitelisted reports whether the sender or the client address is on the
// whitelist (false before the first Reload).
func (l *Lists) Whitelisted(sender string, ip netip.Addr) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.white.Match(sender, ip)
}

// Blacklisted is Whitelisted for the blacklist.
func (l *Lists) Blacklisted(sender string, ip netip.Addr) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.black.Match(sender, ip)
}
