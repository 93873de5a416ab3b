package htmlsafe

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// MaxSiteFileBytes bounds one site list file.
const MaxSiteFileBytes = 16 << 20

// Sites are the phishing net's safe and bad site lists, in MailScanner's
// phishing.safe.sites.conf / phishing.bad.sites.conf format: one host
// name or IP address a line, "*.example.com" for a domain and its
// sub-domains, "#" comments. A link to a safe site is never flagged; a
// link to a bad site always is. Reload reads the files again; Sites is
// safe for concurrent use.
type Sites struct {
	safeFiles, badFiles []string
	mu                  sync.RWMutex
	safe, bad           siteSet

	// Refresh's state: the files as they were read, when they were last
	// looked at, and how often to look.
	rmu     sync.Mutex
	stamps  []fileStamp
	checked time.Time
	every   time.Duration
}

// fileStamp is what Refresh compares to tell a changed file.
type fileStamp struct {
	size    int64
	modTime time.Time
	missing bool
}

// DefaultRefresh is how often Refresh looks at the files by default.
const DefaultRefresh = time.Minute

// siteSet holds exact names and wildcard domains.
type siteSet struct {
	exact, wild map[string]bool
}

// LoadSites reads the safe and the bad list files.
func LoadSites(safeFiles, badFiles []string) (*Sites, error) {
	s := &Sites{safeFiles: safeFiles, badFiles: badFiles}
	return s, s.Reload()
}

// NewSites makes lists from entries in memory (tests, rulesets).
func NewSites(safe, bad []string) *Sites {
	s := &Sites{}
	s.safe, s.bad = newSet(), newSet()
	for _, e := range safe {
		s.safe.add(e)
	}
	for _, e := range bad {
		s.bad.add(e)
	}
	return s
}

// Reload reads the files again. On an error the lists stay as they were.
func (s *Sites) Reload() error {
	stamps := s.stat() // before reading: a change while reading is seen next time
	safe, err := readSets(s.safeFiles)
	if err != nil {
		return err
	}
	bad, err := readSets(s.badFiles)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.safe, s.bad = safe, bad
	s.mu.Unlock()
	s.rmu.Lock()
	s.stamps = stamps
	s.rmu.Unlock()
	return nil
}

// SetRefresh sets how often Refresh looks at the files (DefaultRefresh
// when every is 0; a negative every turns Refresh off).
func (s *Sites) SetRefresh(every time.Duration) {
	s.rmu.Lock()
	s.every = every
	s.rmu.Unlock()
}

// Refresh reloads the lists when one of their files changed (size or
// modification time, or it appeared or went away), looking at the files
// at most once per refresh interval: a cheap call for the check path,
// with now the caller's clock. It reports whether it reloaded; on an
// error the lists stay as they were, and the files are read again at the
// next look.
func (s *Sites) Refresh(now time.Time) (bool, error) {
	if s == nil || len(s.safeFiles)+len(s.badFiles) == 0 {
		return false, nil
	}
	s.rmu.Lock()
	every := s.every
	if every == 0 {
		every = DefaultRefresh
	}
	// A clock that went back counts as time passed.
	if d := now.Sub(s.checked); every < 0 || (!s.checked.IsZero() && d >= 0 && d < every) {
		s.rmu.Unlock()
		return false, nil
	}
	s.checked = now
	old := s.stamps
	s.rmu.Unlock()
	cur := s.stat()
	if equalStamps(old, cur) {
		return false, nil
	}
	if err := s.Reload(); err != nil {
		s.rmu.Lock()
		s.stamps = nil // read again next time
		s.rmu.Unlock()
		return false, err
	}
	return true, nil
}

// stat stamps every file, safe ones first.
func (s *Sites) stat() []fileStamp {
	var out []fileStamp
	for _, f := range append(append([]string{}, s.safeFiles...), s.badFiles...) {
		fi, err := os.Stat(f)
		if err != nil {
			out = append(out, fileStamp{missing: true})
			continue
		}
		out = append(out, fileStamp{size: fi.Size(), modTime: fi.ModTime()})
	}
	return out
}

func equalStamps(a, b []fileStamp) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].size != b[i].size || a[i].missing != b[i].missing || !a[i].modTime.Equal(b[i].modTime) {
			return false
		}
	}
	return true
}

// Len returns the number of safe and bad entries.
func (s *Sites) Len() (safe, bad int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.safe.exact) + len(s.safe.wild), len(s.bad.exact) + len(s.bad.wild)
}

// Safe and Bad tell whether host (lower case, ASCII) is listed.
func (s *Sites) Safe(host string) bool { return s != nil && s.match(host, false) }

// Bad reports whether host is on the bad list.
func (s *Sites) Bad(host string) bool { return s != nil && s.match(host, true) }

func (s *Sites) match(host string, bad bool) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	set := s.safe
	if bad {
		set = s.bad
	}
	return set.has(host)
}

func newSet() siteSet { return siteSet{exact: map[string]bool{}, wild: map[string]bool{}} }

func (st siteSet) add(e string) {
	e = strings.ToLower(strings.TrimSpace(e))
	e = strings.TrimSuffix(e, ".")
	switch {
	case e == "" || strings.HasPrefix(e, "#"):
	case strings.HasPrefix(e, "*."):
		st.wild[e[2:]] = true
	default:
		st.exact[e] = true
	}
}

func (st siteSet) has(host string) bool {
	if st.exact == nil {
		return false
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if st.exact[host] {
		return true
	}
	for h, n := host, 0; h != "" && n < 128; n++ {
		if st.wild[h] {
			return true
		}
		i := strings.IndexByte(h, '.')
		if i < 0 {
			break
		}
		h = h[i+1:]
	}
	return false
}

func readSets(files []string) (siteSet, error) {
	st := newSet()
	for _, f := range files {
		b, err := readBounded(f)
		if err != nil {
			return st, err
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 4096), 64<<10)
		for sc.Scan() {
			line := sc.Text()
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = line[:i]
			}
			for _, w := range strings.Fields(line) {
				st.add(w)
			}
		}
		if err := sc.Err(); err != nil {
			return st, fmt.Errorf("phishing sites %s: %w", f, err)
		}
	}
	return st, nil
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("phishing sites: %w", err)
	}
	defer f.Close()
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(f, MaxSiteFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("phishing sites %s: %w", path, err)
	}
	if n > MaxSiteFileBytes {
		return nil, fmt.Errorf("phishing sites %s: larger than %d bytes", path, MaxSiteFileBytes)
	}
	return buf.Bytes(), nil
}
