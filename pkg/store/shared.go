package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The helpers below let the PostgreSQL store (pkg/store/pgstore) check
// and encode rows exactly as this one does.

// CheckUser says what is wrong with u, if anything.
func CheckUser(u User) error { return checkUser(u) }

// CheckList says whether list is one the desk edits.
func CheckList(list string) error { return checkList(list) }

// CheckPattern returns the stored form of a list pattern, or ErrInvalid.
func CheckPattern(list, pattern string) (string, error) {
	p := NormalizePattern(pattern)
	if p == "" || len(p) > maxLogField || strings.ContainsAny(p, " \t\r\n") {
		return "", fmt.Errorf("store add to %s %q: %w pattern", list, pattern, ErrInvalid)
	}
	return p, nil
}

// Cut shortens s to the bound of one stored string (1000 bytes) on a
// character boundary.
func Cut(s string) string { return cut(s) }

// NonNil is xs, or an empty list for nil (stored as "[]").
func NonNil(xs []string) []string { return nonNil(xs) }

// EncodedRecord is a LogRecord's stored columns as JSON text.
type EncodedRecord struct {
	Recipients, Stages, Detail string
}

// EncodeRecord gives the JSON columns of r (bound it first: BoundRecord).
func EncodeRecord(r LogRecord) (EncodedRecord, error) {
	rcpts, _ := json.Marshal(r.Recipients)
	stages, _ := json.Marshal(r.StageMS)
	detail, err := json.Marshal(logDetail{OutID: r.OutID, ClientIP: r.ClientIP, Helo: r.Helo, SpamRules: r.SpamRules,
		Viruses: r.Viruses, Reports: r.Reports, Actions: r.Actions, Extra: r.Extra})
	return EncodedRecord{string(rcpts), string(stages), string(detail)}, err
}

// DecodeRecord fills the fields of r that EncodeRecord put in e, and its
// time from Unix microseconds.
func DecodeRecord(r *LogRecord, t int64, e EncodedRecord) error {
	r.Time = time.UnixMicro(t)
	var d logDetail
	if err := errors.Join(json.Unmarshal([]byte(e.Recipients), &r.Recipients), json.Unmarshal([]byte(e.Stages), &r.StageMS),
		json.Unmarshal([]byte(e.Detail), &d)); err != nil {
		return fmt.Errorf("row %d: %w", r.Row, err)
	}
	r.OutID, r.ClientIP, r.Helo, r.SpamRules, r.Viruses = d.OutID, d.ClientIP, d.Helo, d.SpamRules, d.Viruses
	r.Reports, r.Actions, r.Extra = d.Reports, d.Actions, d.Extra
	return nil
}

// ScopeKeysOf are the lower-case keys a Scope finds rows under (see
// ScopeKeys); nil sc: none.
func ScopeKeysOf(sc *Scope) []string {
	if sc == nil {
		return nil
	}
	return sc.keys()
}

// SearchTerm checks one word or filter of a query against the bounds.
func SearchTerm(w string) error {
	if len(w) > maxSearchTerm {
		return fmt.Errorf("store search log: search term of %d bytes (at most %d)", len(w), maxSearchTerm)
	}
	return nil
}
