// Package peer is the internal API between the hosts of a qscan group:
// a web desk asks the host that holds a quarantine entry to show,
// release or delete it. Every request is signed with the group's key
// (HMAC-SHA256 over method, path, time, nonce and body) and valid for a
// short window; a nonce is accepted once. Quarantine IDs are checked on
// both sides (quarantine.ValidID), never paths.
package peer

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/qscan/qscan/pkg/quarantine"
)

// Headers of a signed request.
const (
	HeaderTime  = "X-Qscan-Time"
	HeaderNonce = "X-Qscan-Nonce"
	HeaderSig   = "X-Qscan-Signature"
	HeaderHost  = "X-Qscan-Host"
)

// Window is how far a request's time may be from the receiver's clock.
const Window = 60 * time.Second

// MaxBody bounds a request or answer body.
const MaxBody = 64 << 10

// Errors of the client.
var (
	ErrHostDown    = errors.New("peer: host does not answer")
	ErrUnknownHost = errors.New("peer: host not in [web] peers")
	ErrNotFound    = errors.New("peer: no such quarantine entry")
)

// Sign is the signature of a request.
func Sign(key []byte, method, path string, t time.Time, nonce string, body []byte) string {
	sum := sha256.Sum256(body)
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s\n%s\n%d\n%s\n%x", method, path, t.Unix(), nonce, sum)
	return hex.EncodeToString(m.Sum(nil))
}

// Verifier checks signed requests and remembers the nonces of the window.
type Verifier struct {
	Key []byte
	Now func() time.Time

	mu    sync.Mutex
	seen  map[string]time.Time
	clean time.Time
}

// maxNonces bounds the nonces remembered: a flood of signed requests
// (the key holder) is refused rather than growing the map.
const maxNonces = 100000

// Verify checks r's signature over body; the error says why not.
func (v *Verifier) Verify(r *http.Request, body []byte) error {
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	if len(v.Key) == 0 {
		return errors.New("no key")
	}
	ts, err := strconv.ParseInt(r.Header.Get(HeaderTime), 10, 64)
	if err != nil {
		return errors.New("no time")
	}
	t := time.Unix(ts, 0)
	if d := now.Sub(t); d > Window || d < -Window {
		return errors.New("time outside the window")
	}
	nonce := r.Header.Get(HeaderNonce)
	if len(nonce) < 16 || len(nonce) > 64 {
		return errors.New("bad nonce")
	}
	want := Sign(v.Key, r.Method, r.URL.Path, t, nonce, body)
	if !hmac.Equal([]byte(want), []byte(r.Header.Get(HeaderSig))) {
		return errors.New("bad signature")
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.seen == nil {
		v.seen = map[string]time.Time{}
	}
	if now.Sub(v.clean) > Window {
		for n, at := range v.seen {
			if now.Sub(at) > 2*Window {
				delete(v.seen, n)
			}
		}
		v.clean = now
	}
	if _, ok := v.seen[nonce]; ok {
		return errors.New("nonce used")
	}
	if len(v.seen) >= maxNonces {
		return errors.New("too many requests")
	}
	v.seen[nonce] = now
	return nil
}

// Client calls the other hosts of the group.
type Client struct {
	Key   []byte
	Self  string            // this host's name, sent along
	Peers map[string]string // host -> base URL of its desk
	HTTP  *http.Client      // nil: one with a 15 s timeout
	Now   func() time.Time
}

// Entry is what Get answers: the entry and its files.
type Entry struct {
	Entry quarantine.Entry  `json:"entry"`
	Files []quarantine.File `json:"files,omitempty"`
	Text  string            `json:"text,omitempty"` // the start of message.eml
	Cut   bool              `json:"cut,omitempty"`
}

// Path is the API path of an action on entry id ("" for Get).
func Path(id, action string) string {
	p := "/peer/v1/quarantine/" + id
	if action != "" {
		p += "/" + action
	}
	return p
}

// Get fetches entry id from host.
func (c *Client) Get(ctx context.Context, host, id string) (Entry, error) {
	var e Entry
	err := c.do(ctx, host, http.MethodGet, Path(id, ""), nil, &e)
	return e, err
}

// Release asks host to release entry id (to: empty for the original
// recipients) and returns the new queue ID.
func (c *Client) Release(ctx context.Context, host, id string, to []string) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	err := c.do(ctx, host, http.MethodPost, Path(id, "release"), map[string]any{"to": to}, &out)
	return out.ID, err
}

// Delete asks host to delete entry id.
func (c *Client) Delete(ctx context.Context, host, id string) error {
	return c.do(ctx, host, http.MethodPost, Path(id, "delete"), map[string]any{}, nil)
}

func (c *Client) do(ctx context.Context, host, method, path string, in, out any) error {
	base, ok := c.Peers[host]
	if !ok {
		return fmt.Errorf("peer %s: %w", host, ErrUnknownHost)
	}
	if !quarantine.ValidID(strings.TrimPrefix(strings.TrimSuffix(strings.TrimSuffix(path, "/release"), "/delete"), "/peer/v1/quarantine/")) {
		return fmt.Errorf("peer %s: bad quarantine id", host)
	}
	var body []byte
	if in != nil {
		body, _ = json.Marshal(in)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(base, "/")+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("peer %s: %w", host, err)
	}
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	var nb [16]byte
	rand.Read(nb[:])
	nonce := hex.EncodeToString(nb[:])
	req.Header.Set(HeaderTime, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderHost, c.Self)
	req.Header.Set(HeaderSig, Sign(c.Key, method, req.URL.Path, now, nonce, body))
	req.Header.Set("Content-Type", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("peer %s: %w: %v", host, ErrHostDown, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return fmt.Errorf("peer %s: %w: %v", host, ErrHostDown, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("peer %s %s: %w", host, path, ErrNotFound)
	case resp.StatusCode >= 500 && resp.StatusCode != http.StatusInternalServerError:
		return fmt.Errorf("peer %s: %w: %s", host, ErrHostDown, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("peer %s %s: %s: %s", host, path, resp.Status, strings.TrimSpace(string(b[:min(len(b), 200)])))
	case len(b) > MaxBody:
		return fmt.Errorf("peer %s %s: answer over %d bytes", host, path, MaxBody)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("peer %s %s: %w", host, path, err)
		}
	}
	return nil
}
