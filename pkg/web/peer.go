package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/qscan/qscan/pkg/peer"
	"github.com/qscan/qscan/pkg/quarantine"
	"github.com/qscan/qscan/pkg/store"
)

// Peers reaches the quarantine of the other hosts of a group
// (pkg/peer's Client).
type Peers interface {
	Get(ctx context.Context, host, id string) (peer.Entry, error)
	Release(ctx context.Context, host, id string, to []string) (string, error)
	Delete(ctx context.Context, host, id string) error
}

var _ Peers = (*peer.Client)(nil)

// remote reports whether rec's quarantine entry is held by another host.
func (s *Server) remote(rec store.LogRecord) bool {
	return s.o.Peers != nil && rec.Host != "" && rec.Host != s.o.Host
}

// remoteEntry fetches the entry of rec from the host that holds it. err
// is peer.ErrHostDown when that host does not answer.
func (s *Server) remoteEntry(ctx context.Context, rec store.LogRecord) (peer.Entry, error) {
	if rec.Quarantine == "" || !quarantine.ValidID(rec.Quarantine) {
		return peer.Entry{}, peer.ErrNotFound
	}
	return s.o.Peers.Get(ctx, rec.Host, rec.Quarantine)
}

// hostDown is the page text for a host of the group that does not answer.
func hostDown(host string) string {
	return "Host " + host + " does not answer: the message is in its quarantine, which cannot be reached now. Try again when " + host + " is up."
}

// peerAPI serves the group's internal quarantine API: GET an entry, POST
// release or delete. Only a request signed with the group key passes;
// the ID is checked before anything is read.
func (s *Server) peerAPI(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, peer.MaxBody+1))
		if err != nil || len(body) > peer.MaxBody {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		if err := s.peerVerify.Verify(r, body); err != nil {
			s.log.WithField("from", clientIP(r)).WithError(err).Warn("web: peer request refused")
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		id := r.PathValue("day") + "/" + r.PathValue("name")
		if !quarantine.ValidID(id) {
			http.Error(w, "bad id", http.StatusBadRequest)
			return
		}
		e, err := s.o.Quarantine.Get(id)
		if err != nil {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		from := r.Header.Get(peer.HeaderHost)
		switch action {
		case "get":
			out := peer.Entry{Entry: e}
			out.Files, _ = s.o.Quarantine.Files(id)
			if text, cut, err := s.readEML(id); err == nil {
				if len(text) > peer.MaxBody/2 {
					text, cut = text[:peer.MaxBody/2], true
				}
				out.Text, out.Cut = text, cut
			}
			writeJSON(w, out)
		case "release":
			var in struct {
				To []string `json:"to"`
			}
			if err := json.Unmarshal(body, &in); err != nil || len(in.To) > 100 {
				http.Error(w, "bad body", http.StatusBadRequest)
				return
			}
			newID, err := s.releaseEntry(id, in.To)
			if err != nil {
				s.log.WithError(err).Errorf("web: peer %s: release %s", from, id)
				http.Error(w, "release failed", http.StatusInternalServerError)
				return
			}
			s.log.Infof("web: %s released as %s for host %s", id, newID, from)
			writeJSON(w, map[string]string{"id": newID})
		case "delete":
			if err := s.o.Quarantine.Delete(id); err != nil && !quarantine.OnlyIndex(err) {
				s.log.WithError(err).Errorf("web: peer %s: delete %s", from, id)
				http.Error(w, "delete failed", http.StatusInternalServerError)
				return
			}
			s.log.Infof("web: %s deleted for host %s", id, from)
			writeJSON(w, map[string]string{})
		}
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// remoteRelease and remoteDelete answer a desk action on another host's
// entry; false when they answered an error page.
func (s *Server) remoteAction(w http.ResponseWriter, r *http.Request, rec store.LogRecord, release bool, to []string) (string, bool) {
	var newID string
	var err error
	if release {
		newID, err = s.o.Peers.Release(r.Context(), rec.Host, rec.Quarantine, to)
	} else {
		err = s.o.Peers.Delete(r.Context(), rec.Host, rec.Quarantine)
	}
	switch {
	case errors.Is(err, peer.ErrHostDown):
		s.fail(w, r, http.StatusServiceUnavailable, hostDown(rec.Host))
		return "", false
	case errors.Is(err, peer.ErrNotFound):
		s.fail(w, r, http.StatusNotFound, "This message has no quarantined copy on "+rec.Host+".")
		return "", false
	case err != nil:
		s.internal(w, r, "peer "+rec.Host+" "+rec.Quarantine, err)
		return "", false
	}
	return newID, true
}
