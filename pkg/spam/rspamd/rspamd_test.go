package rspamd

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// fake is an httptest rspamd that records the last request.
type fake struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hdr  http.Header
	body []byte
	path string
}

func startFake(t *testing.T, status int, answer string) *fake {
	t.Helper()
	f := &fake{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.hdr, f.body, f.path = r.Header.Clone(), b, r.Method+" "+r.URL.Path
		f.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newClient(t *testing.T, o Options) *Client {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheck(t *testing.T) {
	f := startFake(t, 200, readFile(t, "spam.json"))
	c := newClient(t, Options{URL: f.srv.URL + "/"})
	req := Request{
		IP:      netip.MustParseAddr("::ffff:192.0.2.7"),
		Helo:    "mail.sender.example",
		From:    "alice@sender.example",
		Rcpt:    []string{"bob@example.test", "carol@example.test"},
		QueueID: "6AM876nc005638",
		User:    "alice",
	}
	msg := "Subject: hi\r\n\r\nbody\r\n"
	res, err := c.Check(context.Background(), req, strings.NewReader(msg))
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	want := &Result{Score: 16.41, Required: 15, Action: "reject", IsSpam: true, Sent: len(msg), Symbols: []Symbol{
		{"GTUBE", 15, "Generic Test for Unsolicited Bulk Email"},
		{"MISSING_DATE", 1, "Date header is missing"},
		{"TO_DN_NONE", 0.71, ""},
		{"ARC_NA", 0, "ARC signature absent"},
		{"MIME_GOOD", -0.1, "Known content-type"},
		{"R_SPF_ALLOW", -0.2, "SPF verification allows sending"},
	}}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("Check =\n%+v\nwant\n%+v", res, want)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.path != "POST /checkv2" || string(f.body) != msg {
		t.Errorf("rspamd got %s with %q, want POST /checkv2 with the message", f.path, f.body)
	}
	wantHdr := map[string][]string{
		"Ip": {"192.0.2.7"}, "Helo": {"mail.sender.example"}, "From": {"alice@sender.example"},
		"Rcpt": {"bob@example.test", "carol@example.test"}, "Queue-Id": {"6AM876nc005638"}, "User": {"alice"},
	}
	for k, v := range wantHdr {
		if got := f.hdr.Values(k); !reflect.DeepEqual(got, v) {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
}

func TestCheckOmitsUnsafeAndEmpty(t *testing.T) {
	f := startFake(t, 200, readFile(t, "ham.json"))
	c := newClient(t, Options{URL: f.srv.URL})
	req := Request{Helo: "evil\r\nX-Injected: 1", Rcpt: []string{"bob@example.test"}}
	res, err := c.Check(context.Background(), req, strings.NewReader("x\n"))
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if res.IsSpam || res.Action != "no action" || res.Score != -0.3 {
		t.Errorf("Check = %+v, want ham -0.3", res)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, h := range []string{"Helo", "X-Injected", "Ip", "From", "User", "Queue-Id"} {
		if v := f.hdr.Values(h); v != nil {
			t.Errorf("header %s = %q, want none", h, v)
		}
	}
}

func TestStatusErrors(t *testing.T) {
	tests := []struct {
		status    int
		body      string
		permanent bool
	}{
		{400, `{"error":"bad request"}`, true},
		{413, `{"error":"message too large"}`, true},
		{500, `{"error":"internal"}`, false},
		{503, "overloaded", false},
		{429, "", false},
		{403, `{"error":"unauthorized"}`, false},
	}
	for _, tt := range tests {
		f := startFake(t, tt.status, tt.body)
		c := newClient(t, Options{URL: f.srv.URL})
		_, err := c.Check(context.Background(), Request{}, strings.NewReader("x\n"))
		var se *StatusError
		if !errors.As(err, &se) || se.Code != tt.status {
			t.Errorf("HTTP %d: err = %v, want StatusError", tt.status, err)
			continue
		}
		if IsPermanent(err) != tt.permanent {
			t.Errorf("HTTP %d: IsPermanent = %v, want %v", tt.status, !tt.permanent, tt.permanent)
		}
	}
}

func TestBadAnswers(t *testing.T) {
	tests := []struct {
		name string
		body string
		want error
	}{
		{"html", "<html>hello</html>", ErrMalformed},
		{"empty", "", ErrMalformed},
		{"no score", `{"action":"reject"}`, ErrMalformed},
		{"error field", `{"error":"something"}`, ErrMalformed},
		{"bad symbol", `{"score":1,"action":"reject","symbols":{"A B\r\n":{"score":1}}}`, ErrMalformed},
		{"huge", `{"score":1,"action":"reject","symbols":{"A":{"description":"` + strings.Repeat("x", 2000) + `"}}}`, ErrTooLarge},
	}
	for _, tt := range tests {
		f := startFake(t, 200, tt.body)
		c := newClient(t, Options{URL: f.srv.URL, MaxResponse: 1500})
		_, err := c.Check(context.Background(), Request{}, strings.NewReader("x\n"))
		if !errors.Is(err, tt.want) || IsPermanent(err) {
			t.Errorf("%s: err = %v, want transient %v", tt.name, err, tt.want)
		}
	}
}

func TestSkipped(t *testing.T) {
	res, err := ParseResult([]byte(readFile(t, "skipped.json")))
	if err != nil || !res.IsSkipped || res.IsSpam {
		t.Errorf("ParseResult(skipped) = %+v, %v; want skipped, not spam", res, err)
	}
}

func TestTimeout(t *testing.T) {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-done:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	c := newClient(t, Options{URL: srv.URL, Timeout: 100 * time.Millisecond})
	_, err := c.Check(context.Background(), Request{}, strings.NewReader("x\n"))
	if !errors.Is(err, context.DeadlineExceeded) || IsPermanent(err) {
		t.Errorf("Check on a hanging rspamd = %v, want transient DeadlineExceeded", err)
	}
}

func TestTruncation(t *testing.T) {
	f := startFake(t, 200, readFile(t, "ham.json"))
	c := newClient(t, Options{URL: f.srv.URL, MaxSize: 10})
	res, err := c.Check(context.Background(), Request{}, strings.NewReader("line one\nline two\n"))
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if string(f.body) != "line one\n" || !res.Truncated || res.Sent != 9 {
		t.Errorf("sent %q (Truncated %v, Sent %d), want %q", f.body, res.Truncated, res.Sent, "line one\n")
	}
}

func TestNewOptions(t *testing.T) {
	c, err := New(Options{})
	if err != nil || c.Endpoint() != DefaultURL+"/checkv2" {
		t.Errorf("New(Options{}) = %v, %v; want endpoint %s/checkv2", c, err, DefaultURL)
	}
	for _, u := range []string{"ftp://x", "127.0.0.1:11333", "http://"} {
		if _, err := New(Options{URL: u}); err == nil {
			t.Errorf("New(URL %q) succeeded, want an error", u)
		}
	}
}

func FuzzParseResult(f *testing.F) {
	for _, n := range []string{"spam.json", "ham.json", "skipped.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ParseResult(data)
		if err != nil {
			return
		}
		if !finite(res.Score) || !finite(res.Required) || len(res.Symbols) > maxSymbols {
			t.Fatalf("bad result %+v", res)
		}
		for _, s := range res.Symbols {
			if !symbolName(s.Name) || len(s.Description) > maxDescLen || !printable(s.Description) {
				t.Fatalf("bad symbol %+v", s)
			}
		}
	})
}
