package health

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Kind classifies a Problem, so that the caller can decide what to do
// (restart the daemon only when it is not running or stuck).
type Kind string

const (
	KindNotRunning Kind = "not-running" // no daemon behind the pid file
	KindStuck      Kind = "stuck"       // alive but not updating its status, or a batch that never ends
	KindStatus     Kind = "status"      // status file missing or unreadable
	KindEngine     Kind = "engine"      // a scanning engine down too long
	KindQueue      Kind = "queue"       // mail waiting too long, or too much of it
	KindDisk       Kind = "disk"        // a filesystem nearly full
	KindRefusing   Kind = "refusing"    // the SMTP filter answers 451 (back-pressure)
)

// Problem is one finding of Check.
type Problem struct {
	Kind Kind
	PID  int    // the daemon's pid, for KindStuck (so it can be stopped)
	Text string // one line for the operator
}

func (p Problem) String() string { return p.Text }

// Options say what Check looks at and what counts as a problem. Zero
// values take the documented defaults.
type Options struct {
	PidFile   string   // the daemon's pid file; "" skips the liveness checks
	StatusDir string   // directory of status.json (the work dir); "" skips the status checks
	Incoming  []string // incoming queue directories
	// OffFile, when it exists, says that the daemon is stopped on purpose
	// (MailScanner's MailScanner.off): no liveness, status or engine
	// problems are reported, and nothing is restarted. "" means none.
	OffFile string
	// ProcName must appear in the base name of the daemon's argv[0]
	// (/proc/PID/cmdline), and ProcArg must be its argv[1], so that a
	// stale pid now used by another program (or by another qscan command,
	// such as a purge started by cron) counts as not running. Defaults
	// "qscan" and "run".
	ProcName string
	ProcArg  string

	// QueueLayout says, for an incoming queue dir, which directories hold
	// its messages' control files and which names are such files (and
	// the ID they name). nil: sendmail's (qf<ID> in the dir or its qf/).
	QueueLayout func(dir string) (dirs []string, id func(name string) (string, bool))

	QueueMaxAge    time.Duration                                           // oldest incoming message allowed; default 30m
	MaxQueueFiles  int                                                     // qf files looked at per queue dir; more is reported; default 100000
	EngineDownMax  time.Duration                                           // an engine down longer is a problem; default 10m
	StatusMaxAge   time.Duration                                           // status older than this with the daemon alive = stuck; default 5m
	BatchMaxAge    time.Duration                                           // a batch running longer = stuck; default 30m
	Filesystems    []string                                                // paths whose filesystems are checked (work dir, queues, quarantine)
	MinFreePercent float64                                                 // default 5; negative disables
	MinFreeBytes   uint64                                                  // default 500 MB (500<<20)
	Statfs         func(path string) (free, total uint64, err error)       // default: statfs(2), space for non-root users
	ProcessInfo    func(pid int) (alive bool, cmdline []string, err error) // default: kill(pid, 0) and /proc/PID/cmdline
}

// Defaults of Options.
const (
	DefaultQueueMaxAge    = 30 * time.Minute
	DefaultMaxQueueFiles  = 100000
	DefaultEngineDownMax  = 10 * time.Minute
	DefaultStatusMaxAge   = 5 * time.Minute
	DefaultBatchMaxAge    = 30 * time.Minute
	DefaultMinFreePercent = 5
	DefaultMinFreeBytes   = 500 << 20
	DefaultProcName       = "qscan"
	DefaultProcArg        = "run"
)

func (o *Options) setDefaults() {
	if o.ProcName == "" {
		o.ProcName = DefaultProcName
	}
	if o.ProcArg == "" {
		o.ProcArg = DefaultProcArg
	}
	if o.QueueMaxAge <= 0 {
		o.QueueMaxAge = DefaultQueueMaxAge
	}
	if o.MaxQueueFiles <= 0 {
		o.MaxQueueFiles = DefaultMaxQueueFiles
	}
	if o.EngineDownMax <= 0 {
		o.EngineDownMax = DefaultEngineDownMax
	}
	if o.StatusMaxAge <= 0 {
		o.StatusMaxAge = DefaultStatusMaxAge
	}
	if o.BatchMaxAge <= 0 {
		o.BatchMaxAge = DefaultBatchMaxAge
	}
	if o.MinFreePercent == 0 {
		o.MinFreePercent = DefaultMinFreePercent
	}
	if o.MinFreeBytes == 0 {
		o.MinFreeBytes = DefaultMinFreeBytes
	}
	if o.Statfs == nil {
		o.Statfs = statfs
	}
	if o.ProcessInfo == nil {
		o.ProcessInfo = processInfo
	}
}

// Check looks at the daemon, its status file, the incoming queues and the
// filesystems as of now, and returns the problems found; none means
// healthy.
func Check(o Options, now time.Time) []Problem {
	o.setDefaults()
	var ps []Problem
	off := o.OffFile != "" && exists(o.OffFile)
	if !off && o.PidFile != "" {
		pid, p := checkDaemon(o)
		if p != nil {
			ps = append(ps, *p)
		} else if o.StatusDir != "" {
			ps = append(ps, checkStatus(o, pid, now)...)
		}
	}
	for _, dir := range o.Incoming {
		ps = append(ps, checkQueue(dir, o, now)...)
	}
	seen := map[string]bool{}
	for _, path := range o.Filesystems {
		if seen[path] {
			continue
		}
		seen[path] = true
		if p := checkFilesystem(path, o); p != nil {
			ps = append(ps, *p)
		}
	}
	return ps
}

// checkStatus reads the status of the running daemon pid.
func checkStatus(o Options, pid int, now time.Time) []Problem {
	st, err := ReadStatus(o.StatusDir)
	if err != nil {
		return []Problem{{Kind: KindStatus, PID: pid, Text: fmt.Sprintf("qscan (pid %d) status unknown: %v", pid, err)}}
	}
	var ps []Problem
	if age := now.Sub(st.Updated); age > o.StatusMaxAge {
		ps = append(ps, Problem{Kind: KindStuck, PID: pid, Text: fmt.Sprintf(
			"status not updated for %s (limit %s): daemon pid %d stuck?", dur(age), dur(o.StatusMaxAge), pid)})
	}
	if !st.BatchStarted.IsZero() {
		if age := now.Sub(st.BatchStarted); age > o.BatchMaxAge {
			ps = append(ps, Problem{Kind: KindStuck, PID: pid, Text: fmt.Sprintf(
				"batch running for %s (limit %s): daemon pid %d stuck?", dur(age), dur(o.BatchMaxAge), pid)})
		}
	}
	if st.Refusing != "" {
		ps = append(ps, Problem{Kind: KindRefusing, Text: fmt.Sprintf("SMTP filter refusing mail with 451 (the MTA keeps it queued), spool %d messages: %s",
			st.SpoolDepth, oneLine(st.Refusing))})
	}
	for _, name := range sortedKeys(st.Engines) {
		e := st.Engines[name]
		if e.Up {
			continue
		}
		if age := now.Sub(e.Since); age > o.EngineDownMax {
			text := fmt.Sprintf("engine %s down for %s (limit %s)", name, dur(age), dur(o.EngineDownMax))
			if e.LastError != "" {
				text += ": " + oneLine(e.LastError)
			}
			if st.Held > 0 {
				text += fmt.Sprintf(" (%d messages held)", st.Held)
			}
			ps = append(ps, Problem{Kind: KindEngine, Text: text})
		}
	}
	return ps
}

// checkFilesystem compares the free space of path's filesystem with the
// limits.
func checkFilesystem(path string, o Options) *Problem {
	free, total, err := o.Statfs(path)
	if err != nil {
		return &Problem{Kind: KindDisk, Text: fmt.Sprintf("filesystem %s: %v", path, err)}
	}
	if total == 0 {
		return nil // pseudo filesystems report no size
	}
	pct := float64(free) * 100 / float64(total)
	if o.MinFreePercent > 0 && pct < o.MinFreePercent {
		return &Problem{Kind: KindDisk, Text: fmt.Sprintf("filesystem %s: %.1f%% free (limit %g%%)", path, pct, o.MinFreePercent)}
	}
	if free < o.MinFreeBytes {
		return &Problem{Kind: KindDisk, Text: fmt.Sprintf("filesystem %s: %s free (limit %s)", path, size(free), size(o.MinFreeBytes))}
	}
	return nil
}

// statfs reports the space available to unprivileged users (what the
// daemon, running as user qscan, can use) and the filesystem's size.
func statfs(path string) (free, total uint64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, 0, fmt.Errorf("statfs: %w", err)
	}
	return st.Bavail * uint64(st.Bsize), st.Blocks * uint64(st.Bsize), nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil || !errors.Is(err, os.ErrNotExist)
}
