package pgstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/qscan/qscan/pkg/store"
)

// SearchLog returns the rows q selects, newest first (by time, then row),
// with Row set, as the SQLite store does: Text matches rows that hold each
// of its words (case-insensitive substrings) in the sender, the
// recipients or the subject, through the trigram index on search.
func (s *Store) SearchLog(ctx context.Context, q store.LogQuery) ([]store.LogRecord, error) {
	sqlText, args, err := planSearch(q)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("pgstore search log: %w", err)
	}
	defer rows.Close()
	var out []store.LogRecord
	for rows.Next() {
		r, err := scanLog(rows)
		if err != nil {
			return nil, fmt.Errorf("pgstore search log: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore search log: %w", err)
	}
	return out, nil
}

// where collects conditions with numbered parameters.
type where struct {
	conds []string
	args  []any
}

// add appends cond, whose parameters are written "?" in order.
func (w *where) add(cond string, args ...any) {
	for _, a := range args {
		w.args = append(w.args, a)
		cond = strings.Replace(cond, "?", fmt.Sprintf("$%d", len(w.args)), 1)
	}
	w.conds = append(w.conds, cond)
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// searchLines are the columns' lines of the search text.
var searchLines = map[string]int{"sender": 1, "recipients": 2, "subject": 3}

func planSearch(q store.LogQuery) (string, []any, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = store.DefaultLogLimit
	}
	limit = min(limit, store.MaxLogLimit)
	var w where
	if q.Scope != nil {
		keys := store.ScopeKeysOf(q.Scope)
		if len(keys) > store.MaxScopeKeys {
			return "", nil, fmt.Errorf("pgstore search log: scope of %d domains and addresses (at most %d)", len(keys), store.MaxScopeKeys)
		}
		if len(keys) == 0 {
			w.add("false")
		} else {
			w.add("l.keys && ?::text[]", keys)
		}
	}
	if !q.Since.IsZero() {
		w.add("l.time >= ?", q.Since.UnixMicro())
	}
	if !q.Until.IsZero() {
		w.add("l.time < ?", q.Until.UnixMicro())
	}
	if !q.Before.Time.IsZero() || q.Before.Row != 0 {
		w.add("(l.time, l.rid) < (?, ?)", q.Before.Time.UnixMicro(), q.Before.Row)
	}
	for _, c := range []struct {
		cond string
		v    string
	}{{"l.queue_id = ?", q.QueueID}, {"l.verdict = ?", q.Verdict}, {"l.host = ?", q.Host}} {
		if c.v != "" {
			w.add(c.cond, c.v)
		}
	}
	nul := strings.NewReplacer("\x00", " ")
	words := strings.Fields(nul.Replace(q.Text))
	if len(words) > store.MaxSearchWords {
		return "", nil, fmt.Errorf("pgstore search log: %d words (at most %d)", len(words), store.MaxSearchWords)
	}
	for _, c := range []struct{ col, v string }{{"sender", q.Sender}, {"recipients", q.Recipient}, {"subject", q.Subject}} {
		v := strings.TrimSpace(nul.Replace(c.v))
		if v == "" {
			continue
		}
		if err := store.SearchTerm(v); err != nil {
			return "", nil, err
		}
		pat := likePattern(v)
		// The whole text first (the trigram index), then the column.
		w.add(`l.search LIKE ?`, pat)
		w.add(fmt.Sprintf(`split_part(l.search, E'\n', %d) LIKE ?`, searchLines[c.col]), pat)
	}
	for _, word := range words {
		if err := store.SearchTerm(word); err != nil {
			return "", nil, err
		}
		w.add(`l.search LIKE ?`, likePattern(word))
	}
	w.args = append(w.args, limit)
	return fmt.Sprintf(`SELECT %s FROM log l%s ORDER BY l.time DESC, l.rid DESC LIMIT $%d`, logColumns, w.sql(), len(w.args)), w.args, nil
}

// likePattern is "%word%" for a LIKE on the lower-case search text, its
// wildcards quoted (backslash is PostgreSQL's LIKE escape).
func likePattern(w string) string {
	w = strings.ToLower(w)
	return "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(w) + "%"
}
