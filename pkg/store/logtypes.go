package store

import "time"

// The types below are shared by the store's implementations (SQLite,
// PostgreSQL), the pipeline that writes the message log, `qscan log` and
// the web desk (pkg/web), which declares the store interface it consumes.

// LogRecord is one row of the message log: one message qscan finished.
type LogRecord struct {
	Row        int64             `json:"row,omitempty"` // the store's row number, set when read back
	Time       time.Time         `json:"time"`
	Host       string            `json:"host"`
	QueueID    string            `json:"queue_id"`
	OutID      string            `json:"out_id,omitempty"` // the ID in the outgoing queue
	Sender     string            `json:"sender"`
	Recipients []string          `json:"recipients"`
	Subject    string            `json:"subject"`
	Size       int64             `json:"size"`
	ClientIP   string            `json:"client_ip,omitempty"`
	Helo       string            `json:"helo,omitempty"`
	Verdict    string            `json:"verdict"` // clean, spam, high-spam, virus, blocked, ... (message.Verdict)
	SpamScore  float64           `json:"spam_score"`
	SpamRules  []string          `json:"spam_rules,omitempty"`
	Viruses    []string          `json:"viruses,omitempty"`
	Reports    []LogReport       `json:"reports,omitempty"` // every content/virus report, per part
	Actions    []string          `json:"actions,omitempty"`
	Quarantine string            `json:"quarantine,omitempty"` // quarantine reference (the entry's ID), empty when none
	StageMS    map[string]int64  `json:"stage_ms,omitempty"`
	Extra      map[string]string `json:"extra,omitempty"` // anything else worth keeping (e.g. blocked file names)
}

// LogReport is one report of a logged message.
type LogReport struct {
	Kind     string `json:"kind"`               // virus, filename, filetype, size, dangerous, spam, error
	Part     string `json:"part,omitempty"`     // the part's original name or path in the tree
	Text     string `json:"text"`               // the postmaster's text
	Removed  bool   `json:"removed,omitempty"`  // the part was replaced
	Filename string `json:"filename,omitempty"` // a blocked file name, for the statistics
}

// LogQuery selects message-log rows. Zero fields do not filter.
type LogQuery struct {
	Text      string // full-text over sender, recipients, subject
	Sender    string // substring, case-insensitive
	Recipient string // substring, case-insensitive
	Subject   string // substring, case-insensitive
	QueueID   string // exact
	Verdict   string // exact
	Host      string // exact
	Since     time.Time
	Until     time.Time
	// Scope limits rows to those a non-administrator may see: messages to
	// or from one of Domains, or to one of Addresses. Nil: no limit.
	Scope *Scope
	// Paging, newest first: rows strictly older than Before (the key of
	// the last row of the previous page), at most Limit rows.
	Before LogKey
	Limit  int
}

// LogKey orders rows: by time, then by the store's own row number.
type LogKey struct {
	Time time.Time
	Row  int64
}

// Scope is what a domain administrator or a user may see.
type Scope struct {
	Domains   []string
	Addresses []string
}

// Role is a web desk user's role.
type Role string

const (
	RoleAdmin  Role = "admin"  // everything
	RoleDomain Role = "domain" // messages to or from their domains
	RoleUser   Role = "user"   // messages to their own addresses
)

// User is a web desk account. Hash is the password hash (never the password).
type User struct {
	Name      string   `json:"name"`
	Role      Role     `json:"role"`
	Domains   []string `json:"domains,omitempty"`
	Addresses []string `json:"addresses,omitempty"`
	Hash      string   `json:"-"`
	Created   time.Time
}

// ListEntry is one entry of the white or black list edited in the web desk.
type ListEntry struct {
	List    string    `json:"list"`    // "whitelist" or "blacklist"
	Pattern string    `json:"pattern"` // address, @domain or domain, as the configuration's lists
	Added   time.Time `json:"added"`
	By      string    `json:"by"`
}

// AuditEntry records one action taken in the web desk or by a digest link.
type AuditEntry struct {
	Time   time.Time `json:"time"`
	User   string    `json:"user"`   // the user, or "digest:<address>"
	Action string    `json:"action"` // release, delete, whitelist, blacklist, learn-spam, learn-ham, login, ...
	Target string    `json:"target"` // the message (queue ID / quarantine reference) or list entry
	Detail string    `json:"detail,omitempty"`
	Host   string    `json:"host"`
}

// Stats is what the web desk's dashboard draws for one period.
type Stats struct {
	Buckets        []StatsBucket      // one per Bucket duration, oldest first
	TopViruses     []Count            // most frequent virus names
	TopFilenames   []Count            // most frequent blocked file names
	TopSpamSenders []Count            // senders of the most spam
	Stages         map[string]StageMS // per stage: mean and p99 time
}

// StatsBucket counts messages by verdict in one time bucket.
type StatsBucket struct {
	Start     time.Time
	ByVerdict map[string]int64
}

// Count is one entry of a top list.
type Count struct {
	Key string
	N   int64
}

// StageMS is a stage's mean and 99th-percentile time in milliseconds.
type StageMS struct {
	Mean float64
	P99  float64
}

// The store's methods that the web desk, `qscan log`, `qscan user` and the
// pipeline use (implemented by *Store for SQLite, and by the PostgreSQL
// store with the same names and semantics):
//
//	AppendLog(ctx, []LogRecord) error                    one transaction per batch
//	SearchLog(ctx, LogQuery) ([]LogRecord, error)        newest first, Row set
//	LogRow(ctx, row int64) (LogRecord, error)            ErrNotFound when absent
//	LogStats(ctx, since, until time.Time, bucket time.Duration, top int) (Stats, error)
//	PurgeLog(ctx, before time.Time) (int64, error)
//	AddUser(ctx, User) error / User(ctx, name) (User, error) / Users(ctx) ([]User, error)
//	DeleteUser(ctx, name) error / SetPassword(ctx, name, hash string) error
//	ListEntries(ctx, list string) ([]ListEntry, error)
//	AddListEntry(ctx, ListEntry) error / DeleteListEntry(ctx, list, pattern string) error
//	AddAudit(ctx, AuditEntry) error / Audit(ctx, limit int) ([]AuditEntry, error)
//	UseToken(ctx, id string, expires time.Time) (first bool, err error)   a digest link used once
