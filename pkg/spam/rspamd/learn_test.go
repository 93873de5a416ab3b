package rspamd

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// learnFake is an httptest rspamd controller: it records each request and
// answers with status and body.
type learnFake struct {
	mu     sync.Mutex
	paths  []string
	pass   []string
	bodies []string
	status int
	body   string
}

func (f *learnFake) start(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.paths = append(f.paths, r.Method+" "+r.URL.Path)
		f.pass = append(f.pass, r.Header.Get("Password"))
		f.bodies = append(f.bodies, string(b))
		status, body := f.status, f.body
		f.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestLearnSpamAndHam(t *testing.T) {
	f := &learnFake{status: 200, body: `{"success":true}`}
	srv := f.start(t)
	c, err := New(Options{URL: "http://127.0.0.1:1", Controller: srv.URL + "/", Password: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	msg := "Subject: pills\r\n\r\nbuy\r\n"
	for _, spam := range []bool{true, false} {
		learned, err := c.LearnMessage(context.Background(), spam, strings.NewReader(msg))
		if err != nil || !learned {
			t.Errorf("LearnMessage(%v) = %v, %v; want learned", spam, learned, err)
		}
	}
	want := []string{"POST /learnspam", "POST /learnham"}
	if strings.Join(f.paths, ",") != strings.Join(want, ",") {
		t.Errorf("requests %v, want %v", f.paths, want)
	}
	for i := range f.paths {
		if f.pass[i] != "s3cret" || f.bodies[i] != msg {
			t.Errorf("request %d: password %q, body %q", i, f.pass[i], f.bodies[i])
		}
	}
}

func TestLearnAnswers(t *testing.T) {
	for _, tc := range []struct {
		status    int
		body      string
		learned   bool
		permanent bool
		err       bool
	}{
		{200, `{"success":true}`, true, false, false},
		{208, `{"error":"<x@y> has been already learned as spam, ignore it"}`, false, false, false},
		{403, `{"error":"Unauthorized"}`, false, false, true}, // a wrong password: transient, fix the config
		{400, `{"error":"Message is too short"}`, false, true, true},
		{500, `{"error":"Learn classifier error"}`, false, false, true},
	} {
		f := &learnFake{status: tc.status, body: tc.body}
		srv := f.start(t)
		c, err := New(Options{Controller: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		learned, err := c.LearnMessage(context.Background(), true, strings.NewReader("Subject: x\r\n\r\ny\r\n"))
		if learned != tc.learned || (err != nil) != tc.err || IsPermanent(err) != tc.permanent {
			t.Errorf("HTTP %d: LearnMessage = %v, %v (permanent %v); want %v, error %v, permanent %v",
				tc.status, learned, err, IsPermanent(err), tc.learned, tc.err, tc.permanent)
		}
		if f.pass[0] != "" {
			t.Errorf("a password was sent without one configured: %q", f.pass[0])
		}
		if err != nil && !strings.HasPrefix(err.Error(), "rspamd learnspam "+srv.URL+"/learnspam: ") {
			t.Errorf("error %q does not name the operation", err)
		}
		if err := c.Learn(context.Background(), false, strings.NewReader("x\r\n")); (err != nil) != tc.err {
			t.Errorf("HTTP %d: Learn = %v", tc.status, err)
		}
	}
}

func TestLearnLimits(t *testing.T) {
	f := &learnFake{status: 200, body: strings.Repeat("x", 100)}
	srv := f.start(t)
	c, err := New(Options{Controller: srv.URL, MaxSize: 20, MaxResponse: 99})
	if err != nil {
		t.Fatal(err)
	}
	msg := "Subject: a\r\n\r\n" + strings.Repeat("line\r\n", 10)
	if _, err := c.LearnMessage(context.Background(), true, strings.NewReader(msg)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("an answer of 100 bytes with MaxResponse 99: %v, want ErrTooLarge", err)
	}
	if got := f.bodies[0]; len(got) > 20 || !strings.HasPrefix(msg, got) {
		t.Errorf("sent %q, want the head of the message under 20 bytes", got)
	}
	f.body = strings.Repeat("x", 99)
	if _, err := c.LearnMessage(context.Background(), true, strings.NewReader(msg)); err != nil {
		t.Errorf("an answer of 99 bytes with MaxResponse 99: %v", err)
	}
}

func TestLearnOptions(t *testing.T) {
	for _, o := range []Options{{Controller: "ftp://x"}, {Controller: "http://"}, {Password: "a\nb"}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v): no error", o)
		}
	}
	c, err := New(Options{})
	if err != nil || c.controller != DefaultController {
		t.Errorf("default controller %q, %v", c.controller, err)
	}
}
