// Package smtpfilter is the front end of qscan as a Postfix-style SMTP
// content filter: it accepts mail over SMTP or LMTP (github.com/emersion/
// go-smtp's server) from the configured MTA clients only, and answers 250
// only once the message is durable in the spool (pkg/spool). It knows
// nothing of scanning: the daemon reads the spool, and re-injects through
// pkg/reinject.
package smtpfilter

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/spool"
)

// Options configure a Server. Zero values get the defaults named.
type Options struct {
	// Listen lists the addresses: "127.0.0.1:10024", "[::1]:10024",
	// "unix:/run/qscan/filter.sock" (or an absolute path); an "lmtp:"
	// prefix makes that listener speak LMTP.
	Listen []string
	// LMTP makes every listener speak LMTP.
	LMTP bool
	// Clients are the networks allowed to connect over TCP; default
	// loopback (127.0.0.0/8, ::1). Unix sockets are guarded by their file
	// permissions.
	Clients []netip.Prefix
	// Domain is the name in the greeting; default "localhost".
	Domain string
	// MaxMessageBytes bounds a message (SIZE= and DATA: 552 5.3.4);
	// default 50 MiB.
	MaxMessageBytes int64
	// MaxConnections bounds concurrent connections over all listeners
	// (more get 421 4.7.0); default 20.
	MaxConnections int
	// MaxRecipients bounds RCPT per message (more get 452 4.5.3);
	// default 1000.
	MaxRecipients int
	// CommandTimeout bounds the wait for each command line and each
	// reply write; default 5m. DataTimeout bounds one whole DATA
	// transfer; default 10m.
	CommandTimeout time.Duration
	DataTimeout    time.Duration

	// Spool receives the messages; IDs names them (a *sendmail.IDGen).
	Spool spool.Spool
	IDs   spool.IDSource
	// Accepting is asked at each MAIL: an error (engines down, spool
	// full, low disk) answers 451 4.3.0 and nothing is accepted. Nil
	// accepts always.
	Accepting func() error
	// Queued, if set, is called after each message is committed (before
	// the 250 goes out), e.g. to wake the pipeline.
	Queued func(id string, env *spool.Envelope)
	// Clock stamps Envelope.Received; default time.Now.
	Clock func() time.Time
	// Log receives one line per message and per refused connection.
	Log logrus.FieldLogger
}

func (o *Options) defaults() {
	if o.Domain == "" {
		o.Domain = "localhost"
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = 50 << 20
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = 20
	}
	if o.MaxRecipients <= 0 {
		o.MaxRecipients = 1000
	}
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = 5 * time.Minute
	}
	if o.DataTimeout <= 0 {
		o.DataTimeout = 10 * time.Minute
	}
	if o.Clients == nil {
		o.Clients = Loopback()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Log == nil {
		l := logrus.New()
		l.SetOutput(os.Stderr)
		o.Log = l
	}
}

// Loopback returns 127.0.0.0/8 and ::1/128, the default clients.
func Loopback() []netip.Prefix {
	return []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

// Addr is one parsed listen address.
type Addr struct {
	Network string // "tcp" or "unix"
	Address string
	LMTP    bool
}

// ParseListen parses a listen address as Options.Listen takes it.
func ParseListen(s string) (Addr, error) {
	var a Addr
	rest, lmtp := strings.CutPrefix(s, "lmtp:")
	a.LMTP = lmtp
	if p, ok := strings.CutPrefix(rest, "unix:"); ok || strings.HasPrefix(rest, "/") {
		if !ok {
			p = rest
		}
		if !strings.HasPrefix(p, "/") {
			return a, fmt.Errorf("listen address %q: a unix socket needs an absolute path", s)
		}
		a.Network, a.Address = "unix", p
		return a, nil
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil {
		return a, fmt.Errorf("listen address %q: %v (use host:port, unix:/path, with lmtp: in front for LMTP)", s, err)
	}
	if host != "" {
		if _, err := netip.ParseAddr(host); err != nil {
			return a, fmt.Errorf("listen address %q: %q is not an IP address", s, host)
		}
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return a, fmt.Errorf("listen address %q: bad port %q", s, port)
	}
	a.Network, a.Address = "tcp", rest
	return a, nil
}

// Server is the filter's SMTP/LMTP front end.
type Server struct {
	o     Options
	slots chan struct{}

	mu        sync.Mutex
	servers   []*smtp.Server
	listeners []net.Listener
	closed    bool
}

// New checks o and returns a Server; Listen opens its sockets.
func New(o Options) (*Server, error) {
	o.defaults()
	if len(o.Listen) == 0 {
		return nil, errors.New("smtp filter: no listen address")
	}
	if o.Spool.Dir == "" || o.IDs == nil {
		return nil, errors.New("smtp filter: needs a spool and an ID source")
	}
	for _, l := range o.Listen {
		if _, err := ParseListen(l); err != nil {
			return nil, err
		}
	}
	return &Server{o: o, slots: make(chan struct{}, o.MaxConnections)}, nil
}

// Listen opens every listen address, so that a bad or busy one is an error
// at start-up. A stale unix socket (nobody answers on it) is replaced.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, str := range s.o.Listen {
		a, _ := ParseListen(str)
		if a.Network == "unix" {
			removeStaleSocket(a.Address)
		}
		l, err := net.Listen(a.Network, a.Address)
		if err != nil {
			for _, o := range s.listeners {
				o.Close()
			}
			s.listeners, s.servers = nil, nil
			return fmt.Errorf("smtp filter listen %s: %w", str, err)
		}
		srv := smtp.NewServer(backend{s: s, listener: str, lmtp: a.LMTP || s.o.LMTP})
		srv.LMTP = a.LMTP || s.o.LMTP
		srv.Domain = s.o.Domain
		srv.MaxMessageBytes = s.o.MaxMessageBytes
		srv.MaxRecipients = s.o.MaxRecipients
		srv.WriteTimeout = s.o.CommandTimeout
		srv.EnableSMTPUTF8 = true
		srv.EnableDSN = true
		srv.ErrorLog = errorLog{s.o.Log}
		s.listeners = append(s.listeners, &listener{Listener: l, s: s})
		s.servers = append(s.servers, srv)
	}
	return nil
}

func removeStaleSocket(path string) {
	st, err := os.Lstat(path)
	if err != nil || st.Mode()&os.ModeSocket == 0 {
		return
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return // in use: Listen will say so
	}
	os.Remove(path)
}

// Addrs returns the addresses listened on (after Listen).
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []net.Addr
	for _, l := range s.listeners {
		out = append(out, l.Addr())
	}
	return out
}

// Serve serves every listener until Close or Shutdown; it returns nil
// then, or the first error of a listener.
func (s *Server) Serve() error {
	s.mu.Lock()
	if len(s.listeners) == 0 {
		s.mu.Unlock()
		return errors.New("smtp filter: Serve before Listen")
	}
	errs := make(chan error, len(s.listeners))
	for i, l := range s.listeners {
		go func(srv *smtp.Server, l net.Listener) { errs <- srv.Serve(l) }(s.servers[i], l)
	}
	n := len(s.listeners)
	s.mu.Unlock()
	var first error
	for range n {
		if err := <-errs; err != nil && first == nil {
			first = err
			s.Close()
		}
	}
	return first
}

// Close stops listening and closes every connection at once (a message
// not yet answered 250 is not in the spool; the MTA sends it again).
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	var errs []error
	for _, srv := range s.servers {
		if err := srv.Close(); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Shutdown stops listening and waits for the open connections to end, or
// for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	servers := s.servers
	s.mu.Unlock()
	var errs []error
	for _, srv := range servers {
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// errorLog passes go-smtp's internal errors to the logger.
type errorLog struct{ l logrus.FieldLogger }

func (e errorLog) Printf(format string, v ...any) { e.l.Warnf("smtp filter: "+format, v...) }
func (e errorLog) Println(v ...any)               { e.l.Warn(append([]any{"smtp filter: "}, v...)...) }

// ParseClients parses smtp.clients: networks ("127.0.0.0/8") or single
// addresses ("::1").
func ParseClients(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("client %q: not an address or a network (e.g. 127.0.0.0/8, ::1)", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
