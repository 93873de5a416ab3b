// Package web is qscan's web desk: the message log, the quarantine, the
// white and black lists, the audit log and the dashboard in a browser,
// server-rendered with html/template, plus the signed, expiring release
// links of the quarantine digests.
//
// Every handler authorises by role before it reads anything; IDs from a
// URL are checked (quarantine.ValidID, a row number) and never become
// paths; forms carry a CSRF token; pages are served with a
// Content-Security-Policy that allows no inline script or style.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/peer"
	"github.com/qscan/qscan/pkg/quarantine"
	"github.com/qscan/qscan/pkg/sendmail"
	"github.com/qscan/qscan/pkg/store"
)

// Store is what the desk needs of the store (pkg/store's SQLite and
// PostgreSQL stores have these methods).
type Store interface {
	SearchLog(ctx context.Context, q store.LogQuery) ([]store.LogRecord, error)
	LogRow(ctx context.Context, row int64) (store.LogRecord, error)
	LogStats(ctx context.Context, since, until time.Time, bucket time.Duration, top int) (store.Stats, error)
	User(ctx context.Context, name string) (store.User, error)
	Users(ctx context.Context) ([]store.User, error)
	ListEntries(ctx context.Context, list string) ([]store.ListEntry, error)
	AddListEntry(ctx context.Context, e store.ListEntry) error
	DeleteListEntry(ctx context.Context, list, pattern string) error
	AddAudit(ctx context.Context, e store.AuditEntry) error
	Audit(ctx context.Context, limit int) ([]store.AuditEntry, error)
	UseToken(ctx context.Context, id string, expires time.Time) (first bool, err error)
}

// Learner teaches a spam engine (spamd's TELL, rspamd's learnspam and
// learnham) that a message is spam or ham.
type Learner interface {
	Learn(ctx context.Context, spam bool, msg io.Reader) error
}

// Options configure a Server. Store, Quarantine, Verify and Outgoing or
// Publish are required.
type Options struct {
	Store      Store
	Quarantine *quarantine.Quarantine
	Outgoing   string          // the outgoing queue released messages go to
	OrgName    string          // names the X-<OrgName>-QScan-Released header
	IDGen      *sendmail.IDGen // new queue IDs for released messages
	// Publish releases into an outgoing queue other than sendmail's
	// (quarantine.ReleaseOptions.Publish); nil: sendmail's.
	Publish func(ctl, body []byte, to []string, header, value string) (string, []string, error)
	Kick    func(id string)                  // asks the MTA to deliver a released message now; nil: the queue run will
	Verify  func(hash, password string) bool // checks a password against its stored hash
	Learner Learner                          // nil: no learning buttons
	Lists   *Lists                           // reloaded after a list edit; nil: none
	Log     logrus.FieldLogger               // nil: discard
	Now     func() time.Time                 // the clock; nil: time.Now
	Host    string                           // this host's name ([store] host): in the audit log, and whose quarantine is local

	// Peers reaches the quarantine of the other hosts of a group sharing
	// a PostgreSQL store (nil: only this host's). PeerKey, when set,
	// serves the group's internal API at /peer/ for the other hosts.
	Peers   Peers
	PeerKey []byte

	// TLS marks the session cookies Secure (set when serving HTTPS).
	TLS bool
	// WorkDir is the daemon's work directory (its status file) and
	// Incoming its incoming queues: the dashboard's "now".
	WorkDir  string
	Incoming []string

	// DigestKey signs the digests' release links (HMAC-SHA256); empty:
	// the links are refused. DigestTTL is their lifetime (default 7 days).
	DigestKey []byte
	DigestTTL time.Duration

	// SessionTTL is a session's idle lifetime (default 8 hours).
	SessionTTL time.Duration
	// MaxLoginFailures within LoginWindow lock a user name, and
	// separately a client address, out until the window has passed
	// (defaults 5 and 15 minutes).
	MaxLoginFailures int
	LoginWindow      time.Duration
	// MaxMessageBytes bounds the message text shown on a message page
	// (default 256 KiB).
	MaxMessageBytes int64
	// StatsCacheTTL is how long the dashboard's statistics are reused
	// (default DefaultStatsCacheTTL, a minute); negative: never.
	StatsCacheTTL time.Duration
}

// Defaults of Options.
const (
	DefaultDigestTTL        = 7 * 24 * time.Hour
	DefaultSessionTTL       = 8 * time.Hour
	DefaultMaxLoginFailures = 5
	DefaultLoginWindow      = 15 * time.Minute
	DefaultMaxMessageBytes  = 256 << 10
	maxFormBytes            = 64 << 10
	pageSize                = 50
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Server is the web desk. It is an http.Handler.
type Server struct {
	o          Options
	log        logrus.FieldLogger
	tmpl       *template.Template
	mux        *http.ServeMux
	sessions   *sessions
	limiter    *limiter
	peerVerify *peer.Verifier
}

// New checks o and builds the server.
func New(o Options) (*Server, error) {
	if o.Store == nil || o.Quarantine == nil || o.Verify == nil || o.Outgoing == "" && o.Publish == nil {
		return nil, errors.New("web: store, quarantine, outgoing queue and password check are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.IDGen == nil {
		o.IDGen = sendmail.NewIDGen(o.Now, 0, int(o.Now().UnixNano()%3600))
	}
	if o.DigestTTL <= 0 {
		o.DigestTTL = DefaultDigestTTL
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.MaxLoginFailures <= 0 {
		o.MaxLoginFailures = DefaultMaxLoginFailures
	}
	if o.LoginWindow <= 0 {
		o.LoginWindow = DefaultLoginWindow
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if o.StatsCacheTTL == 0 {
		o.StatsCacheTTL = DefaultStatsCacheTTL
	}
	if o.StatsCacheTTL > 0 {
		o.Store = &statsStore{Store: o.Store, ttl: o.StatsCacheTTL, entries: map[statsKey]*statsEntry{}}
	}
	log := o.Log
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = l
	}
	t, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web templates: %w", err)
	}
	s := &Server{o: o, log: log, tmpl: t, mux: http.NewServeMux(),
		sessions: newSessions(o.SessionTTL), limiter: newLimiter(o.MaxLoginFailures, o.LoginWindow)}
	if len(o.PeerKey) > 0 {
		s.peerVerify = &peer.Verifier{Key: o.PeerKey, Now: o.Now}
	}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	static, _ := fs.Sub(staticFS, "static")
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET /login", s.loginPage)
	s.mux.HandleFunc("POST /login", s.login)
	s.mux.HandleFunc("POST /logout", s.auth(anyRole, s.logout))
	s.mux.HandleFunc("GET /{$}", s.auth(anyRole, s.home))
	s.mux.HandleFunc("GET /dashboard", s.auth(adminOnly, s.dashboard))
	s.mux.HandleFunc("GET /messages", s.auth(anyRole, s.messages))
	s.mux.HandleFunc("GET /message/{row}", s.auth(anyRole, s.message))
	s.mux.HandleFunc("POST /message/{row}/release", s.auth(anyRole, s.release))
	s.mux.HandleFunc("POST /message/{row}/delete", s.auth(anyRole, s.deleteMessage))
	s.mux.HandleFunc("POST /message/{row}/whitelist", s.auth(adminOnly, s.listSender("whitelist")))
	s.mux.HandleFunc("POST /message/{row}/blacklist", s.auth(adminOnly, s.listSender("blacklist")))
	s.mux.HandleFunc("POST /message/{row}/learn", s.auth(adminOrDomain, s.learn))
	s.mux.HandleFunc("GET /lists", s.auth(adminOnly, s.lists))
	s.mux.HandleFunc("POST /lists/add", s.auth(adminOnly, s.listAdd))
	s.mux.HandleFunc("POST /lists/delete", s.auth(adminOnly, s.listDelete))
	s.mux.HandleFunc("GET /audit", s.auth(adminOnly, s.audit))
	s.mux.HandleFunc("GET /d/{token}", s.digestPage)
	s.mux.HandleFunc("POST /d/{token}", s.digestRelease)
	if s.peerVerify != nil {
		s.mux.HandleFunc("GET /peer/v1/quarantine/{day}/{name}", s.peerAPI("get"))
		s.mux.HandleFunc("POST /peer/v1/quarantine/{day}/{name}/release", s.peerAPI("release"))
		s.mux.HandleFunc("POST /peer/v1/quarantine/{day}/{name}/delete", s.peerAPI("delete"))
	}
}

// ServeHTTP sets the security headers of every answer and bounds the
// request body.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// The digest links carry their token in the path: never send it to
	// another site (same-origin, not no-referrer: with no-referrer a
	// browser sends "Origin: null" on this site's own forms).
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	if s.o.TLS {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	s.mux.ServeHTTP(w, r)
}

var titles = map[string]string{"login.html": "Log in", "dashboard.html": "Dashboard", "messages.html": "Messages",
	"message.html": "Message", "lists.html": "Lists", "audit.html": "Audit", "error.html": "Error", "digest.html": "Quarantine"}

// render writes a page; an error after the first byte can only be logged.
func (s *Server) render(w http.ResponseWriter, status int, name string, data map[string]any) {
	if _, ok := data["Title"]; !ok {
		data["Title"] = titles[name]
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := s.tmpl.ExecuteTemplate(w, name, data); err != nil {
		s.log.WithError(err).WithField("page", name).Error("web: render")
	}
}

// fail answers an error page with status and a short text for the user.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, text string) {
	data := map[string]any{"Status": status, "Text": text}
	if sess := sessionOf(r); sess != nil {
		data["S"] = sess
	}
	s.render(w, status, "error.html", data)
}

// audit records an action; a failure is logged, never hidden.
func (s *Server) record(ctx context.Context, user, action, target, detail string) {
	e := store.AuditEntry{Time: s.o.Now(), User: user, Action: action, Target: target, Detail: detail, Host: s.o.Host}
	if err := s.o.Store.AddAudit(ctx, e); err != nil {
		s.log.WithError(err).WithFields(logrus.Fields{"action": action, "target": target}).Error("web: audit log not written")
	}
}

// clientIP is the address of the peer (no proxy header is trusted).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// CheckListen refuses plain HTTP on anything but a loopback address.
func CheckListen(addr string, tls bool) error {
	if tls {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("web listen %q: %w", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("web listen %q: plain HTTP is only served on a loopback address; set [web] tls_cert and tls_key", addr)
	}
	return nil
}
