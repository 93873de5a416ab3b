package reinject

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
)

// fake is a downstream go-smtp server whose answers a test sets.
type fake struct {
	mu       sync.Mutex
	sessions int
	conns    []*smtp.Conn
	mailErrs []error          // answers to MAIL, in turn; nil = accept
	rcptErr  map[string]error // per recipient
	dataErrs []error
	got      []delivery
	open     int // connections open now
	maxOpen  int
	hold     chan struct{} // when set, DATA waits until it is closed
}

type delivery struct {
	from  string
	mail  smtp.MailOptions
	rcpts []string
	ropts []smtp.RcptOptions
	data  string
}

func (f *fake) NewSession(c *smtp.Conn) (smtp.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sessions++
	f.conns = append(f.conns, c)
	f.open++
	f.maxOpen = max(f.maxOpen, f.open)
	return &fakeSession{f: f}, nil
}

func (f *fake) pop(l *[]error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(*l) == 0 {
		return nil
	}
	err := (*l)[0]
	*l = (*l)[1:]
	return err
}

// dropAll closes every connection from the server side.
func (f *fake) dropAll() {
	f.mu.Lock()
	cs := f.conns
	f.conns = nil
	f.mu.Unlock()
	for _, c := range cs {
		c.Close()
	}
}

func (f *fake) deliveries() []delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]delivery(nil), f.got...)
}

type fakeSession struct {
	f *fake
	d delivery
}

func (s *fakeSession) Mail(from string, o *smtp.MailOptions) error {
	if err := s.f.pop(&s.f.mailErrs); err != nil {
		return err
	}
	s.d = delivery{from: from, mail: *o}
	return nil
}

func (s *fakeSession) Rcpt(to string, o *smtp.RcptOptions) error {
	s.f.mu.Lock()
	err := s.f.rcptErr[to]
	s.f.mu.Unlock()
	if err != nil {
		return err
	}
	s.d.rcpts = append(s.d.rcpts, to)
	s.d.ropts = append(s.d.ropts, *o)
	return nil
}

func (s *fakeSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.f.hold != nil {
		<-s.f.hold
	}
	if err := s.f.pop(&s.f.dataErrs); err != nil {
		return err
	}
	s.d.data = string(b)
	s.f.mu.Lock()
	s.f.got = append(s.f.got, s.d)
	s.f.mu.Unlock()
	return nil
}

func (s *fakeSession) Reset() { s.d = delivery{} }

func (s *fakeSession) Logout() error {
	s.f.mu.Lock()
	s.f.open--
	s.f.mu.Unlock()
	return nil
}

func startFake(t *testing.T, mod func(*smtp.Server)) (*fake, string) {
	t.Helper()
	f := &fake{rcptErr: map[string]error{}}
	srv := smtp.NewServer(f)
	srv.Domain = "downstream"
	srv.EnableDSN = true
	srv.EnableSMTPUTF8 = true
	srv.ErrorLog = nopLog{}
	if mod != nil {
		mod(srv)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		// Close may come before Serve has taken the listener (a test that
		// never uses the fake): closing it ends Serve's Accept either way.
		l.Close()
		if err := <-done; err != nil && !errors.Is(err, net.ErrClosed) {
			t.Errorf("fake Serve: %v", err)
		}
	})
	return f, l.Addr().String()
}

type nopLog struct{}

func (nopLog) Printf(string, ...any) {}
func (nopLog) Println(...any)        {}

func smtpErr(code int, ec smtp.EnhancedCode, msg string) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: ec, Message: msg}
}
