// Package webtest is an in-memory store for the web desk's tests (unit
// and browser): the message log, users, lists, audit and digest tokens
// with the semantics pkg/store documents. It is not for production.
package webtest

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/qscan/qscan/pkg/store"
)

// MemStore is an in-memory store with the semantics pkg/store documents
// (newest first, keyset paging, Scope, UseToken once).
type MemStore struct {
	mu     sync.Mutex
	rows   []store.LogRecord
	users  map[string]store.User
	lists  []store.ListEntry
	audit  []store.AuditEntry
	tokens map[string]time.Time
	// Stats gives the top lists and stage times LogStats returns (the
	// buckets are counted from the rows).
	Stats store.Stats
}

// ErrNotFound is returned for a missing row, user or list entry.
var ErrNotFound = errors.New("webtest: not found")

// New returns an empty store.
func New() *MemStore {
	return &MemStore{users: map[string]store.User{}, tokens: map[string]time.Time{}}
}

// AddUser adds or replaces a user.
func (f *MemStore) AddUser(ctx context.Context, u store.User) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[u.Name] = u
	return nil
}

// AddRow appends a log row and returns its row number.
func (f *MemStore) AddRow(r store.LogRecord) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	r.Row = int64(len(f.rows) + 1)
	f.rows = append(f.rows, r)
	return r.Row
}

// inScope: a recipient or the sender in one of the domains, or a
// recipient that is one of the addresses.
func inScope(sc *store.Scope, r store.LogRecord) bool {
	if sc == nil {
		return true
	}
	bare := func(a string) string { return strings.ToLower(strings.Trim(strings.TrimSpace(a), "<>")) }
	dom := func(a string) string { _, d, _ := strings.Cut(bare(a), "@"); return d }
	for _, d := range sc.Domains {
		if dom(r.Sender) == strings.ToLower(d) {
			return true
		}
		for _, x := range r.Recipients {
			if dom(x) == strings.ToLower(d) {
				return true
			}
		}
	}
	for _, a := range sc.Addresses {
		for _, x := range r.Recipients {
			if bare(x) == strings.ToLower(a) {
				return true
			}
		}
	}
	return false
}

func has(s, sub string) bool { return strings.Contains(strings.ToLower(s), strings.ToLower(sub)) }

func (f *MemStore) SearchLog(ctx context.Context, q store.LogQuery) ([]store.LogRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rs := append([]store.LogRecord(nil), f.rows...)
	sort.Slice(rs, func(i, j int) bool {
		if !rs[i].Time.Equal(rs[j].Time) {
			return rs[i].Time.After(rs[j].Time)
		}
		return rs[i].Row > rs[j].Row
	})
	var out []store.LogRecord
	for _, r := range rs {
		all := r.Sender + " " + strings.Join(r.Recipients, " ") + " " + r.Subject
		switch {
		case q.Text != "" && !has(all, q.Text),
			q.Sender != "" && !has(r.Sender, q.Sender),
			q.Recipient != "" && !has(strings.Join(r.Recipients, " "), q.Recipient),
			q.Subject != "" && !has(r.Subject, q.Subject),
			q.QueueID != "" && r.QueueID != q.QueueID,
			q.Verdict != "" && r.Verdict != q.Verdict,
			!q.Since.IsZero() && r.Time.Before(q.Since),
			!q.Until.IsZero() && !r.Time.Before(q.Until),
			!inScope(q.Scope, r):
			continue
		}
		if !q.Before.Time.IsZero() || q.Before.Row != 0 {
			if r.Time.After(q.Before.Time) || r.Time.Equal(q.Before.Time) && r.Row >= q.Before.Row {
				continue
			}
		}
		out = append(out, r)
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

func (f *MemStore) LogRow(ctx context.Context, row int64) (store.LogRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if row < 1 || row > int64(len(f.rows)) {
		return store.LogRecord{}, ErrNotFound
	}
	return f.rows[row-1], nil
}

func (f *MemStore) LogStats(ctx context.Context, since, until time.Time, bucket time.Duration, top int) (store.Stats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := store.Stats{TopViruses: f.Stats.TopViruses, TopFilenames: f.Stats.TopFilenames,
		TopSpamSenders: f.Stats.TopSpamSenders, Stages: f.Stats.Stages}
	for t := since.Truncate(bucket); t.Before(until); t = t.Add(bucket) {
		b := store.StatsBucket{Start: t, ByVerdict: map[string]int64{}}
		for _, r := range f.rows {
			if !r.Time.Before(t) && r.Time.Before(t.Add(bucket)) {
				b.ByVerdict[r.Verdict]++
			}
		}
		st.Buckets = append(st.Buckets, b)
	}
	return st, nil
}

func (f *MemStore) User(ctx context.Context, name string) (store.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[name]
	if !ok {
		return store.User{}, ErrNotFound
	}
	return u, nil
}

func (f *MemStore) Users(ctx context.Context) ([]store.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.User
	for _, u := range f.users {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f *MemStore) ListEntries(ctx context.Context, list string) ([]store.ListEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.ListEntry
	for _, e := range f.lists {
		if e.List == list {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *MemStore) AddListEntry(ctx context.Context, e store.ListEntry) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, x := range f.lists {
		if x.List == e.List && x.Pattern == e.Pattern {
			return nil
		}
	}
	f.lists = append(f.lists, e)
	return nil
}

func (f *MemStore) DeleteListEntry(ctx context.Context, list, pattern string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.lists {
		if x.List == list && x.Pattern == pattern {
			f.lists = append(f.lists[:i], f.lists[i+1:]...)
			return nil
		}
	}
	return ErrNotFound
}

func (f *MemStore) AddAudit(ctx context.Context, e store.AuditEntry) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.audit = append(f.audit, e)
	return nil
}

func (f *MemStore) Audit(ctx context.Context, limit int) ([]store.AuditEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.AuditEntry
	for i := len(f.audit) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, f.audit[i])
	}
	return out, nil
}

func (f *MemStore) UseToken(ctx context.Context, id string, expires time.Time) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.tokens[id]; ok {
		return false, nil
	}
	f.tokens[id] = expires
	return true, nil
}

// Audits returns the audit entries of one action, oldest first.
func (f *MemStore) Audits(action string) []store.AuditEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.AuditEntry
	for _, a := range f.audit {
		if a.Action == action {
			out = append(out, a)
		}
	}
	return out
}
