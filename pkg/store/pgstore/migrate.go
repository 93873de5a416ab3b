package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qscan/qscan/pkg/store"
)

// pgSQL is each schema version's PostgreSQL statements, by version: the
// versions and their names are pkg/store's (store.Migrations), so that
// schema_version means the same thing in either database. Times are Unix
// microseconds (log, audit) or seconds (quarantine, users, lists,
// tokens), as in SQLite.
var pgSQL = map[int]string{
	// Version 1: the quarantine index (the attempts stay local), one row
	// per entry of each host.
	1: `
CREATE TABLE quarantine (
	host       text NOT NULL,
	id         text NOT NULL,
	queue_id   text NOT NULL,
	dir        text NOT NULL,
	time       bigint NOT NULL,
	sender     text NOT NULL,
	recipients text NOT NULL,
	subject    text NOT NULL,
	reason     text NOT NULL,
	released   bigint NOT NULL DEFAULT 0,
	whole      boolean NOT NULL DEFAULT false,
	PRIMARY KEY (host, id)
);
CREATE INDEX quarantine_time ON quarantine(time);
`,
	// Version 2: the message log. search is the lower-case sender,
	// recipients and subject, one a line, under a trigram index (pg_trgm:
	// LIKE '%word%' from the index); keys are the row's scope keys
	// (store.ScopeKeys) under a GIN index; viruses and filenames are what
	// the dashboard counts. (src, seq) is the idempotency key of a row
	// sent from a host's outbox: sent twice, it is stored once.
	2: `
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE TABLE log (
	rid        bigserial PRIMARY KEY,
	time       bigint NOT NULL,
	host       text NOT NULL,
	src        text,
	seq        bigint,
	queue_id   text NOT NULL,
	sender     text NOT NULL,
	recipients text NOT NULL,
	subject    text NOT NULL,
	size       bigint NOT NULL,
	verdict    text NOT NULL,
	spam_score double precision NOT NULL,
	quarantine text NOT NULL,
	stages     text NOT NULL,
	detail     text NOT NULL,
	search     text NOT NULL,
	keys       text[] NOT NULL,
	viruses    text[] NOT NULL,
	filenames  text[] NOT NULL
);
CREATE UNIQUE INDEX log_src_seq ON log(src, seq);
CREATE INDEX log_time ON log(time, rid);
CREATE INDEX log_verdict ON log(verdict, time);
CREATE INDEX log_queue_id ON log(queue_id);
CREATE INDEX log_search ON log USING gin (search public.gin_trgm_ops);
CREATE INDEX log_keys ON log USING gin (keys);
`,
	// Version 3: the web desk's tables.
	3: `
CREATE TABLE users (
	name      text PRIMARY KEY,
	role      text NOT NULL,
	domains   text NOT NULL,
	addresses text NOT NULL,
	hash      text NOT NULL,
	created   bigint NOT NULL
);
CREATE TABLE lists (
	list     text NOT NULL,
	pattern  text NOT NULL,
	added    bigint NOT NULL,
	added_by text NOT NULL,
	PRIMARY KEY (list, pattern)
);
CREATE TABLE audit (
	id       bigserial PRIMARY KEY,
	time     bigint NOT NULL,
	username text NOT NULL,
	action   text NOT NULL,
	target   text NOT NULL,
	detail   text NOT NULL,
	host     text NOT NULL
);
CREATE INDEX audit_time ON audit(time);
CREATE TABLE tokens (
	id      text PRIMARY KEY,
	expires bigint NOT NULL
);
`,
	// Version 4: the hosts of the group (the outbox is SQLite's part of
	// this version): when each last sent its outbox.
	4: `
CREATE TABLE hosts (
	host text PRIMARY KEY,
	seen bigint NOT NULL
);
`,
}

// migrateLock is the advisory lock that makes two hosts running `qscan
// migrate` at once take turns.
const migrateLock = 0x71736361 // "qsca"

// Migrate brings the schema to store.SchemaVersion, one transaction per
// version, and returns the versions it applied. A database of a newer
// qscan is an error.
func (s *Store) Migrate(ctx context.Context) ([]int, error) {
	var applied []int
	for _, m := range store.Migrations() {
		done, err := s.apply(ctx, m)
		if err != nil {
			return applied, fmt.Errorf("pgstore migrate to version %d (%s): %w", m.Version, m.Name, err)
		}
		if done {
			applied = append(applied, m.Version)
		}
	}
	if v, err := s.Version(ctx); err != nil {
		return applied, err
	} else if v > store.SchemaVersion() {
		return applied, fmt.Errorf("pgstore migrate: the database has schema version %d, this qscan knows up to %d", v, store.SchemaVersion())
	}
	return applied, nil
}

// apply makes version m unless the database has it.
func (s *Store) apply(ctx context.Context, m store.Migration) (bool, error) {
	q, ok := pgSQL[m.Version]
	if !ok {
		return false, fmt.Errorf("no PostgreSQL statements")
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version integer PRIMARY KEY, name text NOT NULL, applied bigint NOT NULL)`); err != nil {
		return false, err
	}
	var have bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_version WHERE version = $1)`, m.Version).Scan(&have); err != nil {
		return false, err
	}
	if have {
		return false, nil
	}
	if _, err := tx.Exec(ctx, q, pgx.QueryExecModeSimpleProtocol); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_version(version, name, applied) VALUES($1, $2, $3)`,
		m.Version, m.Name, time.Now().Unix()); err != nil {
		return false, err
	}
	return true, tx.Commit(ctx)
}

// Version is the schema version of the database (0: none yet).
func (s *Store) Version(ctx context.Context) (int, error) {
	var reg *string
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass('schema_version')::text`).Scan(&reg); err != nil {
		return 0, fmt.Errorf("pgstore schema version: %w", err)
	}
	if reg == nil {
		return 0, nil
	}
	var v int
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("pgstore schema version: %w", err)
	}
	return v, nil
}
