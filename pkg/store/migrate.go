package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"time"
)

// Migration is one version of the schema. The PostgreSQL store follows the
// same versions with its own SQL, so that schema_version means the same
// thing in either database.
type Migration struct {
	Version int
	Name    string
}

// migration is a Migration with the SQLite statements that make it; fn,
// when set, runs after them in the same transaction.
type migration struct {
	Migration
	sql string
	fn  func(ctx context.Context, tx *sql.Tx) error
}

// Migrations lists every schema version, oldest first.
func Migrations() []Migration {
	out := make([]Migration, len(migrations))
	for i, m := range migrations {
		out[i] = m.Migration
	}
	return out
}

// SchemaVersion is the version this qscan writes and reads.
func SchemaVersion() int { return migrations[len(migrations)-1].Version }

var migrations = []migration{
	{Migration: Migration{1, "processing attempts and quarantine index"}, sql: schemaV1, fn: quarantineWhole},
	{Migration: Migration{2, "message log"}, sql: schemaV2},
	{Migration: Migration{3, "web desk: users, lists, audit, used links"}, sql: schemaV3},
	{Migration: Migration{4, "several hosts: log outbox (SQLite), hosts (PostgreSQL)"}, sql: schemaV4, fn: outboxEpoch},
}

// Version 1 is what qscan made before schema versions were kept: made
// again with IF NOT EXISTS, it adopts such a database as it is.
const schemaV1 = `
CREATE TABLE IF NOT EXISTS attempts (
	id      TEXT PRIMARY KEY,
	count   INTEGER NOT NULL,
	first   INTEGER NOT NULL,
	last    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine (
	id      TEXT PRIMARY KEY,
	queue_id TEXT NOT NULL,
	dir     TEXT NOT NULL,
	time    INTEGER NOT NULL,
	sender  TEXT NOT NULL,
	recipients TEXT NOT NULL,
	subject TEXT NOT NULL,
	reason  TEXT NOT NULL,
	released INTEGER NOT NULL DEFAULT 0,
	whole   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS quarantine_time ON quarantine(time);
`

// quarantineWhole adds the column a database made by an older qscan
// lacks. Quarantine rows from before it read as parts entries.
func quarantineWhole(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `SELECT whole FROM quarantine LIMIT 0`); err == nil {
		return nil
	}
	_, err := tx.ExecContext(ctx, `ALTER TABLE quarantine ADD COLUMN whole INTEGER NOT NULL DEFAULT 0`)
	return err
}

// Version 2: the message log. Times are Unix microseconds (PostgreSQL's
// timestamp resolution). log_fts is a trigram index (substring search)
// over sender, recipients and subject; log_addr indexes each row under its
// recipients ("alice@example.org") and the domains of its sender and
// recipients ("@example.org") for the scopes of non-administrators;
// log_tag holds the names the dashboard counts (virus, filename);
// log_verdict covers the dashboard's counts by verdict and of spam
// senders; log_hourly counts the rows of each hour (Unix time / 3600) by
// verdict, kept by AppendLog and PurgeLog.
const schemaV2 = `
CREATE TABLE log (
	row        INTEGER PRIMARY KEY,
	time       INTEGER NOT NULL,
	host       TEXT NOT NULL,
	queue_id   TEXT NOT NULL,
	sender     TEXT NOT NULL,
	recipients TEXT NOT NULL,
	subject    TEXT NOT NULL,
	size       INTEGER NOT NULL,
	verdict    TEXT NOT NULL,
	spam_score REAL NOT NULL,
	quarantine TEXT NOT NULL,
	stages     TEXT NOT NULL,
	detail     TEXT NOT NULL
);
CREATE INDEX log_time ON log(time);
CREATE INDEX log_verdict ON log(verdict, time, sender);
CREATE INDEX log_queue_id ON log(queue_id);
CREATE VIRTUAL TABLE log_fts USING fts5(sender, recipients, subject,
	content='', contentless_delete=1, tokenize='trigram');
CREATE TABLE log_addr (
	key  TEXT NOT NULL,
	time INTEGER NOT NULL,
	row  INTEGER NOT NULL,
	PRIMARY KEY (key, time, row)
) WITHOUT ROWID;
CREATE INDEX log_addr_time ON log_addr(time);
CREATE TABLE log_tag (
	kind TEXT NOT NULL,
	time INTEGER NOT NULL,
	name TEXT NOT NULL,
	row  INTEGER NOT NULL
);
CREATE INDEX log_tag_kind ON log_tag(kind, time, name);
CREATE TABLE log_hourly (
	hour    INTEGER NOT NULL,
	verdict TEXT NOT NULL,
	n       INTEGER NOT NULL,
	PRIMARY KEY (hour, verdict)
) WITHOUT ROWID;
CREATE INDEX log_tag_time ON log_tag(time);
`

// Version 3: the web desk's tables (no column is named after an SQL
// keyword: PostgreSQL reserves user and by).
const schemaV3 = `
CREATE TABLE users (
	name      TEXT PRIMARY KEY,
	role      TEXT NOT NULL,
	domains   TEXT NOT NULL,
	addresses TEXT NOT NULL,
	hash      TEXT NOT NULL,
	created   INTEGER NOT NULL
);
CREATE TABLE lists (
	list    TEXT NOT NULL,
	pattern TEXT NOT NULL,
	added   INTEGER NOT NULL,
	added_by TEXT NOT NULL,
	PRIMARY KEY (list, pattern)
);
CREATE TABLE audit (
	id     INTEGER PRIMARY KEY,
	time   INTEGER NOT NULL,
	username TEXT NOT NULL,
	action TEXT NOT NULL,
	target TEXT NOT NULL,
	detail TEXT NOT NULL,
	host   TEXT NOT NULL
);
CREATE INDEX audit_time ON audit(time);
CREATE TABLE tokens (
	id      TEXT PRIMARY KEY,
	expires INTEGER NOT NULL
);
`

// Version 4: the outbox of the rows this host sends to a shared
// PostgreSQL store (outbox.go), and the outbox's epoch: a random name
// made once, so that a new database file never reuses the keys
// (epoch, seq) of an old one. AUTOINCREMENT: a seq is never used twice.
const schemaV4 = `
CREATE TABLE outbox (
	seq  INTEGER PRIMARY KEY AUTOINCREMENT,
	kind TEXT NOT NULL,
	time INTEGER NOT NULL,
	body TEXT NOT NULL
);
CREATE TABLE outbox_epoch (
	epoch TEXT NOT NULL
);
`

func outboxEpoch(ctx context.Context, tx *sql.Tx) error {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO outbox_epoch(epoch) VALUES(?)`, hex.EncodeToString(b[:]))
	return err
}

// Migrate brings the schema to SchemaVersion, one transaction per version,
// and returns the versions it applied. A database of a newer qscan is an
// error: this one would not know its tables.
func (s *Store) Migrate(ctx context.Context) ([]int, error) {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied INTEGER NOT NULL)`); err != nil {
		return nil, fmt.Errorf("store migrate: %w", err)
	}
	cur, err := s.Version(ctx)
	if err != nil {
		return nil, err
	}
	if cur > SchemaVersion() {
		return nil, fmt.Errorf("store migrate: the database has schema version %d, this qscan knows up to %d", cur, SchemaVersion())
	}
	var applied []int
	for _, m := range migrations {
		if m.Version <= cur {
			continue
		}
		if err := s.apply(ctx, m); err != nil {
			return applied, fmt.Errorf("store migrate to version %d (%s): %w", m.Version, m.Name, err)
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

func (s *Store) apply(ctx context.Context, m migration) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	if m.fn != nil {
		if err := m.fn(ctx, tx); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version(version, name, applied) VALUES(?, ?, ?)`,
		m.Version, m.Name, time.Now().Unix()); err != nil {
		return err
	}
	return tx.Commit()
}

// Version is the schema version of the database (0: none yet).
func (s *Store) Version(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'schema_version'`).Scan(&n); err != nil || n == 0 {
		return 0, err
	}
	var v sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT max(version) FROM schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store schema version: %w", err)
	}
	return int(v.Int64), nil
}

// PathVersion reads the schema version of the database at path, read
// only, without migrating it (`qscan lint`).
func PathVersion(ctx context.Context, path string) (int, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, fmt.Errorf("store open %s: %w", path, err)
	}
	defer db.Close()
	s := &Store{db: db}
	return s.Version(ctx)
}

// PathOutboxLag reads the outbox lag of the database at path, read only
// (`qscan check`).
func PathOutboxLag(ctx context.Context, path string) (OutboxLag, error) {
	if _, err := os.Stat(path); err != nil {
		return OutboxLag{}, fmt.Errorf("store %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return OutboxLag{}, fmt.Errorf("store open %s: %w", path, err)
	}
	defer db.Close()
	return (&Store{db: db}).OutboxLag(ctx)
}
