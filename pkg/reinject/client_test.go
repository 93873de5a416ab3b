package reinject

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/smtpfilter"
	"github.com/qscan/qscan/pkg/spool"
)

func envelope(rcpts ...string) *spool.Envelope {
	e := &spool.Envelope{Received: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC), Protocol: "ESMTP", Sender: "alice@example.org"}
	for _, r := range rcpts {
		e.Recipients = append(e.Recipients, spool.Recipient{Addr: r})
	}
	return e
}

const body = "From: alice@example.org\nSubject: hi\n\n.dot line\nbody\n"

func newClient(t *testing.T, addr string, mod func(*Options)) *Client {
	t.Helper()
	o := Options{Addr: addr, Connections: 2}
	if mod != nil {
		mod(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func send(c *Client, env *spool.Envelope) (*Result, error) {
	return c.Send(context.Background(), Message{Env: env, Data: strings.NewReader(body)})
}

type seq struct {
	mu sync.Mutex
	n  int
}

func (s *seq) Next() string { s.mu.Lock(); defer s.mu.Unlock(); s.n++; return fmt.Sprintf("D%d", s.n) }

// The downstream here is qscan's own filter front end: it speaks
// XFORWARD and records every parameter in its spool.
func TestEnvelopePassedOnUnchanged(t *testing.T) {
	sp, _ := spool.Open(t.TempDir())
	log := logrus.New()
	log.SetOutput(io.Discard)
	down, err := smtpfilter.New(smtpfilter.Options{Listen: []string{"127.0.0.1:0"}, Spool: sp, IDs: &seq{}, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := down.Listen(); err != nil {
		t.Fatal(err)
	}
	go down.Serve()
	defer down.Close()

	c := newClient(t, down.Addrs()[0].String(), nil)
	for i, body8 := range []string{"8BITMIME", "7BIT", ""} {
		env := &spool.Envelope{Received: time.Unix(1, 0).UTC(), Protocol: "ESMTP", Sender: "alice@example.org",
			Return: "HDRS", EnvID: "QQ314159+x", Size: 4321, Body: body8, SMTPUTF8: i == 0,
			XForward: spool.XForward{Name: "client.example.com", Addr: "192.0.2.1", Port: "4711", Proto: "ESMTP",
				Helo: "helo name", Ident: "4Xb1", Source: "REMOTE", Login: "[UNAVAILABLE]"},
			Recipients: []spool.Recipient{
				{Addr: "bob@example.net", Notify: []string{"SUCCESS", "FAILURE"}, ORcptType: "RFC822", ORcpt: "Bob+x@example.net"},
				{Addr: "carol@example.net", Notify: []string{"NEVER"}},
				{Addr: "josé@example.net", ORcptType: "UTF-8", ORcpt: "josé@example.net"},
			}}
		res, err := send(c, env)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Accepted) != 3 || !res.Done() || !strings.HasPrefix(res.Data.Text, "Ok: queued as ") || res.Data.Enhanced != "2.0.0" {
			t.Fatalf("result %+v", res)
		}
		es, _ := sp.List()
		l, err := es[0].Lock()
		if err != nil {
			t.Fatal(err)
		}
		got, err := l.Envelope(spool.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		m, _ := l.Message()
		data, _ := io.ReadAll(m)
		l.Unlock()
		sp.Remove(es[0].ID)
		want := *env
		want.Received, want.Listener, want.Client, want.Helo = got.Received, got.Listener, got.Client, "localhost"
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("BODY=%q: downstream envelope\n%+v\nwant\n%+v", body8, got, &want)
		}
		if string(data) != body {
			t.Errorf("downstream message %q, want %q", data, body)
		}
	}
}

func TestTemporaryThenAccepted(t *testing.T) {
	f, addr := startFake(t, nil)
	f.mailErrs = []error{smtpErr(451, smtp.EnhancedCode{4, 3, 0}, "try later")}
	c := newClient(t, addr, nil)
	_, err := send(c, envelope("bob@example.net"))
	var te *TempError
	if !errors.As(err, &te) || te.Stage != "MAIL" || te.Reply.Code != 451 || te.Reply.Enhanced != "4.3.0" || !IsTemporary(err) {
		t.Fatalf("first Send = %v, want a TempError 451 4.3.0 at MAIL", err)
	}
	if len(f.deliveries()) != 0 {
		t.Fatal("delivered on a 451")
	}
	res, err := send(c, envelope("bob@example.net"))
	if err != nil || len(res.Accepted) != 1 {
		t.Fatalf("second Send = %+v, %v", res, err)
	}
	if d := f.deliveries(); len(d) != 1 || d[0].data != strings.ReplaceAll(body, "\n", "\r\n") {
		t.Errorf("delivered %+v", d)
	}
}

func TestOneOfTwoRejected(t *testing.T) {
	f, addr := startFake(t, nil)
	f.rcptErr["nobody@example.net"] = smtpErr(550, smtp.EnhancedCode{5, 1, 1}, "User unknown")
	c := newClient(t, addr, nil)
	res, err := send(c, envelope("bob@example.net", "nobody@example.net"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Accepted) != 1 || res.Accepted[0].Recipient.Addr != "bob@example.net" {
		t.Errorf("accepted %+v", res.Accepted)
	}
	if len(res.Rejected) != 1 || res.Rejected[0].Recipient.Addr != "nobody@example.net" || res.Rejected[0].Reply.String() != "550 5.1.1 User unknown" {
		t.Errorf("rejected %+v", res.Rejected)
	}
	if !res.Done() {
		t.Error("Done() = false with nothing deferred")
	}
	if d := f.deliveries(); len(d) != 1 || !reflect.DeepEqual(d[0].rcpts, []string{"bob@example.net"}) {
		t.Errorf("delivered %+v", d)
	}
}

func TestDeferredRecipient(t *testing.T) {
	f, addr := startFake(t, func(s *smtp.Server) { s.MaxRecipients = 1 })
	c := newClient(t, addr, nil)
	// The downstream's recipient limit: the second gets 452 4.5.3.
	res, err := send(c, envelope("bob@example.net", "carol@example.net"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Accepted) != 1 || len(res.Deferred) != 1 || res.Deferred[0].Reply.Code != 452 || res.Done() {
		t.Errorf("result %+v", res)
	}
	// Every recipient deferred: a TempError, nothing sent.
	f.rcptErr["bob@example.net"] = smtpErr(450, smtp.EnhancedCode{4, 2, 0}, "mailbox busy")
	_, err = send(c, envelope("bob@example.net"))
	var te *TempError
	if !errors.As(err, &te) || te.Stage != "RCPT" || te.Reply.Code != 450 {
		t.Errorf("all deferred: %v, want TempError at RCPT", err)
	}
	if n := len(f.deliveries()); n != 1 {
		t.Errorf("%d deliveries, want 1", n)
	}
}

func TestRefusedWholeMessage(t *testing.T) {
	f, addr := startFake(t, nil)
	c := newClient(t, addr, nil)
	f.rcptErr["nobody@example.net"] = smtpErr(550, smtp.EnhancedCode{5, 1, 1}, "User unknown")
	f.dataErrs = []error{smtpErr(554, smtp.EnhancedCode{5, 7, 1}, "content refused")}
	_, err := send(c, envelope("bob@example.net", "nobody@example.net"))
	var pe *PermError
	if !errors.As(err, &pe) || pe.Stage != "DATA" || IsTemporary(err) {
		t.Fatalf("Send = %v, want a PermError at DATA", err)
	}
	want := []string{"554 5.7.1 content refused", "550 5.1.1 User unknown"}
	if len(pe.Rejected) != 2 || pe.Rejected[0].Reply.String() != want[0] || pe.Rejected[1].Reply.String() != want[1] {
		t.Errorf("rejected %+v, want %v", pe.Rejected, want)
	}
	f.mailErrs = []error{smtpErr(553, smtp.EnhancedCode{5, 1, 8}, "bad sender")}
	if _, err := send(c, envelope("bob@example.net")); !errors.As(err, &pe) || pe.Stage != "MAIL" {
		t.Errorf("5xx to MAIL: %v, want PermError at MAIL", err)
	}
	// The connection is still good after both.
	if _, err := send(c, envelope("bob@example.net")); err != nil {
		t.Errorf("after refusals: %v", err)
	}
	if f.sessions != 1 {
		t.Errorf("%d connections, want 1 reused", f.sessions)
	}
}

func TestSizeLimitDownstream(t *testing.T) {
	_, addr := startFake(t, func(s *smtp.Server) { s.MaxMessageBytes = 100 })
	c := newClient(t, addr, nil)
	env := envelope("bob@example.net")
	// SIZE= over the downstream's limit: refused at MAIL.
	_, err := c.Send(context.Background(), Message{Env: env, Data: strings.NewReader(body), Size: 101})
	var pe *PermError
	if !errors.As(err, &pe) || pe.Reply.Code != 552 || pe.Stage != "MAIL" {
		t.Errorf("SIZE=101: %v, want 552 at MAIL", err)
	}
	// No SIZE, data over the limit: refused at the end of DATA.
	_, err = c.Send(context.Background(), Message{Env: env, Data: strings.NewReader(body + strings.Repeat("x", 100))})
	if !errors.As(err, &pe) || pe.Reply.Code != 552 || pe.Stage != "DATA" {
		t.Errorf("big data: %v, want 552 at DATA", err)
	}
	if _, err := c.Send(context.Background(), Message{Env: env, Data: strings.NewReader(body), Size: 99}); err != nil {
		t.Errorf("small message: %v", err)
	}
}

func TestPoolReuseAndBound(t *testing.T) {
	f, addr := startFake(t, nil)
	c := newClient(t, addr, func(o *Options) { o.Connections = 2 })
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := send(c, envelope("bob@example.net"))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.got) != 8 || f.sessions > 2 || f.maxOpen > 2 {
		t.Errorf("%d delivered over %d connections (at most %d open), want 8 over at most 2", len(f.got), f.sessions, f.maxOpen)
	}
}

func TestDeadPooledConnectionRedialed(t *testing.T) {
	f, addr := startFake(t, nil)
	c := newClient(t, addr, nil)
	if _, err := send(c, envelope("bob@example.net")); err != nil {
		t.Fatal(err)
	}
	f.dropAll()
	if _, err := send(c, envelope("bob@example.net")); err != nil {
		t.Fatalf("after the server dropped the pooled connection: %v", err)
	}
	if n := len(f.deliveries()); n != 2 {
		t.Errorf("%d deliveries, want 2", n)
	}
}

func TestIdleConnectionNotReused(t *testing.T) {
	f, addr := startFake(t, nil)
	now := time.Unix(1000, 0)
	c := newClient(t, addr, func(o *Options) { o.IdleTimeout = time.Minute; o.Clock = func() time.Time { return now } })
	send(c, envelope("bob@example.net"))
	now = now.Add(59 * time.Second)
	send(c, envelope("bob@example.net"))
	now = now.Add(time.Minute)
	send(c, envelope("bob@example.net"))
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sessions != 2 || len(f.got) != 3 {
		t.Errorf("%d connections for %d messages, want 2 for 3", f.sessions, len(f.got))
	}
}

func TestConnectFailureIsTemporary(t *testing.T) {
	_, addr := startFake(t, nil)
	c := newClient(t, addr, nil)
	c.addr = "127.0.0.1:1" // nothing listens there
	_, err := send(c, envelope("bob@example.net"))
	var te *TempError
	if !errors.As(err, &te) || te.Stage != "connect" {
		t.Errorf("Send = %v, want TempError at connect", err)
	}
}

func TestSMTPUTF8NotOffered(t *testing.T) {
	_, addr := startFake(t, func(s *smtp.Server) { s.EnableSMTPUTF8 = false })
	c := newClient(t, addr, nil)
	env := envelope("josé@example.net")
	env.SMTPUTF8 = true
	_, err := send(c, env)
	var pe *PermError
	if !errors.As(err, &pe) || pe.Reply.Enhanced != "5.6.7" {
		t.Errorf("Send = %v, want PermError 5.6.7", err)
	}
}

func TestParseAddr(t *testing.T) {
	for in, want := range map[string][2]string{
		"127.0.0.1:10025": {"tcp", "127.0.0.1:10025"},
		"[::1]:10025":     {"tcp", "[::1]:10025"},
		"unix:/run/x":     {"unix", "/run/x"},
	} {
		n, a, err := ParseAddr(in)
		if err != nil || n != want[0] || a != want[1] {
			t.Errorf("ParseAddr(%q) = %q, %q, %v", in, n, a, err)
		}
	}
	for _, in := range []string{"", "localhost:25", "127.0.0.1", "unix:rel", "1.2.3.4:x"} {
		if _, _, err := ParseAddr(in); err == nil {
			t.Errorf("ParseAddr(%q) succeeded", in)
		}
	}
}

func TestXForwardLines(t *testing.T) {
	x := spool.XForward{Name: "n", Addr: "192.0.2.1", Helo: "a b", Login: "l"}
	got := xforwardLines(x, "NAME ADDR PROTO HELO")
	if want := []string{"XFORWARD NAME=n ADDR=192.0.2.1 HELO=a+20b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("xforwardLines = %q, want %q", got, want)
	}
	long := spool.XForward{Name: strings.Repeat("n", 255), Helo: strings.Repeat("h", 255), Ident: "i"}
	got = xforwardLines(long, "NAME HELO IDENT")
	if len(got) != 2 {
		t.Errorf("long attributes in %d lines, want 2", len(got))
	}
	for _, l := range got {
		if len(l) > 512 {
			t.Errorf("line of %d bytes", len(l))
		}
	}
}

// slowListener serves at most n connections at once, as Postfix's master
// does with a service's process limit: the kernel accepts the others,
// which wait without a greeting until a served one closes.
type slowListener struct {
	net.Listener
	slots chan struct{}
}

func (l *slowListener) Accept() (net.Conn, error) {
	l.slots <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &slotConn{Conn: c, free: func() { <-l.slots }}, nil
}

type slotConn struct {
	net.Conn
	once sync.Once
	free func()
}

func (c *slotConn) Close() error {
	c.once.Do(c.free)
	return c.Conn.Close()
}

// TestMoreConnectionsThanServed: reinject_connections above what the
// downstream serves at once (Postfix's 10025 smtpd with a lower process
// limit). Two transactions hold the two connections served; a third Send
// dials, gets no greeting, gives up after DialTimeout with a warning that
// names the setting, and goes out on a served connection once one is
// free; before, it waited on the silent connection for the whole command
// timeout. Then every message goes through.
func TestMoreConnectionsThanServed(t *testing.T) {
	hold := make(chan struct{})
	f := &fake{rcptErr: map[string]error{}, hold: hold}
	srv := smtp.NewServer(f)
	srv.Domain = "downstream"
	srv.ErrorLog = nopLog{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(&slowListener{Listener: l, slots: make(chan struct{}, 2)})
	t.Cleanup(func() { srv.Close(); l.Close() })
	logged := &lockedLog{}
	log := logrus.New()
	log.SetOutput(logged)
	c := newClient(t, l.Addr().String(), func(o *Options) {
		o.Connections, o.DialTimeout, o.Log = 4, 300*time.Millisecond, log
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errs := make(chan error, 12)
	sendOne := func() {
		_, err := c.Send(ctx, Message{Env: envelope("bob@example.net"), Data: strings.NewReader(body)})
		errs <- err
	}
	// Two transactions wait in DATA on the two served connections.
	go sendOne()
	go sendOne()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		f.mu.Lock()
		n := f.sessions
		f.mu.Unlock()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions, want the 2 served", n)
		}
	}
	go sendOne() // dials a third connection: accepted, never greeted
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(logged.String(), "no greeting"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no warning after the silent dial; log:\n%s", logged.String())
		}
	}
	if out := logged.String(); !strings.Contains(out, "reinject_connections") {
		t.Errorf("the warning does not name reinject_connections:\n%s", out)
	}
	close(hold)
	var wg sync.WaitGroup
	for range 9 {
		wg.Go(sendOne)
	}
	wg.Wait()
	for range 12 {
		if err := <-errs; err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	if n := len(f.deliveries()); n != 12 {
		t.Errorf("%d delivered, want 12", n)
	}
}

// lockedLog is a log output a test reads while the client writes.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
