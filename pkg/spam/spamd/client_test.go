package spamd

import (
	"bytes"
	"context"
	"errors"
	"github.com/qscan/qscan/pkg/spam"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSymbols(t *testing.T) {
	f := startFake(t, "tcp", answerFile(t, "symbols_gtube.resp"))
	o := f.options()
	o.User = "bob"
	c := newClient(t, o)
	msg := "Subject: hi\r\n\r\nbody\r\n"
	res, err := c.Symbols(context.Background(), strings.NewReader(msg))
	if err != nil {
		t.Fatalf("Symbols: %v", err)
	}
	if !res.IsSpam || res.Score != 1000 || res.Required != 5 {
		t.Errorf("Symbols = spam %v score %v required %v, want true 1000 5", res.IsSpam, res.Score, res.Required)
	}
	if got, want := res.RuleNames(), []string{"GTUBE", "NO_RECEIVED", "NO_RELAYS"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Symbols rules = %q, want %q", got, want)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("spamd got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Line != "SYMBOLS SPAMC/1.5" || r.Hdr["User"] != "bob" || r.Hdr["Content-length"] != strconv.Itoa(len(msg)) || string(r.Body) != msg {
		t.Errorf("spamd got %+v, want SYMBOLS with User bob and the message", r)
	}
}

func TestReport(t *testing.T) {
	tests := []struct {
		file  string
		spam  bool
		score float64
		rules []Rule
	}{
		{"report_gtube.resp", true, 1000, []Rule{
			{"NO_RECEIVED", 0, "Informational: message has no Received headers"},
			{"GTUBE", 1000, "BODY: Generic Test for Unsolicited Bulk Email"},
			{"NO_RELAYS", 0, "Informational: message was not relayed via SMTP"},
		}},
		{"report_ham.resp", false, 0, []Rule{
			{"NO_RECEIVED", 0, "Informational: message has no Received headers"},
			{"NO_RELAYS", 0, "Informational: message was not relayed via SMTP"},
		}},
	}
	for _, tt := range tests {
		f := startFake(t, "tcp", answerFile(t, tt.file))
		c := newClient(t, f.options())
		res, err := c.Report(context.Background(), strings.NewReader("Subject: x\n\nx\n"))
		if err != nil {
			t.Fatalf("%s: Report: %v", tt.file, err)
		}
		if res.IsSpam != tt.spam || res.Score != tt.score || res.Required != 5 {
			t.Errorf("%s: Report = spam %v score %v required %v, want %v %v 5", tt.file, res.IsSpam, res.Score, res.Required, tt.spam, tt.score)
		}
		if !reflect.DeepEqual(res.Rules, tt.rules) {
			t.Errorf("%s: Report rules = %+v, want %+v", tt.file, res.Rules, tt.rules)
		}
		if !strings.Contains(res.Report, "Content analysis details") {
			t.Errorf("%s: Report text %q lacks the analysis", tt.file, res.Report)
		}
		if got := f.requests()[0].Line; got != "REPORT SPAMC/1.5" {
			t.Errorf("%s: request line %q, want REPORT SPAMC/1.5", tt.file, got)
		}
	}
}

func TestCheckUnixSocket(t *testing.T) {
	f := startFake(t, "unix", answerFile(t, "check_ham.resp"))
	c := newClient(t, f.options())
	res, err := c.Check(context.Background(), strings.NewReader("Subject: x\n\nx\n"))
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if res.IsSpam || res.Required != 5 || len(res.Rules) != 0 {
		t.Errorf("Check = %+v, want ham, required 5, no rules", res)
	}
	if _, ok := f.requests()[0].Hdr["User"]; ok {
		t.Errorf("request carries a User header without Options.User")
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		status    string
		code      int
		permanent bool
	}{
		{"SPAMD/1.0 76 Bad header line: (Content-Length mismatch)", ExProtocol, true},
		{"SPAMD/1.0 64 EX_USAGE", ExUsage, true},
		{"SPAMD/1.0 65 EX_DATAERR", ExDataErr, true},
		{"SPAMD/1.0 75 EX_TEMPFAIL", ExTempFail, false},
		{"SPAMD/1.0 69 Service Unavailable: Error fetching user preferences via SQL", ExUnavailable, false},
		{"SPAMD/1.0 79 Timeout: (30 second timeout while trying to SYMBOLS)", ExTimeout, false},
		{"SPAMD/1.0 74 EX_IOERR", ExIOErr, false},
		{"SPAMD/1.0 99 something new", 99, false},
	}
	for _, tt := range tests {
		f := startFake(t, "tcp", answer(tt.status+"\r\n"))
		c := newClient(t, f.options())
		_, err := c.Symbols(context.Background(), strings.NewReader("x\n"))
		var ee *ExitError
		if !errors.As(err, &ee) || ee.Code != tt.code {
			t.Errorf("%q: err = %v, want ExitError code %d", tt.status, err, tt.code)
			continue
		}
		if got := IsPermanent(err); got != tt.permanent {
			t.Errorf("%q: IsPermanent = %v, want %v", tt.status, got, tt.permanent)
		}
		if !strings.HasPrefix(err.Error(), "spamd SYMBOLS "+c.Addr()+": ") {
			t.Errorf("%q: error %q lacks the operation and address", tt.status, err)
		}
	}
}

func TestBadAnswers(t *testing.T) {
	tests := []struct {
		name   string
		answer string
		want   error
	}{
		{"http", "HTTP/1.1 400 Bad Request\r\n\r\n", ErrMalformed},
		{"empty", "", ErrMalformed},
		{"closed after status", "SPAMD/1.1 0 EX_OK\r\n", ErrMalformed},
		{"no spam header", "SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\n\r\n", ErrMalformed},
		{"bad spam header", "SPAMD/1.1 0 EX_OK\r\nSpam: Maybe ; 1 / 5\r\n\r\n", ErrMalformed},
		{"nan score", "SPAMD/1.1 0 EX_OK\r\nSpam: True ; NaN / 5\r\n\r\n", ErrMalformed},
		{"short body", "SPAMD/1.1 0 EX_OK\r\nContent-length: 100\r\nSpam: True ; 9 / 5\r\n\r\nGTUBE", ErrMalformed},
		{"bad length", "SPAMD/1.1 0 EX_OK\r\nContent-length: -3\r\nSpam: True ; 9 / 5\r\n\r\n", ErrMalformed},
		{"huge length", "SPAMD/1.1 0 EX_OK\r\nContent-length: 99999999999\r\nSpam: True ; 9 / 5\r\n\r\n", ErrTooLarge},
		{"long line", "SPAMD/1.1 0 EX_OK\r\nX: " + strings.Repeat("a", 10000) + "\r\n", ErrMalformed},
		{"many headers", "SPAMD/1.1 0 EX_OK\r\n" + strings.Repeat("X: y\r\n", 40), ErrMalformed},
	}
	for _, tt := range tests {
		f := startFake(t, "tcp", answer(tt.answer))
		c := newClient(t, f.options())
		_, err := c.Symbols(context.Background(), strings.NewReader("x\n"))
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
		if IsPermanent(err) {
			t.Errorf("%s: IsPermanent(%v) = true, want transient", tt.name, err)
		}
	}
}

func TestMaxResponse(t *testing.T) {
	body := strings.Repeat("RULE,", 1000)
	f := startFake(t, "tcp", answer("SPAMD/1.1 0 EX_OK\r\nSpam: True ; 9 / 5\r\n\r\n"+body))
	o := f.options()
	o.MaxResponse = 100
	c := newClient(t, o)
	if _, err := c.Symbols(context.Background(), strings.NewReader("x\n")); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Symbols with a %d-byte answer = %v, want ErrTooLarge", len(body), err)
	}
}

// hang reads the request and then waits until the test ends.
func hang(done <-chan struct{}) func(net.Conn, request) {
	return func(net.Conn, request) { <-done }
}

func TestTimeout(t *testing.T) {
	done := make(chan struct{})
	f := startFake(t, "tcp", hang(done))
	t.Cleanup(func() { close(done) })
	o := f.options()
	o.Timeout = 100 * time.Millisecond
	c := newClient(t, o)
	_, err := c.Symbols(context.Background(), strings.NewReader("x\n"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Symbols on a hanging spamd = %v, want DeadlineExceeded", err)
	}
	if IsPermanent(err) {
		t.Errorf("IsPermanent(%v) = true, want transient", err)
	}

	// A cancelled caller context unblocks the read too.
	c = newClient(t, f.options())
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := c.Symbols(ctx, strings.NewReader("x\n")); !errors.Is(err, context.Canceled) {
		t.Errorf("Symbols with a cancelled context = %v, want Canceled", err)
	}
}

func TestRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newClient(t, Options{Address: addr})
	_, err = c.Symbols(context.Background(), strings.NewReader("x\n"))
	if err == nil || IsPermanent(err) {
		t.Errorf("Symbols to a closed port = %v, want a transient error", err)
	}
}

func TestMaxConnections(t *testing.T) {
	done := make(chan struct{})
	f := startFake(t, "tcp", hang(done))
	t.Cleanup(func() { close(done) })
	o := f.options()
	o.MaxConnections = 1
	c := newClient(t, o)
	started := make(chan struct{})
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		close(started)
		c.Symbols(ctx, strings.NewReader("x\n"))
	}()
	<-started
	for len(f.requests()) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Symbols(ctx, strings.NewReader("x\n")); !errors.Is(err, ErrBusy) {
		t.Errorf("second Symbols with one slot = %v, want ErrBusy", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("spamd saw %d connections, want 1", n)
	}
}

func TestTruncation(t *testing.T) {
	f := startFake(t, "tcp", answerFile(t, "symbols_ham.resp"))
	o := f.options()
	o.MaxSize = 20
	c := newClient(t, o)
	msg := "Subject: hello\nTo: bob@example.test\n\nbody\n"
	res, err := c.Symbols(context.Background(), strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(f.requests()[0].Body); got != "Subject: hello\n" {
		t.Errorf("spamd got %q, want the first line only", got)
	}
	if !res.Truncated || res.Sent != len("Subject: hello\n") {
		t.Errorf("Truncated, Sent = %v, %d; want true, 15", res.Truncated, res.Sent)
	}
}

func TestReadHead(t *testing.T) {
	tests := []struct {
		in        string
		max       int64
		want      string
		truncated bool
	}{
		{"", 10, "", false},
		{"abc\n", 10, "abc\n", false},
		{"0123456789", 10, "0123456789", false},
		{"0123456789a", 10, "0123456789", true},
		{"ab\ncd\nef\n", 7, "ab\ncd\n", true},
		{"ab\r\ncd\r\n", 6, "ab\r\n", true},
		{"ab\ncd\n", 6, "ab\ncd\n", false},
	}
	for _, tt := range tests {
		got, tr, err := spam.ReadHead(strings.NewReader(tt.in), tt.max)
		if err != nil || string(got) != tt.want || tr != tt.truncated {
			t.Errorf("ReadHead(%q, %d) = %q, %v, %v; want %q, %v", tt.in, tt.max, got, tr, err, tt.want, tt.truncated)
		}
	}
}

func TestParseReport(t *testing.T) {
	report := "Content preview:  1.0 FAKE_RULE in the preview\n\n" +
		" pts rule name              description\n" +
		"---- ---------------------- --------------------------------------------------\n" +
		" 1.2 RULE_A                 first line\n" +
		"                            [continued here]\n" +
		"-0.5 RULE_B                 \n" +
		"2.5  bad-name               not a rule\n" +
		" 3.0 RULE_C                 c\n"
	want := []Rule{{"RULE_A", 1.2, "first line [continued here]"}, {"RULE_B", -0.5, ""}, {"RULE_C", 3, "c"}}
	if got := ParseReport(report); !reflect.DeepEqual(got, want) {
		t.Errorf("ParseReport = %+v, want %+v", got, want)
	}
	if got := ParseReport("no table here\n 1.0 RULE x\n"); got != nil {
		t.Errorf("ParseReport without a ruler = %+v, want none", got)
	}
}

func TestPing(t *testing.T) {
	f := startFake(t, "tcp", answer("SPAMD/1.5 0 PONG\r\n"))
	if err := newClient(t, f.options()).Ping(context.Background()); err != nil {
		t.Errorf("Ping = %v", err)
	}
	if line := f.requests()[0].Line; line != "PING SPAMC/1.5" {
		t.Errorf("ping request %q", line)
	}
	f = startFake(t, "tcp", answer("SPAMD/1.5 76 Bad header line\r\n"))
	if err := newClient(t, f.options()).Ping(context.Background()); !errors.Is(err, ErrMalformed) {
		t.Errorf("Ping on an error answer = %v, want ErrMalformed", err)
	}
}

func TestNewOptions(t *testing.T) {
	c, err := New(Options{})
	if err != nil || c.Addr() != DefaultAddress || c.opts.MaxSize != DefaultMaxSize || cap(c.sem) != DefaultMaxConnections || c.opts.Timeout != DefaultTimeout {
		t.Errorf("New(Options{}) = %+v, %v; want the defaults", c, err)
	}
	for _, o := range []Options{{User: "a b"}, {User: "x\r\nContent-length: 1"}, {Timeout: -1}, {MaxSize: -1}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) succeeded, want an error", o)
		}
	}
}

// TestRealSpamd runs against the spamd named by QSCAN_SPAMD (host:port or a
// socket path), as the project's test stack starts it.
func TestRealSpamd(t *testing.T) {
	addr := os.Getenv("QSCAN_SPAMD")
	if addr == "" {
		t.Skip("QSCAN_SPAMD not set")
	}
	o := Options{Address: addr}
	if strings.HasPrefix(addr, "/") {
		o = Options{Socket: addr}
	}
	c := newClient(t, o)
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	gtube, _ := os.ReadFile(filepath.Join("testdata", "gtube.eml"))
	res, err := c.Report(ctx, bytes.NewReader(gtube))
	if err != nil {
		t.Fatalf("Report(gtube): %v", err)
	}
	if !res.IsSpam || res.Score < 1000 || !hasRule(res.Rules, "GTUBE", 1000) {
		t.Errorf("Report(gtube) = %+v, want spam >= 1000 with GTUBE 1000", res)
	}
	ham, _ := os.ReadFile(filepath.Join("testdata", "ham.eml"))
	for _, do := range []func(context.Context, io.Reader) (*Result, error){c.Symbols, c.Report, c.Check} {
		res, err := do(ctx, bytes.NewReader(ham))
		if err != nil {
			t.Fatalf("ham: %v", err)
		}
		if res.IsSpam || res.Score >= 5 {
			t.Errorf("ham = %+v, want not spam below 5", res)
		}
	}
}

func hasRule(rules []Rule, name string, score float64) bool {
	for _, r := range rules {
		if r.Name == name && r.Score == score {
			return true
		}
	}
	return false
}
