package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qscan/qscan/pkg/store"
)

// AddUser adds u; store.ErrExists when the name is taken.
func (s *Store) AddUser(ctx context.Context, u store.User) error {
	if err := store.CheckUser(u); err != nil {
		return err
	}
	doms, _ := json.Marshal(store.NonNil(u.Domains))
	addrs, _ := json.Marshal(store.NonNil(u.Addresses))
	created := u.Created
	if created.IsZero() {
		created = time.Now()
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO users(name, role, domains, addresses, hash, created) VALUES($1, $2, $3, $4, $5, $6)
		ON CONFLICT(name) DO NOTHING`, u.Name, string(u.Role), string(doms), string(addrs), u.Hash, created.Unix())
	if err != nil {
		return fmt.Errorf("pgstore add user %s: %w", u.Name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore add user %s: %w", u.Name, store.ErrExists)
	}
	return nil
}

const userColumns = `name, role, domains, addresses, hash, created`

func scanUser(row pgx.Row) (store.User, error) {
	var u store.User
	var doms, addrs string
	var created int64
	if err := row.Scan(&u.Name, &u.Role, &doms, &addrs, &u.Hash, &created); err != nil {
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

// User returns the user named name, or store.ErrNotFound.
func (s *Store) User(ctx context.Context, name string) (store.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE name = $1`, name))
	if err != nil {
		return u, fmt.Errorf("pgstore user %s: %w", name, notFound(err))
	}
	return u, nil
}

// Users lists the users by name.
func (s *Store) Users(ctx context.Context) ([]store.User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("pgstore users: %w", err)
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("pgstore users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// DeleteUser removes the user named name, or returns store.ErrNotFound.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	return s.one(ctx, "pgstore delete user "+name, `DELETE FROM users WHERE name = $1`, name)
}

// SetPassword replaces the password hash of user name, or returns
// store.ErrNotFound.
func (s *Store) SetPassword(ctx context.Context, name, hash string) error {
	return s.one(ctx, "pgstore set password "+name, `UPDATE users SET hash = $1 WHERE name = $2`, hash, name)
}

// ListEntries returns the entries of list, by pattern.
func (s *Store) ListEntries(ctx context.Context, list string) ([]store.ListEntry, error) {
	if err := store.CheckList(list); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT list, pattern, added, added_by FROM lists WHERE list = $1 ORDER BY pattern COLLATE "C"`, list)
	if err != nil {
		return nil, fmt.Errorf("pgstore list %s: %w", list, err)
	}
	defer rows.Close()
	var out []store.ListEntry
	for rows.Next() {
		var e store.ListEntry
		var added int64
		if err := rows.Scan(&e.List, &e.Pattern, &added, &e.By); err != nil {
			return nil, fmt.Errorf("pgstore list %s: %w", list, err)
		}
		e.Added = time.Unix(added, 0)
		out = append(out, e)
	}
	return out, rows.Err()
}

// AddListEntry adds e (its pattern normalised); adding what is there
// already changes nothing and is not an error.
func (s *Store) AddListEntry(ctx context.Context, e store.ListEntry) error {
	if err := store.CheckList(e.List); err != nil {
		return err
	}
	p, err := store.CheckPattern(e.List, e.Pattern)
	if err != nil {
		return err
	}
	added := e.Added
	if added.IsZero() {
		added = time.Now()
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO lists(list, pattern, added, added_by) VALUES($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		e.List, p, added.Unix(), e.By); err != nil {
		return fmt.Errorf("pgstore add to %s %s: %w", e.List, p, err)
	}
	return nil
}

// DeleteListEntry removes pattern from list, or returns store.ErrNotFound.
func (s *Store) DeleteListEntry(ctx context.Context, list, pattern string) error {
	if err := store.CheckList(list); err != nil {
		return err
	}
	p := store.NormalizePattern(pattern)
	return s.one(ctx, fmt.Sprintf("pgstore delete from %s %s", list, p), `DELETE FROM lists WHERE list = $1 AND pattern = $2`, list, p)
}

// AddAudit records e (Time now when zero).
func (s *Store) AddAudit(ctx context.Context, e store.AuditEntry) error {
	if e.User == "" || e.Action == "" {
		return fmt.Errorf("pgstore audit: %w entry without user or action", store.ErrInvalid)
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO audit(time, username, action, target, detail, host) VALUES($1, $2, $3, $4, $5, $6)`,
		e.Time.UnixMicro(), store.Cut(e.User), store.Cut(e.Action), store.Cut(e.Target), store.Cut(e.Detail), store.Cut(e.Host))
	if err != nil {
		return fmt.Errorf("pgstore audit %s %s: %w", e.Action, e.Target, err)
	}
	return nil
}

// Audit returns the last limit entries (1 to store.MaxAuditLimit), newest
// first.
func (s *Store) Audit(ctx context.Context, limit int) ([]store.AuditEntry, error) {
	if limit <= 0 {
		limit = store.DefaultLogLimit
	}
	limit = min(limit, store.MaxAuditLimit)
	rows, err := s.pool.Query(ctx, `SELECT time, username, action, target, detail, host FROM audit ORDER BY time DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("pgstore audit: %w", err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		var t int64
		if err := rows.Scan(&t, &e.User, &e.Action, &e.Target, &e.Detail, &e.Host); err != nil {
			return nil, fmt.Errorf("pgstore audit: %w", err)
		}
		e.Time = time.UnixMicro(t)
		out = append(out, e)
	}
	return out, rows.Err()
}

// UseToken records that the digest link id was used; first is true the
// first time only, on whichever host of the group it is used.
func (s *Store) UseToken(ctx context.Context, id string, expires time.Time) (bool, error) {
	if id == "" || len(id) > 1000 {
		return false, fmt.Errorf("pgstore use token: %w id", store.ErrInvalid)
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO tokens(id, expires) VALUES($1, $2) ON CONFLICT(id) DO NOTHING`, id, expires.Unix())
	if err != nil {
		return false, fmt.Errorf("pgstore use token: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
