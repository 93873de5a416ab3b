package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Bounds of a search.
const (
	DefaultLogLimit = 50
	MaxLogLimit     = 1000
	MaxSearchWords  = 16  // words of LogQuery.Text
	MaxScopeKeys    = 200 // domains plus addresses of a Scope
	maxSearchTerm   = 256 // bytes of one word or filter
)

// SearchLog returns the rows q selects, newest first (by time, then row),
// with Row set. Text matches rows that hold each of its words (case
// insensitive substrings) in the sender, the recipients or the subject.
//
// A search for words first looks among the searchWindow newest rows (of
// the scope and time range) with LIKE: a common word ("invoice", a big
// domain) fills its page there, where the trigram index would have to
// list every row that holds it. Only when that page is not full does the
// trigram index answer. Both give the same rows.
func (s *Store) SearchLog(ctx context.Context, q LogQuery) ([]LogRecord, error) {
	p, err := planSearch(q, s.window)
	if err != nil {
		return nil, err
	}
	if p.window != nil {
		rs, err := s.searchRows(ctx, *p.window)
		if err != nil || len(rs) == p.limit {
			return rs, err
		}
	}
	return s.searchRows(ctx, p.full)
}

func (s *Store) searchRows(ctx context.Context, sq search) ([]LogRecord, error) {
	rows, err := s.db.QueryContext(ctx, sq.sql, sq.args...)
	if err != nil {
		return nil, fmt.Errorf("store search log: %w", err)
	}
	defer rows.Close()
	var out []LogRecord
	for rows.Next() {
		r, err := scanLog(rows)
		if err != nil {
			return nil, fmt.Errorf("store search log: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store search log: %w", err)
	}
	return out, nil
}

// searchWindow is how many of the newest rows a word search looks at
// with LIKE before it asks the trigram index.
const searchWindow = 10000

type search struct {
	sql  string
	args []any
}

// plan is how SearchLog answers a query: window first, when set, then
// full if the window did not fill the page.
type plan struct {
	window *search
	full   search
	limit  int
}

// sqlq is a piece of SQL with its arguments.
type sqlq struct {
	conds []string
	args  []any
}

func (c *sqlq) add(cond string, args ...any) {
	c.conds = append(c.conds, cond)
	c.args = append(c.args, args...)
}

func (c sqlq) and(more sqlq) sqlq {
	return sqlq{append(slices.Clone(c.conds), more.conds...), append(slices.Clone(c.args), more.args...)}
}

func (c sqlq) where() string {
	if len(c.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.conds, " AND ")
}

// span is the time range and paging key of q on the columns time and row
// of alias t.
func span(q LogQuery, t string) sqlq {
	var c sqlq
	if !q.Since.IsZero() {
		c.add(t+".time >= ?", q.Since.UnixMicro())
	}
	if !q.Until.IsZero() {
		c.add(t+".time < ?", q.Until.UnixMicro())
	}
	if !q.Before.Time.IsZero() || q.Before.Row != 0 {
		c.add("("+t+".time, "+t+".row) < (?, ?)", q.Before.Time.UnixMicro(), q.Before.Row)
	}
	return c
}

// planSearch makes the SQL of q. Without a Scope the full search walks
// the time index newest first; with one it walks log_addr for each of the
// scope's keys (each newest first) and merges them, so that a user with
// ten messages among a million finds them as fast as an administrator
// finds the last ten of all.
func planSearch(q LogQuery, window int) (plan, error) {
	p := plan{limit: q.Limit}
	if p.limit <= 0 {
		p.limit = DefaultLogLimit
	}
	p.limit = min(p.limit, MaxLogLimit)
	f, err := logFilters(q)
	if err != nil {
		return p, err
	}
	var keys []string
	if q.Scope != nil {
		if keys = q.Scope.keys(); len(keys) > MaxScopeKeys {
			return p, fmt.Errorf("store search log: scope of %d domains and addresses (at most %d)", len(keys), MaxScopeKeys)
		}
		if len(keys) == 0 {
			// Nothing to see: a query that returns no row.
			p.full = search{sql: `SELECT ` + logColumns + ` FROM log l WHERE 0`}
			return p, nil
		}
	}
	if f.likes != nil && window > 0 {
		w := candidates(q, keys, window)
		all := f.plain.and(*f.likes)
		p.window = &search{sql: `WITH c(time, row) AS (` + w.sql + `) SELECT ` + logColumns +
			` FROM c CROSS JOIN log l ON l.row = c.row` + all.where() + ` ORDER BY c.time DESC, c.row DESC LIMIT ?`,
			args: append(append(w.args, all.args...), p.limit)}
	}
	full := f.plain
	if f.match != "" {
		full.add("l.row IN (SELECT rowid FROM log_fts WHERE log_fts MATCH ?)", f.match)
	}
	if q.Scope == nil {
		c := full.and(span(q, "l"))
		p.full = search{sql: `SELECT ` + logColumns + ` FROM log l` + c.where() + ` ORDER BY l.time DESC, l.row DESC LIMIT ?`,
			args: append(c.args, p.limit)}
		return p, nil
	}
	var parts []string
	var args []any
	for _, k := range keys {
		c := sqlq{[]string{"a.key = ?"}, []any{k}}.and(span(q, "a")).and(full)
		parts = append(parts, `SELECT * FROM (SELECT `+logColumns+` FROM log_addr a CROSS JOIN log l ON l.row = a.row`+c.where()+
			` ORDER BY a.time DESC, a.row DESC LIMIT ?)`)
		args = append(append(args, c.args...), p.limit)
	}
	// UNION drops the rows found under two keys (to and from the domain).
	p.full = search{sql: `SELECT * FROM (` + strings.Join(parts, " UNION ") + `) ORDER BY 2 DESC, 1 DESC LIMIT ?`,
		args: append(args, p.limit)}
	return p, nil
}

// candidates selects (time, row) of the n newest rows in q's time range
// and paging key, under one of keys (none: every row).
func candidates(q LogQuery, keys []string, n int) search {
	if len(keys) == 0 {
		c := span(q, "l")
		return search{sql: `SELECT l.time, l.row FROM log l` + c.where() + ` ORDER BY l.time DESC, l.row DESC LIMIT ?`, args: append(c.args, n)}
	}
	var parts []string
	var args []any
	for _, k := range keys {
		c := sqlq{[]string{"a.key = ?"}, []any{k}}.and(span(q, "a"))
		parts = append(parts, `SELECT * FROM (SELECT a.time, a.row FROM log_addr a`+c.where()+` ORDER BY a.time DESC, a.row DESC LIMIT ?)`)
		args = append(append(args, c.args...), n)
	}
	return search{sql: `SELECT * FROM (` + strings.Join(parts, " UNION ") + `) ORDER BY 1 DESC, 2 DESC LIMIT ?`, args: append(args, n)}
}

// filters are the conditions of a query on the log table (alias l), but
// for its time range, paging key and scope: plain ones (and the LIKEs of
// the words too short for the trigram index), the trigram index's MATCH
// expression for the others, and those same words as LIKEs when they are
// all ASCII (LIKE folds the case of ASCII letters only).
type filters struct {
	plain sqlq
	match string
	likes *sqlq
}

func logFilters(q LogQuery) (filters, error) {
	var f filters
	if !q.Since.IsZero() {
		f.plain.add("l.time >= ?", q.Since.UnixMicro())
	}
	if !q.Until.IsZero() {
		f.plain.add("l.time < ?", q.Until.UnixMicro())
	}
	if q.QueueID != "" {
		f.plain.add("l.queue_id = ?", q.QueueID)
	}
	if q.Verdict != "" {
		f.plain.add("l.verdict = ?", q.Verdict)
	}
	if q.Host != "" {
		f.plain.add("l.host = ?", q.Host)
	}
	var match []string
	likes, ascii := sqlq{}, true
	like := func(c *sqlq, col, w string) {
		pat := "%" + escapeLike(w) + "%"
		if col == "" {
			c.add(`(l.sender LIKE ? ESCAPE '\' OR l.recipients LIKE ? ESCAPE '\' OR l.subject LIKE ? ESCAPE '\')`, pat, pat, pat)
		} else {
			c.add("l."+col+` LIKE ? ESCAPE '\'`, pat)
		}
	}
	// A word of three characters or more is looked up in the trigram
	// index; a shorter one cannot be, and is a LIKE on the row.
	term := func(col, w string) error {
		if len(w) > maxSearchTerm {
			return fmt.Errorf("store search log: search term of %d bytes (at most %d)", len(w), maxSearchTerm)
		}
		if utf8.RuneCountInString(w) < 3 {
			like(&f.plain, col, w)
			return nil
		}
		phrase := `"` + strings.ReplaceAll(w, `"`, `""`) + `"`
		if col != "" {
			phrase = "{" + col + "} : " + phrase
		}
		match = append(match, phrase)
		like(&likes, col, w)
		ascii = ascii && isASCII(w)
		return nil
	}
	// FTS5 reads a NUL as the end of its query: a space it is.
	nul := strings.NewReplacer("\x00", " ")
	words := strings.Fields(nul.Replace(q.Text))
	if len(words) > MaxSearchWords {
		return f, fmt.Errorf("store search log: %d words (at most %d)", len(words), MaxSearchWords)
	}
	for _, c := range []struct{ col, v string }{{"sender", q.Sender}, {"recipients", q.Recipient}, {"subject", q.Subject}} {
		if v := strings.TrimSpace(nul.Replace(c.v)); v != "" {
			if err := term(c.col, v); err != nil {
				return f, err
			}
		}
	}
	for _, w := range words {
		if err := term("", w); err != nil {
			return f, err
		}
	}
	if len(match) > 0 {
		f.match = strings.Join(match, " AND ")
		if ascii {
			f.likes = &likes
		}
	}
	return f, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// escapeLike quotes LIKE's wildcards (with backslash as the escape).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
