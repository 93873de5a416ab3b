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

// The lists the web desk edits.
const (
	Whitelist = "whitelist"
	Blacklist = "blacklist"
)

// Bounds of the desk's tables.
const (
	MaxUserName   = 64
	MaxListScope  = 1000 // domains or addresses of one user
	MaxAuditLimit = 10000
)

// ErrInvalid is returned for a user, list entry or audit entry that
// cannot be stored (an empty name, an unknown role or list).
var ErrInvalid = errors.New("store: invalid")

// AddUser adds u; ErrExists when the name is taken.
func (s *Store) AddUser(ctx context.Context, u User) error {
	if err := checkUser(u); err != nil {
		return err
	}
	doms, _ := json.Marshal(nonNil(u.Domains))
	addrs, _ := json.Marshal(nonNil(u.Addresses))
	created := u.Created
	if created.IsZero() {
		created = time.Now()
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO users(name, role, domains, addresses, hash, created) VALUES(?, ?, ?, ?, ?, ?)
		ON CONFLICT(name) DO NOTHING`, u.Name, string(u.Role), string(doms), string(addrs), u.Hash, created.Unix())
	if err != nil {
		return fmt.Errorf("store add user %s: %w", u.Name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store add user %s: %w", u.Name, ErrExists)
	}
	return nil
}

// checkUser says what is wrong with u, if anything: every store checks
// users the same way.
func checkUser(u User) error {
	switch {
	case u.Name == "" || len(u.Name) > MaxUserName || strings.ContainsAny(u.Name, " \t\r\n:/"):
		return fmt.Errorf("store user %q: %w name (1 to %d characters, no space, colon or slash)", u.Name, ErrInvalid, MaxUserName)
	case u.Role != RoleAdmin && u.Role != RoleDomain && u.Role != RoleUser:
		return fmt.Errorf("store user %s: %w role %q (admin, domain or user)", u.Name, ErrInvalid, u.Role)
	case len(u.Domains) > MaxListScope || len(u.Addresses) > MaxListScope:
		return fmt.Errorf("store user %s: %w: more than %d domains or addresses", u.Name, ErrInvalid, MaxListScope)
	}
	return nil
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

const userColumns = `name, role, domains, addresses, hash, created`

func scanUser(sc interface{ Scan(...any) error }) (User, error) {
	var u User
	var doms, addrs string
	var created int64
	if err := sc.Scan(&u.Name, &u.Role, &doms, &addrs, &u.Hash, &created); err != nil {
		return u, err
	}
	u.Created = time.Unix(created, 0)
	if err := errors.Join(json.Unmarshal([]byte(doms), &u.Domains), json.Unmarshal([]byte(addrs), &u.Addresses)); err != nil {
		return u, err
	}
	if len(u.Domains) == 0 {
		u.Domains = nil
	}
	if len(u.Addresses) == 0 {
		u.Addresses = nil
	}
	return u, nil
}

// User returns the user named name, or ErrNotFound.
func (s *Store) User(ctx context.Context, name string) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("store user %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("store user %s: %w", name, err)
	}
	return u, nil
}

// Users lists the users by name.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("store users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// DeleteUser removes the user named name, or returns ErrNotFound.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	return s.one(ctx, fmt.Sprintf("store delete user %s", name), `DELETE FROM users WHERE name = ?`, name)
}

// SetPassword replaces the password hash of user name, or returns
// ErrNotFound.
func (s *Store) SetPassword(ctx context.Context, name, hash string) error {
	return s.one(ctx, fmt.Sprintf("store set password %s", name), `UPDATE users SET hash = ? WHERE name = ?`, hash, name)
}

// one runs a statement that must change one row.
func (s *Store) one(ctx context.Context, op, q string, args ...any) error {
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return nil
}

// NormalizePattern is how a list pattern is stored: trimmed, lower case
// (addresses and domains compare without case, as the configuration's
// lists do).
func NormalizePattern(p string) string { return strings.ToLower(strings.TrimSpace(p)) }

func checkList(list string) error {
	if list != Whitelist && list != Blacklist {
		return fmt.Errorf("store list %q: %w list (whitelist or blacklist)", list, ErrInvalid)
	}
	return nil
}

// ListEntries returns the entries of list, by pattern.
func (s *Store) ListEntries(ctx context.Context, list string) ([]ListEntry, error) {
	if err := checkList(list); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT list, pattern, added, added_by FROM lists WHERE list = ? ORDER BY pattern`, list)
	if err != nil {
		return nil, fmt.Errorf("store list %s: %w", list, err)
	}
	defer rows.Close()
	var out []ListEntry
	for rows.Next() {
		var e ListEntry
		var added int64
		if err := rows.Scan(&e.List, &e.Pattern, &added, &e.By); err != nil {
			return nil, fmt.Errorf("store list %s: %w", list, err)
		}
		e.Added = time.Unix(added, 0)
		out = append(out, e)
	}
	return out, rows.Err()
}

// AddListEntry adds e (its pattern normalised); adding what is there
// already changes nothing and is not an error.
func (s *Store) AddListEntry(ctx context.Context, e ListEntry) error {
	if err := checkList(e.List); err != nil {
		return err
	}
	p := NormalizePattern(e.Pattern)
	if p == "" || len(p) > maxLogField || strings.ContainsAny(p, " \t\r\n") {
		return fmt.Errorf("store add to %s %q: %w pattern", e.List, e.Pattern, ErrInvalid)
	}
	added := e.Added
	if added.IsZero() {
		added = time.Now()
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO lists(list, pattern, added, added_by) VALUES(?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		e.List, p, added.Unix(), e.By)
	if err != nil {
		return fmt.Errorf("store add to %s %s: %w", e.List, p, err)
	}
	return nil
}

// DeleteListEntry removes pattern from list, or returns ErrNotFound.
func (s *Store) DeleteListEntry(ctx context.Context, list, pattern string) error {
	if err := checkList(list); err != nil {
		return err
	}
	p := NormalizePattern(pattern)
	return s.one(ctx, fmt.Sprintf("store delete from %s %s", list, p), `DELETE FROM lists WHERE list = ? AND pattern = ?`, list, p)
}

// AddAudit records e (Time now when zero).
func (s *Store) AddAudit(ctx context.Context, e AuditEntry) error {
	if e.User == "" || e.Action == "" {
		return fmt.Errorf("store audit: %w entry without user or action", ErrInvalid)
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO audit(time, username, action, target, detail, host) VALUES(?, ?, ?, ?, ?, ?)`,
		e.Time.UnixMicro(), cut(e.User), cut(e.Action), cut(e.Target), cut(e.Detail), cut(e.Host))
	if err != nil {
		return fmt.Errorf("store audit %s %s: %w", e.Action, e.Target, err)
	}
	return nil
}

// Audit returns the last limit entries (1 to MaxAuditLimit), newest first.
func (s *Store) Audit(ctx context.Context, limit int) ([]AuditEntry, error) {
	if limit <= 0 {
		limit = DefaultLogLimit
	}
	limit = min(limit, MaxAuditLimit)
	rows, err := s.db.QueryContext(ctx, `SELECT time, username, action, target, detail, host FROM audit ORDER BY time DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var t int64
		if err := rows.Scan(&t, &e.User, &e.Action, &e.Target, &e.Detail, &e.Host); err != nil {
			return nil, fmt.Errorf("store audit: %w", err)
		}
		e.Time = time.UnixMicro(t)
		out = append(out, e)
	}
	return out, rows.Err()
}

// UseToken records that the digest link id was used; first is true the
// first time only. expires is when the link expires: the record is kept
// until then (PurgeLog removes it after), so check the link's expiry
// before calling UseToken.
func (s *Store) UseToken(ctx context.Context, id string, expires time.Time) (bool, error) {
	if id == "" || len(id) > maxLogField {
		return false, fmt.Errorf("store use token: %w id", ErrInvalid)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO tokens(id, expires) VALUES(?, ?) ON CONFLICT(id) DO NOTHING`, id, expires.Unix())
	if err != nil {
		return false, fmt.Errorf("store use token: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
