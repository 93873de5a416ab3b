// Package command runs a command-line virus scanner over a directory: a
// program speaking MailScanner's generic-wrapper contract, or clamscan /
// clamdscan through presets that read their native output.
//
// The program gets an argument vector (never a shell) ending with the
// directory, runs in its own process group, and is killed with the whole
// group when the timeout passes. Files in the directory must have names we
// generated: nothing from a message reaches the command line.
package command

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Defaults for Options.
const (
	DefaultTimeout   = 300 * time.Second // MailScanner's Virus Scanner Timeout
	DefaultMaxOutput = 1 << 20
	DefaultMaxStream = 25 << 20
	// waitDelay bounds how long, after a kill, we wait for the output pipe to
	// be closed by processes that left the group.
	waitDelay = 2 * time.Second
	// maxLine bounds one output line: a path we generated plus a virus name
	// never come close.
	maxLine = 8 << 10
)

// Presets.
const (
	Generic   = ""
	ClamScan  = "clamscan"
	ClamdScan = "clamdscan"
)

// Options configures an Engine ([virus.command] in qscan.toml).
type Options struct {
	// Preset selects the output format and default program: "clamscan",
	// "clamdscan", or "" for a generic wrapper (Path required).
	Preset string `toml:"preset"`
	// Path is the program; default /usr/bin/clamscan or /usr/bin/clamdscan
	// for the presets.
	Path string `toml:"path"`
	// Args are extra arguments, placed after the preset's own and before the
	// directory (e.g. ["-d", "/var/lib/clamav"] or ["--config-file=..."]).
	Args []string `toml:"args"`
	// Timeout bounds one run; default 300 s.
	Timeout time.Duration `toml:"timeout"`
	// MaxOutput bounds the bytes of standard output read; more is an error.
	// Default 1 MiB.
	MaxOutput int64 `toml:"max_output"`
	// WorkDir is where Scan writes content to a temporary directory; default
	// os.TempDir(). It must be readable by the scanner (clamdscan without
	// --fdpass: by clamd).
	WorkDir string `toml:"work_dir"`
	// MaxStream bounds the content Scan writes out; larger content gives a
	// Result with LimitExceeded. Default 25 MiB.
	MaxStream int64 `toml:"max_stream"`
}

// Engine runs one configured scanner. It is safe for concurrent use; each
// call runs its own process.
type Engine struct {
	name string   // engine name in results: the preset, or the program's base name
	argv []string // program and fixed arguments; the directory is appended
	clam bool     // parse clamscan output and exit codes
	opts Options
}

// New checks opts and returns an engine. It does not run the program.
func New(opts Options) (*Engine, error) {
	if opts.Timeout < 0 || opts.MaxOutput < 0 || opts.MaxStream < 0 {
		return nil, fmt.Errorf("command options: negative limit in %+v", opts)
	}
	opts.Timeout = cmpOr(opts.Timeout, DefaultTimeout)
	opts.MaxOutput = cmpOr(opts.MaxOutput, DefaultMaxOutput)
	opts.MaxStream = cmpOr(opts.MaxStream, DefaultMaxStream)
	if opts.WorkDir == "" {
		opts.WorkDir = os.TempDir()
	}
	e := &Engine{opts: opts, name: opts.Preset}
	var fixed []string
	switch opts.Preset {
	case ClamScan:
		e.clam = true
		fixed = []string{"--no-summary", "--stdout", "--recursive"}
	case ClamdScan:
		e.clam = true
		fixed = []string{"--no-summary"}
		// Pass open descriptors so that clamd needs no access to our work
		// dir (MailScanner's top support issue), unless told otherwise.
		if !slices.Contains(opts.Args, "--stream") && !slices.Contains(opts.Args, "--fdpass") {
			fixed = append(fixed, "--fdpass")
		}
	case Generic:
		if opts.Path == "" {
			return nil, fmt.Errorf("command options: path is required without a preset")
		}
		e.name = filepath.Base(opts.Path)
	default:
		return nil, fmt.Errorf("command options: unknown preset %q (want clamscan, clamdscan or empty)", opts.Preset)
	}
	if opts.Path == "" {
		opts.Path = "/usr/bin/" + opts.Preset
		e.opts.Path = opts.Path
	}
	if !filepath.IsAbs(opts.Path) {
		return nil, fmt.Errorf("command options: path %q must be absolute", opts.Path)
	}
	e.argv = append(append([]string{opts.Path}, fixed...), opts.Args...)
	return e, nil
}

// Name returns the engine name results carry.
func (e *Engine) Name() string { return e.name }

func cmpOr[T int64 | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}
