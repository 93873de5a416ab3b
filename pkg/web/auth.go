package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/store"
)

const (
	sessionCookie = "qscan_session"
	csrfCookie    = "qscan_csrf" // double-submit token of the forms shown before a session
	maxSessions   = 10000
	maxName       = 200
	maxPassword   = 1024
)

// session is one logged-in browser. The user is read again from the store
// on every request, so a deleted user or a changed role takes effect at once.
type session struct {
	id      string
	name    string
	csrf    string
	expires time.Time
	User    store.User
}

// CSRF is the token the session's forms carry.
func (s *session) CSRF() string { return s.csrf }

// Admin and the other role tests are used by the templates.
func (s *session) Admin() bool  { return s.User.Role == store.RoleAdmin }
func (s *session) Domain() bool { return s.User.Role == store.RoleDomain }

type sessions struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]*session
}

func newSessions(ttl time.Duration) *sessions {
	return &sessions{ttl: ttl, m: map[string]*session{}}
}

// randomToken is 32 random bytes in hex.
func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("web: no randomness: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

func (ss *sessions) create(name string, now time.Time) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.m) >= maxSessions {
		for id, s := range ss.m {
			if now.After(s.expires) {
				delete(ss.m, id)
			}
		}
		if len(ss.m) >= maxSessions {
			// Full of live sessions: the oldest-expiring one goes.
			var oldest *session
			for _, s := range ss.m {
				if oldest == nil || s.expires.Before(oldest.expires) {
					oldest = s
				}
			}
			delete(ss.m, oldest.id)
		}
	}
	s := &session{id: randomToken(), name: name, csrf: randomToken(), expires: now.Add(ss.ttl)}
	ss.m[s.id] = s
	return s
}

// get returns the live session id names and extends it.
func (ss *sessions) get(id string, now time.Time) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[id]
	if s == nil {
		return nil
	}
	if now.After(s.expires) {
		delete(ss.m, id)
		return nil
	}
	s.expires = now.Add(ss.ttl)
	c := *s
	return &c
}

func (ss *sessions) drop(id string) {
	ss.mu.Lock()
	delete(ss.m, id)
	ss.mu.Unlock()
}

type ctxKey struct{}

func sessionOf(r *http.Request) *session {
	s, _ := r.Context().Value(ctxKey{}).(*session)
	return s
}

// roleCheck says whether a role may use a handler.
type roleCheck func(store.Role) bool

func anyRole(r store.Role) bool {
	return r == store.RoleAdmin || r == store.RoleDomain || r == store.RoleUser
}
func adminOnly(r store.Role) bool     { return r == store.RoleAdmin }
func adminOrDomain(r store.Role) bool { return r == store.RoleAdmin || r == store.RoleDomain }

// auth wraps a handler: a live session whose user still exists, a role
// the handler allows (403 otherwise, before the handler reads anything),
// and on a POST the session's CSRF token.
func (s *Server) auth(allow roleCheck, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		var sess *session
		if err == nil {
			sess = s.sessions.get(c.Value, s.o.Now())
		}
		if sess != nil {
			u, err := s.o.Store.User(r.Context(), sess.name)
			if err != nil {
				s.sessions.drop(sess.id)
				sess = nil
			} else {
				sess.User = u
			}
		}
		if sess == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.fail(w, r, http.StatusUnauthorized, "Please log in.")
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, sess))
		if !allow(sess.User.Role) {
			s.fail(w, r, http.StatusForbidden, "Your role does not allow this.")
			return
		}
		if r.Method == http.MethodPost && !s.postAllowed(r, sess.csrf) {
			s.fail(w, r, http.StatusForbidden, "The form has expired or did not come from this site: reload the page and try again.")
			return
		}
		h(w, r)
	}
}

// originOK refuses a request whose Origin names another site. A missing
// Origin, or "null" (sent by privacy settings), leaves the decision to the
// CSRF token, which is always required.
func originOK(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// postAllowed checks a form's CSRF token and its Origin.
func (s *Server) postAllowed(r *http.Request, want string) bool {
	if !originOK(r) {
		return false
	}
	got := r.PostFormValue("csrf")
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// formToken returns the double-submit token of the pages shown before a
// session (login, digest confirmation), setting its cookie when needed.
func (s *Server) formToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 64 {
		return c.Value
	}
	t := randomToken()
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: t, Path: "/", HttpOnly: true, Secure: s.o.TLS, SameSite: http.SameSiteStrictMode})
	return t
}

// formTokenOK checks the double-submit token of a form posted without a
// session.
func (s *Server) formTokenOK(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) != 64 {
		return false
	}
	if !originOK(r) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(c.Value)) == 1
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "login.html", map[string]any{"CSRF": s.formToken(w, r), "Next": safeNext(r.URL.Query().Get("next"))})
}

// safeNext keeps a redirect after login on this site: a local path only.
func safeNext(n string) string {
	if !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") || strings.ContainsAny(n, "\\\r\n") || len(n) > 2000 {
		return "/"
	}
	return n
}

// dummyHash is checked when the user does not exist, so that a missing
// user costs the same time as a wrong password.
const dummyHash = "$argon2id$v=19$m=65536,t=3,p=2$c29tZXNhbHRzb21lc2FsdA$Zm9yLXRpbWluZy1vbmx5LW5ldmVyLXZhbGlkLWF0LWFsbA"

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	now, ip := s.o.Now(), clientIP(r)
	if !s.formTokenOK(r) {
		s.fail(w, r, http.StatusForbidden, "The form has expired: reload the login page and try again.")
		return
	}
	name, password := r.PostFormValue("name"), r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	if len(name) > maxName || len(password) > maxPassword {
		s.render(w, http.StatusBadRequest, "login.html", map[string]any{"CSRF": s.formToken(w, r), "Error": "Wrong name or password.", "Next": next})
		return
	}
	log := s.log.WithFields(logrus.Fields{"user": logSafe(name), "ip": ip})
	if !s.limiter.allow("ip:"+ip, now) || !s.limiter.allow("user:"+strings.ToLower(name), now) {
		log.Warn("web: login refused, too many failures")
		s.render(w, http.StatusTooManyRequests, "login.html", map[string]any{"CSRF": s.formToken(w, r), "Error": "Too many failed logins: try again later.", "Next": next})
		return
	}
	u, err := s.o.Store.User(r.Context(), name)
	hash := u.Hash
	if err != nil || hash == "" {
		hash = dummyHash
	}
	ok := s.o.Verify(hash, password) && err == nil && u.Hash != "" && anyRole(u.Role)
	if !ok {
		s.limiter.fail("ip:"+ip, now)
		s.limiter.fail("user:"+strings.ToLower(name), now)
		log.Warn("web: login failed")
		s.render(w, http.StatusUnauthorized, "login.html", map[string]any{"CSRF": s.formToken(w, r), "Error": "Wrong name or password.", "Next": next})
		return
	}
	s.limiter.reset("user:"+strings.ToLower(name), now)
	sess := s.sessions.create(u.Name, now)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.id, Path: "/", HttpOnly: true, Secure: s.o.TLS, SameSite: http.SameSiteStrictMode})
	log.Info("web: login")
	s.record(r.Context(), u.Name, "login", "", "from "+ip)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	sess := sessionOf(r)
	s.sessions.drop(sess.id)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.o.TLS, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// logSafe bounds a name from a request for the log and drops control
// characters (no forged log lines).
func logSafe(s string) string {
	if len(s) > 80 {
		s = s[:80]
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// limiter counts login failures per key within a window.
type limiter struct {
	max    int
	window time.Duration
	mu     sync.Mutex
	fails  map[string][]time.Time
}

const maxLimiterKeys = 100000

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, fails: map[string][]time.Time{}}
}

func (l *limiter) recent(key string, now time.Time) []time.Time {
	ts := l.fails[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, key)
	} else {
		l.fails[key] = ts
	}
	return ts
}

// allow reports whether key is below the failure limit.
func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recent(key, now)) < l.max
}

func (l *limiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) >= maxLimiterKeys {
		for k := range l.fails {
			l.recent(k, now)
		}
	}
	ts := l.recent(key, now)
	if len(ts) >= l.max {
		return
	}
	l.fails[key] = append(ts, now)
}

func (l *limiter) reset(key string, now time.Time) {
	l.mu.Lock()
	delete(l.fails, key)
	l.mu.Unlock()
}
