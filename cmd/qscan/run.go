package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"reflect"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/health"
	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/metrics"
	"github.com/qscan/qscan/pkg/pipeline"
	"github.com/qscan/qscan/pkg/quarantine"
	"github.com/qscan/qscan/pkg/spamcheck"
	"github.com/qscan/qscan/pkg/store"
	"github.com/qscan/qscan/pkg/store/pgstore"
	"github.com/qscan/qscan/pkg/virus"
	"github.com/qscan/qscan/pkg/watch"
	"github.com/qscan/qscan/pkg/web"
)

func cmdRun(args []string) int {
	fs := newFlagSet("run")
	cfgPath := fs.String("c", "", "configuration file")
	once := fs.Bool("once", false, "process until the incoming queue is empty, then exit")
	cpuProfile := fs.String("cpuprofile", "", "write a Go CPU profile to this file (for performance work)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	c, log, code := configAndLog(*cfgPath)
	if code != exitOK {
		return code
	}
	if as, err := health.BecomeOwner(c.Queue.WorkDir); err != nil {
		log.Error(err)
		return exitFail
	} else if as != "" {
		log.Infof("started by root: running as user %s, the owner of %s", as, c.Queue.WorkDir)
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			log.Error(err)
			return exitFail
		}
		defer stop()
	}
	if !*once {
		if err := health.WritePidFile(c.Queue.PidFile); err != nil {
			log.Error(err)
			return exitFail
		}
		defer os.Remove(c.Queue.PidFile)
	}
	st, err := store.Open(c.Store.Path)
	if err != nil {
		log.Error(err)
		return exitFail
	}
	defer st.Close()
	if *once {
		e := &env{log: log, store: st, watch: &virus.Watch{Log: log}}
		if err := e.openShared(c, false); err != nil {
			log.Error(err)
			return exitFail
		}
		defer e.closeShared()
		return runOnce(c, e)
	}
	e, err := newEnv(c, log, st)
	if err != nil {
		log.Error(err)
		return exitFail
	}
	defer e.closeShared()
	return daemon(*cfgPath, c, e)
}

// env is what outlives a configuration reload.
type env struct {
	log     *logrus.Logger
	store   *store.Store
	metrics *metrics.Metrics // nil when off
	watch   *virus.Watch
	status  *health.Reporter // nil with --once
	lists   *web.Lists       // the web desk's lists; nil when the store keeps none
	desk    sharedStore      // the message log, desk and lists: store itself, or PostgreSQL
	shipper *pgstore.Shipper // sends the outbox to PostgreSQL; nil with SQLite
	stop    func()           // ends the shipper
	// spam is this generation's spam stage when [spam] hold_on_failure
	// holds mail while an engine is down: the SMTP filter then refuses
	// new mail too, and probes the engine.
	spam atomic.Pointer[spamcheck.Stage]
}

// openShared opens the store of [store] driver; with PostgreSQL, the
// shipper runs (run) or is only made (--once ships at the end).
func (e *env) openShared(c *config.Config, run bool) error {
	e.desk, e.stop = e.store, func() {}
	if !shared(c) {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	sh, pg, err := startShipper(ctx, c, e.store, e.log, run)
	if err != nil {
		cancel()
		return err
	}
	e.desk, e.shipper, e.stop = pg, sh, func() { cancel(); pg.Close() }
	return nil
}

func (e *env) closeShared() {
	if e.stop != nil {
		e.stop()
	}
}

// logSink is where the pipeline writes the message log: the store, or
// the outbox.
func (e *env) logSink() pipeline.LogSink {
	if e.shipper == nil {
		return e.store
	}
	return &store.LogOutbox{S: e.store, Wake: e.shipper.Wake}
}

// wake tells the shipper that the outbox has new rows.
func (e *env) wake() {
	if e.shipper != nil {
		e.shipper.Wake()
	}
}

func newEnv(c *config.Config, log *logrus.Logger, st *store.Store) (*env, error) {
	e := &env{log: log, store: st, watch: &virus.Watch{Log: log}}
	if err := e.openShared(c, true); err != nil {
		return nil, err
	}
	e.status = health.NewReporter(c.Queue.WorkDir, health.Status{PID: os.Getpid(), Version: version, Started: time.Now()}, health.ReporterOptions{})
	e.watch.Status = func(name string, up bool, msg string, since time.Time) { e.status.SetEngine(name, up, msg, since) }
	if c.Metrics.Listen != "" {
		dirs := append([]string(nil), c.Queue.Incoming...)
		m, err := queueMTA(c, time.Now)
		if err != nil {
			return nil, err
		}
		stats := func() (int, time.Duration) { return queueStats(m, dirs, time.Now()) }
		if c.SMTP.On() {
			dir := c.SMTP.Spool
			stats = func() (int, time.Duration) { return spoolStats(dir) }
		}
		e.metrics = metrics.New(stats)
		if _, err := e.metrics.Serve(c.Metrics.Listen); err != nil {
			return nil, fmt.Errorf("metrics listen %s: %w", c.Metrics.Listen, err)
		}
		e.watch.Metrics = e.metrics.Engine
		if e.shipper != nil {
			e.metrics.Outbox(func() (int64, time.Duration) {
				lag, _ := st.OutboxLag(context.Background())
				return lag.Rows, lag.Age(time.Now())
			})
		}
		log.Infof("metrics on http://%s/metrics", c.Metrics.Listen)
	}
	e.lists = daemonLists(context.Background(), e.desk, log)
	if c.Web.Listen != "" {
		srv, err := newWebServer(c, log, st, e.desk, e.lists)
		if err != nil {
			return nil, fmt.Errorf("web listen %s: %w", c.Web.Listen, err)
		}
		if err := web.CheckListen(c.Web.Listen, c.Web.TLSCert != ""); err != nil {
			return nil, err
		}
		go func() {
			if err := serveWeb(context.Background(), c.Web, c.Web.Listen, srv, log); err != nil {
				log.WithError(err).Error("web desk stopped")
			}
		}()
	}
	return e, nil
}

// newPipeline builds the pipeline for one configuration (and runs
// recovery).
func newPipeline(c *config.Config, e *env) (*pipeline.Pipeline, error) {
	log, st := e.log, e.store
	var sp *spamcheck.Stage
	stages, err := buildStagesWatched(c, e.watch, e.lists, &sp)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.Quarantine.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("quarantine dir: %w", err)
	}
	if c.SMTP.On() {
		if err := os.MkdirAll(c.SMTP.Spool, 0o700); err != nil {
			return nil, fmt.Errorf("smtp.spool: %w", err)
		}
	}
	if !c.Spam.HoldOnFailure {
		sp = nil // a spam engine down holds nothing: no back-pressure
	}
	e.spam.Store(sp)
	q := pipeline.QuarantineStore(&quarantine.Quarantine{Dir: c.Quarantine.Dir, Index: quarIndex(c, st, e.wake)}, log)
	o, err := pipelineOptions(c, log)
	if err != nil {
		return nil, err
	}
	var obs pipeline.Observer = pipeline.NopObserver{}
	if e.metrics != nil {
		obs = e.metrics
	}
	if e.status != nil {
		obs = pipeline.WithStatus(obs, e.status)
	}
	o.Observer = obs
	o.LogSink, o.Host = e.logSink(), logHost(c)
	return pipeline.New(o, log, st, q, stages, time.Now)
}

func runOnce(c *config.Config, e *env) int {
	log := e.log
	p, err := newPipeline(c, e)
	if err != nil {
		log.Error(err)
		return exitFail
	}
	defer p.Close()
	held, err := p.Drain(context.Background())
	if e.shipper != nil {
		flushOutbox(e.shipper, e.store, onceFlush, log)
	}
	if err != nil {
		log.Error(err)
		return exitFail
	}
	// What is still queued was not finished: held back for a retry,
	// locked, still being written, or unreadable and not yet set aside.
	if left := p.Left(); len(left) > 0 {
		log.WithFields(logrus.Fields{"left": len(left), "held": held}).
			Warnf("%d messages left in the incoming queues (%d held back for a retry): %s", len(left), held, shortList(left, 20))
		return exitTempFail
	}
	if held > 0 {
		log.Warnf("%d messages held back for a retry", held)
		return exitTempFail
	}
	return exitOK
}

// daemon runs until SIGTERM/SIGINT. SIGHUP reloads the configuration
// between batches; a configuration with errors is rejected and the
// running one kept.
func daemon(cfgPath string, c *config.Config, e *env) int {
	log := e.log
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	if c.SMTP.On() {
		log.WithField("version", version).Infof("qscan starting: SMTP content filter %s -> %s", strings.Join(c.SMTP.Listen, ","), c.SMTP.Reinject)
	} else {
		log.WithField("version", version).Infof("qscan starting: %s -> %s", strings.Join(c.Queue.Incoming, ","), c.Queue.Outgoing)
	}
	for {
		reload, err := generation(c, e, sigs)
		if err != nil {
			log.Error(err)
			return exitFail
		}
		if !reload {
			log.Info("qscan stopped")
			return exitOK
		}
		nc, err := loadConfig(cfgPath)
		if err != nil {
			log.Errorf("reload rejected, keeping the running configuration:\n%v", err)
			continue
		}
		if !reflect.DeepEqual(nc.Web, c.Web) || nc.Store.Driver != c.Store.Driver || nc.Store.DSN != c.Store.DSN {
			log.Warn("[web] or the shared store changed: takes effect at the next restart")
		}
		if nc.Metrics.Listen != c.Metrics.Listen {
			log.Warnf("metrics.listen changed to %q: takes effect at the next restart", nc.Metrics.Listen)
		}
		c = nc
		log.Info("configuration reloaded")
	}
}

// generation runs the pipeline with one configuration until a signal
// arrives. It reports whether the signal asked for a reload.
func generation(c *config.Config, e *env, sigs <-chan os.Signal) (bool, error) {
	log := e.log
	p, err := newPipeline(c, e)
	if err != nil {
		return false, err
	}
	defer p.Close()
	mta, incoming := p.Queues()
	_, match := mta.Watch(incoming[0])
	w, err := watch.NewFor(incoming, c.Queue.RescanInterval.D(), log, watch.Pattern{
		Dirs: func(d string) []string { ds, _ := mta.Watch(d); return ds }, Match: match})
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if c.SMTP.On() {
		f, err := startFrontEnd(c, e, w.Poke)
		if err != nil {
			return false, err
		}
		defer f.stop(log)
		go f.report(ctx, e)
	}
	// A virus engine found back (by a scan or the background probe) has
	// the mail it held retried now, not at each message's retry time.
	e.watch.SetGeneration(ctx, func() {
		if n := p.RetryHeld(); n > 0 {
			log.Infof("%d held messages retried now", n)
			w.Poke()
		}
	})
	defer e.watch.EndGeneration()
	go w.Run(ctx)
	go e.status.Heartbeat(ctx, e.log)
	go purgeLog(ctx, e.desk, c.Store.LogRetention.D(), logPurgeFirst, log)
	errc := make(chan error, 1)
	go func() { errc <- p.Run(ctx, w.C(), w.Poke) }()
	select {
	case err := <-errc:
		return false, err
	case s := <-sigs:
		log.Infof("%s received, finishing the batches in progress", s)
		cancel()
		if err := <-errc; err != nil {
			return false, err
		}
		return s == syscall.SIGHUP, nil
	}
}

func pipelineOptions(c *config.Config, log logrus.FieldLogger) (pipeline.Options, error) {
	o := pipeline.Options{
		Incoming:       c.Queue.Incoming,
		Outgoing:       c.Queue.Outgoing,
		WorkDir:        c.Queue.WorkDir,
		MaxMessages:    c.Batch.MaxMessages,
		MaxBytes:       int64(c.Batch.MaxBytes),
		MaxAttempts:    c.Batch.MaxAttempts,
		Workers:        c.Batch.Workers,
		MessageTimeout: c.Batch.MessageTimeout.D(),
		RetryMin:       c.Batch.RetryMin.D(),
		RetryMax:       c.Batch.RetryMax.D(),
		Headers: pipeline.Headers{
			OrgName: c.Headers.OrgName, Clean: c.Headers.Clean, AddFrom: c.Headers.AddFrom,
			AddTo: c.Headers.AddTo, AddID: c.Headers.AddID, AtTop: c.Headers.PlaceAtTop,
			SubjectTags: map[message.ReportKind]string{message.KindVirus: c.Headers.VirusSubjectTag,
				message.KindFilename: c.Headers.FilenameSubjectTag, message.KindFiletype: c.Headers.FilenameSubjectTag,
				message.KindSize: c.Headers.SizeSubjectTag, message.KindContent: c.Headers.ContentSubjectTag,
				message.KindError: c.Headers.ContentSubjectTag, message.KindPhishing: c.Phishing.SubjectTag},
			Remove: removeHeaders(c.Headers.Remove.Setting),
		},
	}
	n, err := newNotifier(c)
	if err != nil {
		return o, err
	}
	o.Notifier = n
	o.Checker = checkerOptions(c, log, n)
	if o.MTA, err = queueMTA(c, time.Now); err != nil {
		return o, err
	}
	if c.Queue.Kick {
		o.Kick = queueKicker(c.Queue)
	}
	if c.SMTP.On() {
		if err := filterOptions(c, &o, log); err != nil {
			return o, err
		}
	}
	return o, nil
}

// startCPUProfile profiles until the returned function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
