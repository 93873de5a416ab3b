// Package builtin is qscan's own virus engine: it finds the EICAR test string
// and content listed in ClamAV hash databases (.hdb, .hsb). It exists so that
// the demo and a fresh checkout scan something with no daemon installed;
// production uses clamd.
package builtin

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qscan/qscan/pkg/virus"
)

// Name is the engine name builtin results and errors carry.
const Name = "builtin"

// EICARName is the name reported for the EICAR test string, ClamAV's.
const EICARName = "Eicar-Test-Signature"

// eicar is the 68-byte EICAR test string. The EICAR specification calls a
// file that starts with it (followed by at most whitespace, 128 bytes in
// all) a test virus; since qscan scans decoded parts and archive members,
// it is looked for anywhere in the content, which covers those files too
// (ClamAV's body signature does the same).
var eicar = []byte(virus.EICAR)

// DefaultReloadInterval is how often MaybeReload looks at the signature files.
const DefaultReloadInterval = time.Minute

// Options configures an Engine ([virus.builtin] in qscan.toml).
type Options struct {
	// Signatures is a directory of ClamAV .hdb (MD5) and .hsb (SHA1,
	// SHA256) files; other files are ignored. Empty: EICAR only.
	Signatures string `toml:"signatures"`
	// ReloadInterval is the least time between two checks of the files by
	// MaybeReload; default 1 minute.
	ReloadInterval time.Duration `toml:"reload_interval"`
}

// Engine scans content for EICAR and hash signatures. It is safe for
// concurrent use; reloads swap the signature set atomically.
type Engine struct {
	opts Options
	db   atomic.Pointer[DB]

	mu        sync.Mutex // serialises reloads
	snap      map[string]fileStamp
	lastCheck time.Time
}

var _ virus.Scanner = (*Engine)(nil)

type fileStamp struct {
	size  int64
	mtime time.Time
}

// New loads the signatures. When some lines are malformed it returns a
// usable engine together with an error listing them (errors.Is(err,
// ErrMalformed)); on any other error the engine is nil.
func New(opts Options) (*Engine, error) {
	if opts.ReloadInterval < 0 {
		return nil, fmt.Errorf("builtin options: negative reload_interval %v", opts.ReloadInterval)
	}
	if opts.ReloadInterval == 0 {
		opts.ReloadInterval = DefaultReloadInterval
	}
	e := &Engine{opts: opts}
	e.db.Store(&DB{})
	if opts.Signatures == "" {
		return e, nil
	}
	if _, err := e.Reload(); err != nil {
		if errors.Is(err, ErrMalformed) {
			return e, err
		}
		return nil, err
	}
	return e, nil
}

// Signatures returns the number of hash signatures loaded.
func (e *Engine) Signatures() int { return e.db.Load().Len() }

// Reload reads the signature files again if any was added, removed or
// changed (size or modification time) since the last load. changed tells
// whether a new set is in use. An error wrapping ErrMalformed lists skipped
// lines of a set that is in use nonetheless; any other error leaves the old
// set in place.
func (e *Engine) Reload() (changed bool, err error) {
	if e.opts.Signatures == "" {
		return false, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	snap, err := stamps(e.opts.Signatures)
	if err != nil {
		return false, err
	}
	if e.snap != nil && sameStamps(snap, e.snap) {
		return false, nil
	}
	db, err := Load(e.opts.Signatures)
	if db == nil {
		return false, err
	}
	e.db.Store(db)
	e.snap = snap
	return true, err
}

// MaybeReload calls Reload if ReloadInterval has passed since the last call
// that did; the caller passes the time (the pipeline's clock), between
// batches.
func (e *Engine) MaybeReload(now time.Time) (changed bool, err error) {
	e.mu.Lock()
	due := e.lastCheck.IsZero() || now.Sub(e.lastCheck) >= e.opts.ReloadInterval || now.Before(e.lastCheck)
	if due {
		e.lastCheck = now
	}
	e.mu.Unlock()
	if !due {
		return false, nil
	}
	return e.Reload()
}

func stamps(dir string) (map[string]fileStamp, error) {
	files, err := sigFiles(dir)
	if err != nil {
		return nil, err
	}
	snap := make(map[string]fileStamp, len(files))
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return nil, fmt.Errorf("builtin signatures: %w", err)
		}
		snap[f] = fileStamp{fi.Size(), fi.ModTime()}
	}
	return snap, nil
}

func sameStamps(a, b map[string]fileStamp) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w.size != v.size || !w.mtime.Equal(v.mtime) {
			return false
		}
	}
	return true
}

// Scan reads r to the end, looking for EICAR and hashing it for the
// signature lookup. Only read errors and ctx fail it.
func (e *Engine) Scan(ctx context.Context, r io.Reader) (virus.Result, error) {
	res := virus.Result{Engine: Name}
	db := e.db.Load()
	hashers := map[Algo]hash.Hash{}
	for algo, newHash := range map[Algo]func() hash.Hash{MD5: md5.New, SHA1: sha1.New, SHA256: sha256.New} {
		if db.Needs(algo) {
			hashers[algo] = newHash()
		}
	}
	var (
		buf  = make([]byte, 64<<10)
		find eicarFinder
		size int64
	)
	for {
		if err := ctx.Err(); err != nil {
			return res, virus.Errorf(Name, "scan: %w", err)
		}
		n, err := r.Read(buf)
		find.Write(buf[:n])
		for _, h := range hashers {
			h.Write(buf[:n])
		}
		size += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return res, virus.Errorf(Name, "scan: read content: %w", err)
		}
	}
	if find.found {
		res.Findings = append(res.Findings, virus.NewFinding(Name, EICARName))
	}
	for _, algo := range []Algo{MD5, SHA1, SHA256} {
		if h := hashers[algo]; h != nil {
			if name, ok := db.Lookup(algo, size, h.Sum(nil)); ok {
				res.Findings = append(res.Findings, virus.NewFinding(Name, name))
			}
		}
	}
	return res, nil
}

// eicarFinder looks for the EICAR string in a stream written in pieces.
type eicarFinder struct {
	carry []byte // the last len(eicar)-1 bytes seen, for a match across writes
	found bool
}

func (f *eicarFinder) Write(p []byte) {
	if f.found || len(p) == 0 {
		return
	}
	k := len(eicar) - 1
	edge := append(f.carry, p[:min(len(p), k)]...)
	f.found = bytes.Contains(edge, eicar) || bytes.Contains(p, eicar)
	if len(p) >= k {
		f.carry = append(f.carry[:0], p[len(p)-k:]...)
	} else {
		f.carry = append(f.carry[:0], edge[max(0, len(edge)-k):]...)
	}
}
