package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/qscan/qscan/pkg/quarantine"
)

// maxToken bounds a digest link's token.
const maxToken = 1024

// Link errors.
var (
	ErrBadLink     = errors.New("web: digest link not valid")
	ErrExpiredLink = errors.New("web: digest link expired")
)

// Link is what a digest's release link grants: releasing quarantine entry
// ID to Address, until Expires.
type Link struct {
	ID      string
	Address string
	Expires time.Time
}

// SignLink makes the token of a release link: the link's fields and their
// HMAC-SHA256 under key, in base64url.
func SignLink(key []byte, l Link) string {
	payload := "1|" + l.ID + "|" + l.Address + "|" + strconv.FormatInt(l.Expires.Unix(), 10)
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(mac(key, payload))
}

func mac(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// VerifyLink checks a token's signature and fields and, at now, its
// expiry. It returns the link and the ID that marks it used.
func VerifyLink(key []byte, token string, now time.Time) (Link, string, error) {
	if len(key) == 0 || len(token) > maxToken {
		return Link{}, "", ErrBadLink
	}
	p64, m64, ok := strings.Cut(token, ".")
	if !ok {
		return Link{}, "", ErrBadLink
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p64)
	sig, err2 := base64.RawURLEncoding.DecodeString(m64)
	if err1 != nil || err2 != nil || !hmac.Equal(sig, mac(key, string(payload))) {
		return Link{}, "", ErrBadLink
	}
	f := strings.Split(string(payload), "|")
	if len(f) != 4 || f[0] != "1" || !quarantine.ValidID(f[1]) || quarantine.CheckAddress(f[2]) != nil {
		return Link{}, "", ErrBadLink
	}
	exp, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil {
		return Link{}, "", ErrBadLink
	}
	l := Link{ID: f[1], Address: f[2], Expires: time.Unix(exp, 0)}
	if !now.Before(l.Expires) {
		return l, "", ErrExpiredLink
	}
	sum := sha256.Sum256(sig)
	return l, "digest:" + hex.EncodeToString(sum[:16]), nil
}

// linkEntry checks the link of the request and returns it with its entry;
// on false the answer has been written.
func (s *Server) linkEntry(w http.ResponseWriter, r *http.Request) (Link, string, quarantine.Entry, bool) {
	l, used, err := VerifyLink(s.o.DigestKey, r.PathValue("token"), s.o.Now())
	if errors.Is(err, ErrExpiredLink) {
		s.render(w, http.StatusGone, "digest.html", map[string]any{"Text": "This link has expired. Ask your postmaster to release the message."})
		return l, "", quarantine.Entry{}, false
	}
	if err != nil {
		s.render(w, http.StatusForbidden, "digest.html", map[string]any{"Text": "This link is not valid."})
		return l, "", quarantine.Entry{}, false
	}
	e, err := s.o.Quarantine.Get(l.ID)
	if err != nil || e.Incomplete || !hasRecipient(e.Recipients, l.Address) {
		s.render(w, http.StatusNotFound, "digest.html", map[string]any{"Text": "This message is no longer in the quarantine."})
		return l, "", quarantine.Entry{}, false
	}
	return l, used, e, true
}

func hasRecipient(rcpts []string, addr string) bool {
	for _, r := range rcpts {
		if bare(r) == bare(addr) {
			return true
		}
	}
	return false
}

// digestPage shows what the link releases and a button that posts: a
// mail client's prefetch of the link releases nothing.
func (s *Server) digestPage(w http.ResponseWriter, r *http.Request) {
	l, _, e, ok := s.linkEntry(w, r)
	if !ok {
		return
	}
	s.render(w, http.StatusOK, "digest.html", map[string]any{"Confirm": true, "Entry": e, "Link": l,
		"Subject": decodeSubject(e.Subject), "CSRF": s.formToken(w, r), "Token": r.PathValue("token")})
}

func (s *Server) digestRelease(w http.ResponseWriter, r *http.Request) {
	if !s.formTokenOK(r) {
		s.render(w, http.StatusForbidden, "digest.html", map[string]any{"Text": "The form has expired: open the link from the mail again."})
		return
	}
	l, used, e, ok := s.linkEntry(w, r)
	if !ok {
		return
	}
	first, err := s.o.Store.UseToken(r.Context(), used, l.Expires)
	if err != nil {
		s.internal(w, r, "digest token", err)
		return
	}
	if !first {
		s.render(w, http.StatusGone, "digest.html", map[string]any{"Text": "This link has already been used."})
		return
	}
	newID, err := s.releaseEntry(e.ID, []string{l.Address})
	if err != nil {
		s.log.WithError(err).WithField("id", e.ID).Error("web: digest release")
		s.render(w, http.StatusInternalServerError, "digest.html", map[string]any{"Text": "The message could not be released. Ask your postmaster."})
		return
	}
	s.record(r.Context(), "digest:"+l.Address, "release", e.ID, "as "+newID+" to "+l.Address)
	s.render(w, http.StatusOK, "digest.html", map[string]any{"Text": "The message has been released to " + l.Address + "."})
}
