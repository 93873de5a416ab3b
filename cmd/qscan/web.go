package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/auth"
	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/peer"
	"github.com/qscan/qscan/pkg/quarantine"
	"github.com/qscan/qscan/pkg/sendmail"
	"github.com/qscan/qscan/pkg/spam/rspamd"
	"github.com/qscan/qscan/pkg/spam/spamd"
	"github.com/qscan/qscan/pkg/store"
	"github.com/qscan/qscan/pkg/web"
)

// defaultWebListen is where `qscan web` listens when [web] listen is "".
const defaultWebListen = "127.0.0.1:8025"

// listsReload is how often a daemon re-reads the lists edited in the web
// desk (the desk itself reloads them at once after an edit).
const listsReload = 30 * time.Second

// verifyPassword checks a password against a stored hash (argon2id).
var verifyPassword = auth.Verify

// The store is what the web desk reads and writes.
var (
	_ web.Store      = (*store.Store)(nil)
	_ web.ListSource = (*store.Store)(nil)
	_ web.Learner    = (*spamd.Client)(nil)
	_ web.Learner    = (*rspamd.Client)(nil)
)

// newWebServer maps the configuration to the desk's options.
func newWebServer(c *config.Config, log logrus.FieldLogger, st *store.Store, ws web.Store, lists *web.Lists) (*web.Server, error) {
	var err error
	if verifyPassword == nil {
		return nil, errors.New("this build has no password check: the web desk cannot run")
	}
	host := logHost(c)
	o := web.Options{
		Store: ws, Quarantine: &quarantine.Quarantine{Dir: c.Quarantine.Dir, Index: quarIndex(c, st, nil)},
		Outgoing: c.Queue.Outgoing, OrgName: c.Headers.OrgName, Verify: verifyPassword, Lists: lists, Log: log,
		IDGen: sendmail.NewIDGen(time.Now, os.Getpid(), rand.IntN(3600)), Host: host,
		TLS: c.Web.TLSCert != "", WorkDir: c.Queue.WorkDir, Incoming: c.Queue.Incoming,
		DigestKey: []byte(c.Web.DigestKey), DigestTTL: c.Web.DigestLinkTTL.D(),
	}
	if shared(c) && c.Store.PeerKey != "" {
		o.PeerKey = []byte(c.Store.PeerKey)
		if len(c.Web.Peers) > 0 {
			o.Peers = &peer.Client{Key: o.PeerKey, Self: host, Peers: c.Web.Peers}
		}
	}
	if o.Publish, err = releasePublish(c); err != nil {
		return nil, err
	}
	if c.SMTP.On() {
		// The filter has no outgoing queue: releases (the desk's and the
		// digest links') are re-injected, as `qscan quarantine release`
		// does (filter.go); there is nothing to kick, and the spool is
		// not a sendmail queue the dashboard could count. The client
		// lives as long as the desk (the process).
		if o.Publish, _, err = filterReleaser(c); err != nil {
			return nil, err
		}
		o.Incoming = nil
	}
	if o.Learner, err = webLearner(c.Spam); err != nil {
		return nil, err
	}
	if c.Queue.Kick && !c.SMTP.On() {
		o.Kick = func(id string) { quarKick(c.Queue, id) }
	}
	return web.New(o)
}

// learners teaches every engine in it, in order; the first error ends.
// The message is read again from its start for each (the desk passes the
// quarantined file).
type learners []web.Learner

func (ls learners) Learn(ctx context.Context, spam bool, msg io.Reader) error {
	rs, seek := msg.(io.ReadSeeker)
	if len(ls) > 1 && !seek {
		return errors.New("learn: the message cannot be read once per engine")
	}
	for i, l := range ls {
		if i > 0 {
			if _, err := rs.Seek(0, io.SeekStart); err != nil {
				return fmt.Errorf("learn: %w", err)
			}
		}
		if err := l.Learn(ctx, spam, msg); err != nil {
			return err
		}
	}
	return nil
}

// webLearner returns what the desk's learn buttons teach: every spamd of
// [spam.spamd] (TELL; each may keep its own Bayes database) and rspamd's
// controller, for the engines of [spam] engines; nil (no buttons) when
// neither is one.
func webLearner(c config.Spam) (web.Learner, error) {
	var ls learners
	for _, e := range c.Engines {
		switch e {
		case "spamd":
			cls, err := spamdClients(c)
			if err != nil {
				return nil, err
			}
			for _, cl := range cls {
				ls = append(ls, cl)
			}
		case "rspamd":
			cl, err := rspamdClient(c)
			if err != nil {
				return nil, err
			}
			ls = append(ls, cl)
		}
	}
	if len(ls) == 0 {
		return nil, nil
	}
	return ls, nil
}

// serveWeb listens on addr (HTTPS when [web] has a certificate) and
// serves h until ctx ends.
func serveWeb(ctx context.Context, c config.Web, addr string, h http.Handler, log logrus.FieldLogger) error {
	if err := web.CheckListen(addr, c.TLSCert != ""); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("web listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	scheme := "http"
	if c.TLSCert != "" {
		scheme = "https"
	}
	log.Infof("web desk on %s://%s/", scheme, ln.Addr())
	if c.TLSCert != "" {
		err = srv.ServeTLS(ln, c.TLSCert, c.TLSKey)
	} else {
		err = srv.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// cmdWeb runs `qscan web`: the desk alone, beside (or without) a daemon.
func cmdWeb(args []string) int {
	fs := newFlagSet("web")
	cfgPath := fs.String("c", "", "configuration file")
	listen := fs.String("listen", "", "address to listen on (default [web] listen, or "+defaultWebListen+")")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return exitUsage
	}
	c, log, code := configAndLog(*cfgPath)
	if code != exitOK {
		return code
	}
	addr := *listen
	if addr == "" {
		addr = c.Web.Listen
	}
	if addr == "" {
		addr = defaultWebListen
	}
	st, err := store.Open(c.Store.Path)
	if err != nil {
		log.Error(err)
		return exitFail
	}
	defer st.Close()
	desk, err := openDesk(c, st)
	if err != nil {
		log.Error(err)
		return exitFail
	}
	if desk != sharedStore(st) {
		defer desk.Close()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	lists := &web.Lists{Source: desk, Log: log}
	go lists.Run(ctx, listsReload)
	srv, err := newWebServer(c, log, st, desk, lists)
	if err != nil {
		log.Error(err)
		return exitFail
	}
	if err := serveWeb(ctx, c.Web, addr, srv, log); err != nil {
		log.Error(err)
		return exitFail
	}
	return exitOK
}

// daemonLists returns the web desk's lists for the daemon's spam check,
// reloaded periodically until ctx ends; nil when the store keeps none.
func daemonLists(ctx context.Context, st web.ListSource, log logrus.FieldLogger) *web.Lists {
	l := &web.Lists{Source: st, Log: log}
	go l.Run(ctx, listsReload)
	return l
}

// withLists makes the web desk's lists part of the spam check: its
// whitelist as definitely not spam, its blacklist as definitely spam,
// each after the configuration's own setting.
func withLists(notSpam, isSpam func(*message.Message) bool, l *web.Lists) (func(*message.Message) bool, func(*message.Message) bool) {
	if l == nil {
		return notSpam, isSpam
	}
	ns := func(m *message.Message) bool {
		return notSpam != nil && notSpam(m) || l.Whitelisted(m.Envelope.Sender, m.Envelope.ClientIP)
	}
	is := func(m *message.Message) bool {
		return isSpam != nil && isSpam(m) || l.Blacklisted(m.Envelope.Sender, m.Envelope.ClientIP)
	}
	return ns, is
}
