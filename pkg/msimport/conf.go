// Package msimport reads a MailScanner configuration (MailScanner.conf
// with its conf.d/ and include files, rulesets, spam.lists.conf, phishing
// lists and rule files) and turns it into a qscan configuration, saying
// for each option whether it was mapped, mapped with a changed meaning,
// or is not supported.
package msimport

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Bounds of what the reader takes in: a configuration is hand-written
// text, so anything beyond these is a mistake, not a configuration.
const (
	MaxFileBytes   = 4 << 20 // one MailScanner.conf, include or ruleset
	MaxLineBytes   = 64 << 10
	MaxIncludes    = 200 // files read in all
	MaxIncludeNest = 8
	maxVarExpand   = 64 << 10 // a value after %var% substitution
)

// ErrSyntax is wrapped by every error of a MailScanner.conf line.
var ErrSyntax = errors.New("msimport: syntax error")

// Option is one "Key = Value" line, after %var% substitution.
type Option struct {
	Key   string // as written ("Max Children")
	Norm  string // MailScanner's internal name: lower case, letters and digits only
	Value string
	File  string
	Line  int
}

// Line is one meaningful line of a MailScanner.conf file: an option, a
// %variable% definition, or an include.
type Line struct {
	Key, Value string
	Var        bool   // "%name% = value"
	Include    string // "include PATTERN"
	Num        int
}

// Norm is MailScanner's normalisation of an option name: lower case with
// everything but letters and digits removed ("Archives: Filename Rules"
// is "archivesfilenamerules").
func Norm(key string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(key) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

var varLine = regexp.MustCompile(`^%([A-Za-z0-9_-]+)%\s*=\s*(.*)$`)

// ParseLines reads the lines of one MailScanner.conf-style file as
// MailScanner does: a "#" starts a comment anywhere on the line, blanks
// around keys and values are dropped, "include PATTERN" names more files.
// Lines that are none of these are errors, returned all at once beside
// the good lines.
func ParseLines(name string, r io.Reader) ([]Line, error) {
	var out []Line
	var errs []error
	sc := bufio.NewScanner(io.LimitReader(r, MaxFileBytes+1))
	sc.Buffer(make([]byte, 4096), MaxLineBytes)
	n, total := 0, 0
	for sc.Scan() {
		n++
		total += len(sc.Bytes()) + 1
		s := sc.Text()
		if i := strings.IndexByte(s, '#'); i >= 0 {
			s = s[:i]
		}
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if m := varLine.FindStringSubmatch(s); m != nil {
			out = append(out, Line{Key: strings.ToLower(m[1]), Value: strings.TrimSpace(m[2]), Var: true, Num: n})
			continue
		}
		if f := strings.Fields(s); len(f) == 2 && strings.EqualFold(f[0], "include") && !strings.Contains(s, "=") {
			out = append(out, Line{Include: f[1], Num: n})
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		if !ok || Norm(k) == "" {
			errs = append(errs, fmt.Errorf("%s:%d: %q: want \"Option = value\": %w", name, n, clip(s), ErrSyntax))
			continue
		}
		out = append(out, Line{Key: strings.Join(strings.Fields(k), " "), Value: strings.TrimSpace(v), Num: n})
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("%s:%d: read: %w", name, n+1, err))
	} else if total > MaxFileBytes {
		errs = append(errs, fmt.Errorf("%s: larger than %d bytes: %w", name, MaxFileBytes, ErrSyntax))
	}
	return out, errors.Join(errs...)
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// Conf is a whole MailScanner configuration as MailScanner would see it:
// the last value of each option wins.
type Conf struct {
	Dir     string             // the directory imported ("/etc/MailScanner")
	Options map[string]*Option // by Norm
	Vars    map[string]string  // %name% values, names lower case
	Files   []string           // every file read, in order
}

// Get returns the option's value and whether the configuration sets it.
func (c *Conf) Get(norm string) (string, bool) {
	if o, ok := c.Options[norm]; ok {
		return o.Value, true
	}
	return "", false
}

// Sorted lists the options in file order (file, then line).
func (c *Conf) Sorted() []*Option {
	idx := map[string]int{}
	for i, f := range c.Files {
		idx[f] = i
	}
	var out []*Option
	for _, o := range c.Options {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool {
		if idx[out[i].File] != idx[out[j].File] {
			return idx[out[i].File] < idx[out[j].File]
		}
		return out[i].Line < out[j].Line
	})
	return out
}

// Load reads dir/MailScanner.conf and what it includes. Paths under
// /etc/MailScanner (MailScanner's own, and the shipped "include
// /etc/MailScanner/conf.d/*") are read from dir instead, so that a copy
// of a configuration imports as the original. When the file does not
// include conf.d/ itself, conf.d/*.conf is read after it, as MailScanner
// v5's start-up does.
func Load(dir string) (*Conf, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	c := &Conf{Dir: dir, Options: map[string]*Option{}, Vars: map[string]string{"etc-dir": dir}}
	var errs []error
	c.read(filepath.Join(dir, "MailScanner.conf"), 0, &errs)
	if len(c.Files) == 0 {
		return nil, errors.Join(errs...)
	}
	confd := filepath.Join(dir, "conf.d")
	if !c.readAny(confd) {
		matches, _ := filepath.Glob(filepath.Join(confd, "*.conf"))
		for _, m := range matches {
			c.read(m, 1, &errs)
		}
	}
	return c, errors.Join(errs...)
}

// readAny says whether a file under dir was read.
func (c *Conf) readAny(dir string) bool {
	for _, f := range c.Files {
		if filepath.Dir(f) == dir {
			return true
		}
	}
	return false
}

func (c *Conf) read(path string, depth int, errs *[]error) {
	if len(c.Files) >= MaxIncludes || depth > MaxIncludeNest {
		*errs = append(*errs, fmt.Errorf("%s: more than %d files or %d levels of include", path, MaxIncludes, MaxIncludeNest))
		return
	}
	f, err := os.Open(path)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("read %s: %w", path, err))
		return
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		*errs = append(*errs, fmt.Errorf("read %s: not a regular file", path))
		return
	}
	c.Files = append(c.Files, path)
	lines, err := ParseLines(path, f)
	if err != nil {
		*errs = append(*errs, err)
	}
	for _, l := range lines {
		switch {
		case l.Var:
			c.Vars[l.Key] = c.Subst(l.Value)
		case l.Include != "":
			c.include(l.Include, depth, errs)
		default:
			n := Norm(l.Key)
			c.Options[n] = &Option{Key: l.Key, Norm: n, Value: c.Subst(l.Value), File: path, Line: l.Num}
		}
	}
}

// include reads the files a pattern names, in name order, skipping
// editor backups and hidden files as MailScanner does.
func (c *Conf) include(pattern string, depth int, errs *[]error) {
	matches, err := filepath.Glob(c.Path(c.Subst(pattern)))
	if err != nil {
		*errs = append(*errs, fmt.Errorf("include %s: %w", pattern, err))
		return
	}
	sort.Strings(matches)
	for _, m := range matches {
		b := filepath.Base(m)
		if strings.HasPrefix(b, ".") || strings.HasSuffix(b, "~") || strings.EqualFold(b, "README") {
			continue
		}
		if st, err := os.Stat(m); err == nil && st.Mode().IsRegular() {
			c.read(m, depth+1, errs)
		}
	}
}

var varRef = regexp.MustCompile(`%([A-Za-z0-9_-]+)%`)

// Subst replaces the %name% references to defined variables in v;
// undefined ones stay as written.
func (c *Conf) Subst(v string) string {
	out := varRef.ReplaceAllStringFunc(v, func(m string) string {
		if x, ok := c.Vars[strings.ToLower(m[1:len(m)-1])]; ok {
			return x
		}
		return m
	})
	if len(out) > maxVarExpand {
		return out[:maxVarExpand]
	}
	return out
}

// msEtc is where MailScanner keeps its configuration.
const msEtc = "/etc/MailScanner"

// Path maps a path of the configuration to the file to read: one under
// /etc/MailScanner to the same place under the imported directory, a
// relative one against it.
func (c *Conf) Path(p string) string {
	switch {
	case p == msEtc:
		return c.Dir
	case strings.HasPrefix(p, msEtc+"/"):
		return filepath.Join(c.Dir, p[len(msEtc)+1:])
	case !filepath.IsAbs(p):
		return filepath.Join(c.Dir, p)
	}
	return p
}
