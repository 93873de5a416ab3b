package store

import (
	"context"
	"fmt"
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
func (s *Store) SearchLog(ctx context.Context, q LogQuery) ([]LogRecord, error) {
	sq, err := buildSearch(q)
	if err != nil {
		return nil, err
	}
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

type search struct {
	sql  string
	args []any
}

// buildSearch makes the SQL of q. Without a Scope it walks the time index
// newest first; with one it walks log_addr for each of the scope's keys
// (each newest first) and merges them, so that a user with ten messages
// among a million finds them as fast as an administrator finds the last
// ten of all.
func buildSearch(q LogQuery) (search, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLogLimit
	}
	limit = min(limit, MaxLogLimit)
	where, args, err := logFilters(q)
	if err != nil {
		return search{}, err
	}
	if q.Scope == nil {
		if !q.Before.Time.IsZero() || q.Before.Row != 0 {
			where = append(where, "(l.time, l.row) < (?, ?)")
			args = append(args, q.Before.Time.UnixMicro(), q.Before.Row)
		}
		return search{sql: `SELECT ` + logColumns + ` FROM log l` + and(where) +
			` ORDER BY l.time DESC, l.row DESC LIMIT ?`, args: append(args, limit)}, nil
	}
	keys := q.Scope.keys()
	if len(keys) > MaxScopeKeys {
		return search{}, fmt.Errorf("store search log: scope of %d domains and addresses (at most %d)", len(keys), MaxScopeKeys)
	}
	if len(keys) == 0 {
		// Nothing to see: a query that returns no row.
		return search{sql: `SELECT ` + logColumns + ` FROM log l WHERE 0`}, nil
	}
	var parts []string
	var all []any
	for _, k := range keys {
		w := append([]string{"a.key = ?"}, where...)
		a := append([]any{k}, args...)
		if !q.Since.IsZero() {
			w = append(w, "a.time >= ?")
			a = append(a, q.Since.UnixMicro())
		}
		if !q.Until.IsZero() {
			w = append(w, "a.time < ?")
			a = append(a, q.Until.UnixMicro())
		}
		if !q.Before.Time.IsZero() || q.Before.Row != 0 {
			w = append(w, "(a.time, a.row) < (?, ?)")
			a = append(a, q.Before.Time.UnixMicro(), q.Before.Row)
		}
		parts = append(parts, `SELECT * FROM (SELECT `+logColumns+` FROM log_addr a CROSS JOIN log l ON l.row = a.row`+and(w)+
			` ORDER BY a.time DESC, a.row DESC LIMIT ?)`)
		all = append(append(all, a...), limit)
	}
	// UNION drops the rows found under two keys (to and from the domain).
	sqlText := `SELECT * FROM (` + strings.Join(parts, " UNION ") + `) ORDER BY 2 DESC, 1 DESC LIMIT ?`
	return search{sql: sqlText, args: append(all, limit)}, nil
}

func and(where []string) string {
	if len(where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(where, " AND ")
}

// logFilters are the conditions of q on the log table (alias l) but for
// paging and scope.
func logFilters(q LogQuery) ([]string, []any, error) {
	var where []string
	var args []any
	cond := func(c string, a ...any) {
		where = append(where, c)
		args = append(args, a...)
	}
	if !q.Since.IsZero() {
		cond("l.time >= ?", q.Since.UnixMicro())
	}
	if !q.Until.IsZero() {
		cond("l.time < ?", q.Until.UnixMicro())
	}
	if q.QueueID != "" {
		cond("l.queue_id = ?", q.QueueID)
	}
	if q.Verdict != "" {
		cond("l.verdict = ?", q.Verdict)
	}
	if q.Host != "" {
		cond("l.host = ?", q.Host)
	}
	var match []string
	// A word of three characters or more is looked up in the trigram
	// index; a shorter one cannot be, and is a LIKE on the row.
	term := func(col, w string) error {
		if len(w) > maxSearchTerm {
			return fmt.Errorf("store search log: search term of %d bytes (at most %d)", len(w), maxSearchTerm)
		}
		if utf8.RuneCountInString(w) >= 3 {
			phrase := `"` + strings.ReplaceAll(w, `"`, `""`) + `"`
			if col != "" {
				phrase = "{" + col + "} : " + phrase
			}
			match = append(match, phrase)
			return nil
		}
		like := "%" + escapeLike(w) + "%"
		if col == "" {
			cond(`(l.sender LIKE ? ESCAPE '\' OR l.recipients LIKE ? ESCAPE '\' OR l.subject LIKE ? ESCAPE '\')`, like, like, like)
		} else {
			cond("l."+col+` LIKE ? ESCAPE '\'`, like)
		}
		return nil
	}
	words := strings.Fields(q.Text)
	if len(words) > MaxSearchWords {
		return nil, nil, fmt.Errorf("store search log: %d words (at most %d)", len(words), MaxSearchWords)
	}
	for _, f := range []struct{ col, v string }{{"sender", q.Sender}, {"recipients", q.Recipient}, {"subject", q.Subject}} {
		if v := strings.TrimSpace(f.v); v != "" {
			if err := term(f.col, v); err != nil {
				return nil, nil, err
			}
		}
	}
	for _, w := range words {
		if err := term("", w); err != nil {
			return nil, nil, err
		}
	}
	if len(match) > 0 {
		cond("l.row IN (SELECT rowid FROM log_fts WHERE log_fts MATCH ?)", strings.Join(match, " AND "))
	}
	return where, args, nil
}

// escapeLike quotes LIKE's wildcards (with backslash as the escape).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
