package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/qscan/qscan/pkg/health"
	"github.com/qscan/qscan/pkg/peer"
	"github.com/qscan/qscan/pkg/quarantine"
	"github.com/qscan/qscan/pkg/sendmail"
	"github.com/qscan/qscan/pkg/store"
)

const maxFilter = 200 // bytes of one filter field

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	if sessionOf(r).Admin() {
		http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/messages", http.StatusSeeOther)
}

// dashboard: administrators only, since the statistics are not scoped.
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	now := s.o.Now()
	ctx := r.Context()
	day, err := s.o.Store.LogStats(ctx, now.Add(-24*time.Hour), now, time.Hour, 10)
	if err != nil {
		s.internal(w, r, "stats 24h", err)
		return
	}
	month, err := s.o.Store.LogStats(ctx, now.Add(-30*24*time.Hour), now, 24*time.Hour, 10)
	if err != nil {
		s.internal(w, r, "stats 30d", err)
		return
	}
	data := map[string]any{"S": sessionOf(r), "Day": day, "Month": month,
		"DayGraph": barChart(day.Buckets, "15:04"), "MonthGraph": barChart(month.Buckets, "01-02"),
		"Legend": legend(), "Stages": stageRows(day.Stages), "Now": s.now()}
	s.render(w, http.StatusOK, "dashboard.html", data)
}

// nowState is the daemon's state now: its status file and the queues.
type nowState struct {
	Status    health.Status
	StatusErr string
	Queued    int
	Oldest    time.Duration
	Engines   []engineRow
}

type engineRow struct {
	Name string
	health.EngineStatus
}

func (s *Server) now() nowState {
	var n nowState
	if s.o.WorkDir != "" {
		st, err := health.ReadStatus(s.o.WorkDir)
		if err != nil {
			n.StatusErr = "no status from the daemon (is qscan running?)"
		}
		n.Status = st
		for name, e := range st.Engines {
			n.Engines = append(n.Engines, engineRow{name, e})
		}
		sort.Slice(n.Engines, func(i, j int) bool { return n.Engines[i].Name < n.Engines[j].Name })
	}
	if len(s.o.Incoming) > 0 {
		n.Queued, n.Oldest = sendmail.Stats(s.o.Incoming, s.o.Now())
	}
	return n
}

type stageRow struct {
	Name      string
	Mean, P99 float64
}

func stageRows(m map[string]store.StageMS) []stageRow {
	var out []stageRow
	for k, v := range m {
		out = append(out, stageRow{k, v.Mean, v.P99})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (s *Server) internal(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.log.WithError(err).Errorf("web: %s", what)
	s.fail(w, r, http.StatusInternalServerError, "Something went wrong; the log has the details.")
}

// filter reads one bounded filter field of the query.
func filter(q url.Values, name string) string {
	v := strings.TrimSpace(q.Get(name))
	if len(v) > maxFilter {
		v = v[:maxFilter]
	}
	return v
}

// parseWhen reads "24h", "7d", "2026-11-01" or RFC 3339; zero for "".
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if d, err := strconv.Atoi(n); err == nil && d > 0 && d <= 3660 {
			return now.Add(-time.Duration(d) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time (24h, 7d, 2026-11-01)", s)
}

// keyString and parseKey carry the paging key in a URL.
func keyString(k store.LogKey) string { return fmt.Sprintf("%d.%d", k.Time.UnixNano(), k.Row) }

func parseKey(s string) (store.LogKey, bool) {
	t, r, ok := strings.Cut(s, ".")
	if !ok {
		return store.LogKey{}, false
	}
	ns, err1 := strconv.ParseInt(t, 10, 64)
	row, err2 := strconv.ParseInt(r, 10, 64)
	if err1 != nil || err2 != nil || row < 0 {
		return store.LogKey{}, false
	}
	return store.LogKey{Time: time.Unix(0, ns), Row: row}, true
}

func (s *Server) messages(w http.ResponseWriter, r *http.Request) {
	sess := sessionOf(r)
	v := r.URL.Query()
	q := store.LogQuery{Text: filter(v, "q"), Sender: filter(v, "sender"), Recipient: filter(v, "recipient"),
		Subject: filter(v, "subject"), QueueID: filter(v, "id"), Verdict: filter(v, "verdict"),
		Scope: scopeOf(sess.User), Limit: pageSize + 1}
	var errs []string
	var err error
	if q.Since, err = parseWhen(filter(v, "since"), s.o.Now()); err != nil {
		errs = append(errs, "since: "+err.Error())
	}
	if q.Until, err = parseWhen(filter(v, "until"), s.o.Now()); err != nil {
		errs = append(errs, "until: "+err.Error())
	}
	if b := v.Get("before"); b != "" {
		k, ok := parseKey(b)
		if !ok {
			s.fail(w, r, http.StatusBadRequest, "Bad page key.")
			return
		}
		q.Before = k
	}
	var rows []store.LogRecord
	if len(errs) == 0 {
		rows, err = s.o.Store.SearchLog(r.Context(), q)
		if err != nil {
			s.internal(w, r, "search log", err)
			return
		}
	}
	next := ""
	if len(rows) > pageSize {
		rows = rows[:pageSize]
		last := rows[len(rows)-1]
		nv := url.Values{}
		for k := range v {
			if k != "before" {
				nv.Set(k, filter(v, k))
			}
		}
		nv.Set("before", keyString(store.LogKey{Time: last.Time, Row: last.Row}))
		next = "/messages?" + nv.Encode()
	}
	s.render(w, http.StatusOK, "messages.html", map[string]any{"S": sess, "Rows": rows, "Q": q,
		"F": filtersOf(v), "Next": next, "Errors": errs, "Verdicts": verdicts})
}

var verdicts = []string{"clean", "spam", "high-spam", "infected", "blocked", "silent", "poison", "corrupt"}

func filtersOf(v url.Values) map[string]string {
	m := map[string]string{}
	for _, k := range []string{"q", "sender", "recipient", "subject", "id", "verdict", "since", "until"} {
		m[k] = filter(v, k)
	}
	return m
}

// row reads the message-log row named in the URL and checks that the
// session's user may see it. On false the answer has been written:
// 403 for a row out of the user's scope (and, for a non-administrator,
// for a row that does not exist, so that row numbers reveal nothing).
func (s *Server) row(w http.ResponseWriter, r *http.Request) (store.LogRecord, bool) {
	sess := sessionOf(r)
	n, err := strconv.ParseInt(r.PathValue("row"), 10, 64)
	if err != nil || n <= 0 {
		s.fail(w, r, http.StatusBadRequest, "Bad message number.")
		return store.LogRecord{}, false
	}
	rec, err := s.o.Store.LogRow(r.Context(), n)
	if err != nil {
		if sess.Admin() {
			s.log.WithError(err).WithField("row", n).Info("web: log row")
			s.fail(w, r, http.StatusNotFound, "No such message.")
		} else {
			s.fail(w, r, http.StatusForbidden, "You may not see this message.")
		}
		return store.LogRecord{}, false
	}
	if !visible(sess.User, rec) {
		s.log.WithField("user", sess.User.Name).WithField("row", n).Warn("web: message out of the user's scope refused")
		s.fail(w, r, http.StatusForbidden, "You may not see this message.")
		return store.LogRecord{}, false
	}
	return rec, true
}

// entryOf returns the quarantine entry a row refers to, when the
// reference is a valid ID and the entry exists.
func (s *Server) entryOf(rec store.LogRecord) (quarantine.Entry, bool) {
	if rec.Quarantine == "" || !quarantine.ValidID(rec.Quarantine) {
		return quarantine.Entry{}, false
	}
	e, err := s.o.Quarantine.Get(rec.Quarantine)
	if err != nil {
		return quarantine.Entry{}, false
	}
	return e, true
}

func (s *Server) message(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.row(w, r)
	if !ok {
		return
	}
	data := map[string]any{"S": sessionOf(r), "R": rec, "Stages": stageList(rec.StageMS), "Learn": s.o.Learner != nil,
		"Flash": flash(r)}
	if s.remote(rec) {
		if rec.Quarantine != "" {
			pe, err := s.remoteEntry(r.Context(), rec)
			switch {
			case errors.Is(err, peer.ErrHostDown):
				data["PeerDown"] = hostDown(rec.Host)
			case err == nil:
				data["Entry"], data["Files"], data["Learn"] = pe.Entry, pe.Files, false
				header, body := splitHeader(pe.Text)
				data["Header"], data["Body"], data["Cut"] = header, body, pe.Cut
			}
		}
		s.render(w, http.StatusOK, "message.html", data)
		return
	}
	if e, ok := s.entryOf(rec); ok {
		data["Entry"] = e
		if files, err := s.o.Quarantine.Files(e.ID); err == nil {
			data["Files"] = files
		}
		if text, cut, err := s.readEML(e.ID); err == nil {
			header, body := splitHeader(text)
			data["Header"], data["Body"], data["Cut"] = header, body, cut
		}
	}
	s.render(w, http.StatusOK, "message.html", data)
}

// flash is the short notice an action leaves for the page it redirects to.
func flash(r *http.Request) string {
	switch r.URL.Query().Get("done") {
	case "released":
		return "Released."
	case "whitelisted":
		return "Released, and the sender is on the whitelist."
	case "blacklisted":
		return "The sender is on the blacklist."
	case "learned":
		return "The spam filter has learnt it."
	}
	return ""
}

type stageTime struct {
	Name string
	MS   int64
}

func stageList(m map[string]int64) []stageTime {
	var out []stageTime
	for k, v := range m {
		out = append(out, stageTime{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// readEML reads the start of an entry's message.eml: the entry directory
// comes from a checked ID, the file name is fixed, and a symbolic link is
// refused.
func (s *Server) readEML(id string) (string, bool, error) {
	dir, err := s.o.Quarantine.Path(id)
	if err != nil {
		return "", false, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "message.eml"), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return "", false, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, s.o.MaxMessageBytes+1))
	if err != nil {
		return "", false, err
	}
	cut := int64(len(b)) > s.o.MaxMessageBytes
	if cut {
		b = b[:s.o.MaxMessageBytes]
	}
	return string(bytes.ToValidUTF8(b, []byte("\uFFFD"))), cut, nil
}

func splitHeader(t string) (string, string) {
	t = strings.ReplaceAll(t, "\r\n", "\n")
	if h, b, ok := strings.Cut(t, "\n\n"); ok {
		return h, b
	}
	return t, ""
}

func (s *Server) audit(w http.ResponseWriter, r *http.Request) {
	es, err := s.o.Store.Audit(r.Context(), 500)
	if err != nil {
		s.internal(w, r, "audit", err)
		return
	}
	s.render(w, http.StatusOK, "audit.html", map[string]any{"S": sessionOf(r), "Entries": es})
}
