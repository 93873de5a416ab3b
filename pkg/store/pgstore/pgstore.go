// Package pgstore is qscan's shared store on PostgreSQL (pgx): the message
// log, the quarantine index, the web desk's users, lists, audit log and
// used digest links of a group of scanner hosts, each row naming its
// host. It has the methods and semantics of pkg/store's SQLite store
// (pkg/store/storetest is the suite both pass); processing attempts and
// the commit journal stay in each host's own SQLite file.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/qscan/qscan/pkg/store"
)

// Store is an open PostgreSQL store.
type Store struct {
	pool *pgxpool.Pool
}

// maxConns bounds the connections of one Store: a group of twenty hosts
// must fit in PostgreSQL's default max_connections (100).
const maxConns = 4

// Open connects to dsn (a postgres:// URL or key=value string). It does
// not change the schema: `qscan migrate` does (Migrate). Open does not
// wait for the server: a store whose server is down answers errors until
// it is back.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN, password and all.
		return nil, fmt.Errorf("pgstore open %s: invalid dsn", Redact(dsn))
	}
	cfg.MaxConns = maxConns
	cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore open %s: %w", Redact(dsn), err)
	}
	return &Store{pool: pool}, nil
}

// Redact is dsn without its password, for logs and errors.
func Redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	if strings.Contains(dsn, "://") {
		// A URL that does not parse: hide whatever stands between the
		// user's colon and the @.
		return urlPassword.ReplaceAllString(dsn, "${1}xxxxx@")
	}
	// key=value form: drop the password's value.
	var out []string
	for _, f := range strings.Fields(dsn) {
		if k, _, ok := strings.Cut(f, "="); ok && strings.EqualFold(k, "password") {
			f = k + "=xxxxx"
		}
		out = append(out, f)
	}
	return strings.Join(out, " ")
}

var urlPassword = regexp.MustCompile(`(://[^:/@]*:)[^@]*@`)

// Close closes the connections.
func (s *Store) Close() error { s.pool.Close(); return nil }

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Pool gives tests and benchmarks the connection pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// one runs a statement that must change one row.
func (s *Store) one(ctx context.Context, op, q string, args ...any) error {
	tag, err := s.pool.Exec(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", op, store.ErrNotFound)
	}
	return nil
}

// notFound maps pgx's "no rows" to store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}
