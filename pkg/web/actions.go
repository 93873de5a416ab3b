package web

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/qscan/qscan/pkg/quarantine"
	"github.com/qscan/qscan/pkg/store"
)

// releaseEntry releases entry id through pkg/quarantine, as `qscan
// quarantine release` does, and asks for delivery now. An index failure
// after a durable release is only logged.
func (s *Server) releaseEntry(id string, to []string) (string, error) {
	newID, err := s.o.Quarantine.Release(id, quarantine.ReleaseOptions{
		Outgoing: s.o.Outgoing, To: to, OrgName: s.o.OrgName, Now: s.o.Now(), IDGen: s.o.IDGen, Publish: s.o.Publish,
	})
	if err != nil && quarantine.OnlyIndex(err) {
		s.log.WithError(err).Warn("web: released, index not updated")
		err = nil
	}
	if err != nil {
		return newID, err
	}
	if s.o.Kick != nil && newID != "" {
		s.o.Kick(newID)
	}
	return newID, nil
}

func rowURL(rec store.LogRecord, done string) string {
	u := "/message/" + strconv.FormatInt(rec.Row, 10)
	if done != "" {
		u += "?done=" + done
	}
	return u
}

// release: to the original recipients, or (administrators and domain
// administrators) to another address; a user releases to their own
// addresses among the recipients only.
func (s *Server) release(w http.ResponseWriter, r *http.Request) {
	sess := sessionOf(r)
	rec, ok := s.row(w, r)
	if !ok {
		return
	}
	var e quarantine.Entry
	if s.remote(rec) {
		e.ID = rec.Quarantine
	} else if e, ok = s.entryOf(rec); !ok {
		s.fail(w, r, http.StatusNotFound, "This message has no quarantined copy to release.")
		return
	}
	var to []string
	if other := strings.TrimSpace(r.PostFormValue("to")); other != "" {
		if sess.User.Role == store.RoleUser {
			s.fail(w, r, http.StatusForbidden, "Your role does not allow releasing to another address.")
			return
		}
		if err := quarantine.CheckAddress(other); err != nil {
			s.fail(w, r, http.StatusBadRequest, "Not a usable address: "+err.Error())
			return
		}
		to = []string{other}
	} else if sess.User.Role == store.RoleUser {
		to = ownRecipients(sess.User, rec)
		if len(to) == 0 {
			s.fail(w, r, http.StatusForbidden, "You may not release this message.")
			return
		}
	}
	var newID string
	if s.remote(rec) {
		if newID, ok = s.remoteAction(w, r, rec, true, to); !ok {
			return
		}
	} else {
		var err error
		if newID, err = s.releaseEntry(e.ID, to); err != nil {
			s.internal(w, r, "release "+e.ID, err)
			return
		}
	}
	detail := "as " + newID + " on " + rec.Host
	if len(to) > 0 {
		detail += " to " + strings.Join(to, ", ")
	}
	s.record(r.Context(), sess.User.Name, "release", e.ID, detail)
	s.log.WithField("user", sess.User.Name).Infof("web: %s released as %s", e.ID, newID)
	if r.PostFormValue("whitelist") == "1" && sess.Admin() {
		if err := s.addToList(r, "whitelist", bare(rec.Sender)); err != nil {
			s.fail(w, r, http.StatusBadRequest, "Released; the sender was not added to the whitelist: "+err.Error())
			return
		}
		http.Redirect(w, r, rowURL(rec, "whitelisted"), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, rowURL(rec, "released"), http.StatusSeeOther)
}

func (s *Server) deleteMessage(w http.ResponseWriter, r *http.Request) {
	sess := sessionOf(r)
	rec, ok := s.row(w, r)
	if !ok {
		return
	}
	if s.remote(rec) {
		if _, ok := s.remoteAction(w, r, rec, false, nil); ok {
			s.record(r.Context(), sessionOf(r).User.Name, "delete", rec.Quarantine, "on "+rec.Host)
			http.Redirect(w, r, rowURL(rec, ""), http.StatusSeeOther)
		}
		return
	}
	e, ok := s.entryOf(rec)
	if !ok {
		s.fail(w, r, http.StatusNotFound, "This message has no quarantined copy to delete.")
		return
	}
	if err := s.o.Quarantine.Delete(e.ID); err != nil && !quarantine.OnlyIndex(err) {
		s.internal(w, r, "delete "+e.ID, err)
		return
	}
	s.record(r.Context(), sess.User.Name, "delete", e.ID, "")
	http.Redirect(w, r, rowURL(rec, ""), http.StatusSeeOther)
}

// listSender puts a message's sender on a list (administrators).
func (s *Server) listSender(list string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rec, ok := s.row(w, r)
		if !ok {
			return
		}
		if err := s.addToList(r, list, bare(rec.Sender)); err != nil {
			s.fail(w, r, http.StatusBadRequest, err.Error())
			return
		}
		http.Redirect(w, r, rowURL(rec, strings.TrimSuffix(list, "list")+"listed"), http.StatusSeeOther)
	}
}

// addToList checks an entry with the configuration's list syntax, stores
// it, records it and reloads the lists the spam check consults.
func (s *Server) addToList(r *http.Request, list, pattern string) error {
	if list != "whitelist" && list != "blacklist" {
		return fmt.Errorf("no list %q", list)
	}
	pattern = strings.TrimSpace(pattern)
	if err := CheckEntry(pattern); err != nil {
		return err
	}
	sess := sessionOf(r)
	if err := s.o.Store.AddListEntry(r.Context(), store.ListEntry{List: list, Pattern: pattern, Added: s.o.Now(), By: sess.User.Name}); err != nil {
		s.log.WithError(err).Error("web: add list entry")
		return fmt.Errorf("the entry was not stored")
	}
	s.record(r.Context(), sess.User.Name, list, pattern, "")
	s.reloadLists(r)
	return nil
}

func (s *Server) reloadLists(r *http.Request) {
	if s.o.Lists == nil {
		return
	}
	if err := s.o.Lists.Reload(r.Context()); err != nil {
		s.log.WithError(err).Error("web: lists not reloaded")
	}
}

func (s *Server) learn(w http.ResponseWriter, r *http.Request) {
	sess := sessionOf(r)
	rec, ok := s.row(w, r)
	if !ok {
		return
	}
	if s.o.Learner == nil {
		s.fail(w, r, http.StatusNotImplemented, "No spam engine to teach is configured.")
		return
	}
	as := r.PostFormValue("as")
	if as != "spam" && as != "ham" {
		s.fail(w, r, http.StatusBadRequest, "Learn as spam or ham.")
		return
	}
	e, ok := s.entryOf(rec)
	if !ok {
		s.fail(w, r, http.StatusNotFound, "This message has no quarantined copy to learn from.")
		return
	}
	dir, err := s.o.Quarantine.Path(e.ID)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "Bad quarantine reference.")
		return
	}
	f, err := os.OpenFile(filepath.Join(dir, "message.eml"), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		s.fail(w, r, http.StatusNotFound, "The quarantined copy has no message to learn from.")
		return
	}
	defer f.Close()
	if err := s.o.Learner.Learn(r.Context(), as == "spam", f); err != nil {
		s.internal(w, r, "learn "+as, err)
		return
	}
	s.record(r.Context(), sess.User.Name, "learn-"+as, e.ID, "")
	http.Redirect(w, r, rowURL(rec, "learned"), http.StatusSeeOther)
}

func (s *Server) lists(w http.ResponseWriter, r *http.Request) {
	data := map[string]any{"S": sessionOf(r), "Error": r.URL.Query().Get("error") != ""}
	for _, l := range []string{"whitelist", "blacklist"} {
		es, err := s.o.Store.ListEntries(r.Context(), l)
		if err != nil {
			s.internal(w, r, "list "+l, err)
			return
		}
		data[l] = es
	}
	s.render(w, http.StatusOK, "lists.html", data)
}

func (s *Server) listAdd(w http.ResponseWriter, r *http.Request) {
	if err := s.addToList(r, r.PostFormValue("list"), r.PostFormValue("pattern")); err != nil {
		s.fail(w, r, http.StatusBadRequest, "Not added: "+err.Error())
		return
	}
	http.Redirect(w, r, "/lists", http.StatusSeeOther)
}

func (s *Server) listDelete(w http.ResponseWriter, r *http.Request) {
	sess := sessionOf(r)
	list, pattern := r.PostFormValue("list"), r.PostFormValue("pattern")
	if list != "whitelist" && list != "blacklist" || pattern == "" || len(pattern) > maxFilter {
		s.fail(w, r, http.StatusBadRequest, "No such list entry.")
		return
	}
	if err := s.o.Store.DeleteListEntry(r.Context(), list, pattern); err != nil {
		s.internal(w, r, "delete list entry", err)
		return
	}
	s.record(r.Context(), sess.User.Name, list+"-delete", pattern, "")
	s.reloadLists(r)
	http.Redirect(w, r, "/lists", http.StatusSeeOther)
}
