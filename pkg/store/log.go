package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNotFound is returned for a log row, user or list entry that is not
// there.
var ErrNotFound = errors.New("store: not found")

// ErrExists is returned by AddUser for a name that is taken.
var ErrExists = errors.New("store: already exists")

// logDetail is what a log row keeps beyond its searched columns, as JSON.
type logDetail struct {
	OutID     string            `json:"out_id,omitempty"`
	ClientIP  string            `json:"client_ip,omitempty"`
	Helo      string            `json:"helo,omitempty"`
	SpamRules []string          `json:"spam_rules,omitempty"`
	Viruses   []string          `json:"viruses,omitempty"`
	Reports   []LogReport       `json:"reports,omitempty"`
	Actions   []string          `json:"actions,omitempty"`
	Extra     map[string]string `json:"extra,omitempty"`
}

// AppendLog writes the records of one batch in one transaction.
func (s *Store) AppendLog(ctx context.Context, recs []LogRecord) error {
	if len(recs) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store append log: %w", err)
	}
	defer tx.Rollback()
	ins, err := newLogInserter(ctx, tx)
	if err != nil {
		return fmt.Errorf("store append log: %w", err)
	}
	defer ins.close()
	hourly := map[hourVerdict]int64{}
	for _, r := range recs {
		r = BoundRecord(r)
		if err := ins.insert(ctx, r); err != nil {
			return fmt.Errorf("store append log %s: %w", r.QueueID, err)
		}
		hourly[hourVerdict{hourOf(r.Time.UnixMicro()), r.Verdict}]++
	}
	if err := addHourly(ctx, tx, hourly); err != nil {
		return fmt.Errorf("store append log: hourly counts: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store append log: commit: %w", err)
	}
	return nil
}

// hourVerdict is a key of the hourly rollup.
type hourVerdict struct {
	hour    int64
	verdict string
}

// hourOf is the hour (Unix time / 3600, rounded down) of a time in
// microseconds.
func hourOf(t int64) int64 {
	h := t / hourMicros
	if t%hourMicros < 0 {
		h--
	}
	return h
}

// addHourly adds counts to log_hourly (negative ones when rows go) and
// drops the hours left at zero.
func addHourly(ctx context.Context, tx *sql.Tx, counts map[hourVerdict]int64) error {
	for k, n := range counts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO log_hourly(hour, verdict, n) VALUES(?, ?, ?)
			ON CONFLICT(hour, verdict) DO UPDATE SET n = n + excluded.n`, k.hour, k.verdict, n); err != nil {
			return err
		}
		if n < 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM log_hourly WHERE hour = ? AND verdict = ? AND n <= 0`, k.hour, k.verdict); err != nil {
				return err
			}
		}
	}
	return nil
}

// logInserter holds the statements of one AppendLog: preparing them once
// per batch costs less than once per row.
type logInserter struct {
	log, fts, addr, tag *sql.Stmt
}

func newLogInserter(ctx context.Context, tx *sql.Tx) (*logInserter, error) {
	var li logInserter
	for _, p := range []struct {
		st **sql.Stmt
		q  string
	}{
		{&li.log, `INSERT INTO log(time, host, queue_id, sender, recipients, subject, size, verdict, spam_score, quarantine, stages, detail)
			VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&li.fts, `INSERT INTO log_fts(rowid, sender, recipients, subject) VALUES(?, ?, ?, ?)`},
		{&li.addr, `INSERT OR IGNORE INTO log_addr(key, time, row) VALUES(?, ?, ?)`},
		{&li.tag, `INSERT INTO log_tag(kind, time, name, row) VALUES(?, ?, ?, ?)`},
	} {
		st, err := tx.PrepareContext(ctx, p.q)
		if err != nil {
			li.close()
			return nil, err
		}
		*p.st = st
	}
	return &li, nil
}

func (li *logInserter) close() {
	for _, st := range []*sql.Stmt{li.log, li.fts, li.addr, li.tag} {
		if st != nil {
			st.Close()
		}
	}
}

func (li *logInserter) insert(ctx context.Context, r LogRecord) error {
	rcpts, _ := json.Marshal(r.Recipients)
	stages, _ := json.Marshal(r.StageMS)
	detail, err := json.Marshal(logDetail{OutID: r.OutID, ClientIP: r.ClientIP, Helo: r.Helo, SpamRules: r.SpamRules,
		Viruses: r.Viruses, Reports: r.Reports, Actions: r.Actions, Extra: r.Extra})
	if err != nil {
		return err
	}
	t := r.Time.UnixMicro()
	res, err := li.log.ExecContext(ctx, t, r.Host, r.QueueID, r.Sender, string(rcpts), r.Subject, r.Size, r.Verdict,
		r.SpamScore, r.Quarantine, string(stages), string(detail))
	if err != nil {
		return err
	}
	row, err := res.LastInsertId()
	if err != nil {
		return err
	}
	if _, err := li.fts.ExecContext(ctx, row, r.Sender, strings.Join(r.Recipients, " "), r.Subject); err != nil {
		return err
	}
	for _, k := range ScopeKeys(r.Sender, r.Recipients) {
		if _, err := li.addr.ExecContext(ctx, k, t, row); err != nil {
			return err
		}
	}
	for _, tg := range Tags(r) {
		if _, err := li.tag.ExecContext(ctx, tg[0], t, tg[1], row); err != nil {
			return err
		}
	}
	return nil
}

// ScopeKeys are the keys a log row is found under by a Scope: each
// recipient address, and "@domain" for the domains of the sender and the
// recipients, lower case, each once.
func ScopeKeys(sender string, rcpts []string) []string {
	seen := map[string]bool{}
	var keys []string
	add := func(k string) {
		if k != "" && k != "@" && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	if d := domainOf(sender); d != "" {
		add("@" + d)
	}
	for _, a := range rcpts {
		a = strings.ToLower(a)
		add(a)
		if d := domainOf(a); d != "" {
			add("@" + d)
		}
	}
	return keys
}

// scopeKeys are the keys of a Scope's rows (see ScopeKeys).
func (sc *Scope) keys() []string {
	var keys []string
	for _, d := range sc.Domains {
		if d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@")); d != "" {
			keys = append(keys, "@"+d)
		}
	}
	for _, a := range sc.Addresses {
		if a = strings.ToLower(strings.TrimSpace(a)); a != "" {
			keys = append(keys, a)
		}
	}
	return keys
}

func domainOf(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(addr[i+1:])
}

// Tags are the (kind, name) pairs the dashboard counts: "virus" for each
// virus name, "filename" for each blocked file name.
func Tags(r LogRecord) [][2]string {
	var out [][2]string
	seen := map[[2]string]bool{}
	add := func(kind, name string) {
		t := [2]string{kind, name}
		if name != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, v := range r.Viruses {
		add("virus", v)
	}
	for _, rep := range r.Reports {
		add("filename", rep.Filename)
	}
	return out
}

// Bounds of one log row: a message with 100,000 recipients or a thousand
// reports still makes a row of a few hundred kilobytes at most.
const (
	MaxLogRecipients = 1000
	MaxLogReports    = 100
	MaxLogRules      = 200
	maxLogField      = 1000 // bytes of one string (a subject, a report text)
)

// BoundRecord cuts a record to the bounds above; what is cut is counted
// in Extra ("recipients_cut", "reports_cut"). Every store writes records
// through it.
func BoundRecord(r LogRecord) LogRecord {
	extra := func(k string, n int) {
		m := make(map[string]string, len(r.Extra)+1)
		for k, v := range r.Extra {
			m[k] = v
		}
		m[k] = fmt.Sprint(n)
		r.Extra = m
	}
	if n := len(r.Recipients); n > MaxLogRecipients {
		r.Recipients = r.Recipients[:MaxLogRecipients]
		extra("recipients_cut", n-MaxLogRecipients)
	}
	if n := len(r.Reports); n > MaxLogReports {
		r.Reports = r.Reports[:MaxLogReports]
		extra("reports_cut", n-MaxLogReports)
	}
	if len(r.SpamRules) > MaxLogRules {
		r.SpamRules = r.SpamRules[:MaxLogRules]
	}
	if len(r.Viruses) > MaxLogReports {
		r.Viruses = r.Viruses[:MaxLogReports]
	}
	r.Sender, r.Subject, r.Helo = cut(r.Sender), cut(r.Subject), cut(r.Helo)
	r.Recipients = cutAll(r.Recipients)
	r.Viruses = cutAll(r.Viruses)
	if r.Reports != nil {
		reps := make([]LogReport, len(r.Reports))
		for i, rep := range r.Reports {
			rep.Text, rep.Part, rep.Filename = cut(rep.Text), cut(rep.Part), cut(rep.Filename)
			reps[i] = rep
		}
		r.Reports = reps
	}
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	return r
}

func cutAll(xs []string) []string {
	if xs == nil {
		return nil
	}
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = cut(x)
	}
	return out
}

// cut shortens s to maxLogField bytes on a character boundary.
func cut(s string) string {
	if len(s) <= maxLogField {
		return s
	}
	n := maxLogField
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n]
}

const logColumns = `l.row, l.time, l.host, l.queue_id, l.sender, l.recipients, l.subject, l.size, l.verdict, l.spam_score, l.quarantine, l.stages, l.detail`

func scanLog(sc interface{ Scan(...any) error }) (LogRecord, error) {
	var r LogRecord
	var t int64
	var rcpts, stages, detail string
	if err := sc.Scan(&r.Row, &t, &r.Host, &r.QueueID, &r.Sender, &rcpts, &r.Subject, &r.Size, &r.Verdict,
		&r.SpamScore, &r.Quarantine, &stages, &detail); err != nil {
		return r, err
	}
	r.Time = time.UnixMicro(t)
	var d logDetail
	if err := errors.Join(json.Unmarshal([]byte(rcpts), &r.Recipients), json.Unmarshal([]byte(stages), &r.StageMS),
		json.Unmarshal([]byte(detail), &d)); err != nil {
		return r, fmt.Errorf("row %d: %w", r.Row, err)
	}
	r.OutID, r.ClientIP, r.Helo, r.SpamRules, r.Viruses = d.OutID, d.ClientIP, d.Helo, d.SpamRules, d.Viruses
	r.Reports, r.Actions, r.Extra = d.Reports, d.Actions, d.Extra
	return r, nil
}

// LogRow returns the row numbered row, or ErrNotFound.
func (s *Store) LogRow(ctx context.Context, row int64) (LogRecord, error) {
	r, err := scanLog(s.db.QueryRowContext(ctx, `SELECT `+logColumns+` FROM log l WHERE l.row = ?`, row))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("store log row %d: %w", row, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("store log row %d: %w", row, err)
	}
	return r, nil
}

// purgeChunk is how many rows one PurgeLog transaction deletes: the
// pipeline's writes wait for the transaction, not for the whole purge.
const purgeChunk = 5000

// PurgeLog deletes the log rows older than before and returns how many
// it deleted. Digest links used (tokens) that expired before before go too.
func (s *Store) PurgeLog(ctx context.Context, before time.Time) (int64, error) {
	t := before.UnixMicro()
	var total int64
	for {
		n, err := s.purgeChunk(ctx, t)
		total += n
		if err != nil {
			return total, fmt.Errorf("store purge log: %w", err)
		}
		if n < purgeChunk {
			break
		}
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM tokens WHERE expires < ?`, before.Unix()); err != nil {
		return total, fmt.Errorf("store purge tokens: %w", err)
	}
	return total, nil
}

func (s *Store) purgeChunk(ctx context.Context, t int64) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var max sql.NullInt64
	// The newest time among the oldest purgeChunk rows: every table is
	// purged up to it, so a row's index entries go with it.
	if err := tx.QueryRowContext(ctx, `SELECT max(time) FROM (SELECT time FROM log WHERE time < ? ORDER BY time LIMIT ?)`,
		t, purgeChunk).Scan(&max); err != nil {
		return 0, err
	}
	if !max.Valid {
		return 0, nil
	}
	upto := max.Int64
	if _, err := tx.ExecContext(ctx, `DELETE FROM log_fts WHERE rowid IN (SELECT row FROM log WHERE time <= ?)`, upto); err != nil {
		return 0, err
	}
	for _, q := range []string{`DELETE FROM log_addr WHERE time <= ?`, `DELETE FROM log_tag WHERE time <= ?`} {
		if _, err := tx.ExecContext(ctx, q, upto); err != nil {
			return 0, err
		}
	}
	rows, err := tx.QueryContext(ctx, `DELETE FROM log WHERE time <= ? RETURNING time, verdict`, upto)
	if err != nil {
		return 0, err
	}
	var n int64
	hourly := map[hourVerdict]int64{}
	for rows.Next() {
		var t int64
		var v string
		if err := rows.Scan(&t, &v); err != nil {
			rows.Close()
			return 0, err
		}
		hourly[hourVerdict{hourOf(t), v}]--
		n++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if err := addHourly(ctx, tx, hourly); err != nil {
		return 0, err
	}
	return n, tx.Commit()
}

// InScope reports whether sc lets its holder see r, by the rule SearchLog
// applies: r is to one of sc's addresses, or to or from one of its
// domains (case-insensitive). A nil sc sees everything. The web desk
// checks a row it reads by number (LogRow) with it.
func InScope(r LogRecord, sc *Scope) bool {
	if sc == nil {
		return true
	}
	have := map[string]bool{}
	for _, k := range ScopeKeys(r.Sender, r.Recipients) {
		have[k] = true
	}
	for _, k := range sc.keys() {
		if have[k] {
			return true
		}
	}
	return false
}
