package msimport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/BurntSushi/toml"
)

// Status says what became of a MailScanner option.
type Status string

// The statuses of the option table.
const (
	Mapped      Status = "mapped"
	Changed     Status = "changed"       // mapped, with another meaning (Row.Note says how)
	Unsupported Status = "not supported" // Row.Note says what to do instead
	// NotNeeded: a setting of MailScanner's own machinery (helper
	// programs, locks, restarts) that qscan does without; Row.Note says how.
	NotNeeded Status = "not needed"
)

// Row is one line of the option table.
type Row struct {
	Option string // as written in MailScanner.conf
	Value  string
	Status Status
	Key    string // the qscan key(s) it went to
	Note   string
	At     string // FILE:LINE
	// Off: an unsupported option MailScanner had turned off (by its value
	// or its feature's switch), so that nothing changes without it.
	Off bool
}

// Result is an imported configuration: qscan.toml's tables, the files
// to write beside it (rule files, rulesets, lists), and the option table.
type Result struct {
	Rows   []Row
	Config map[string]any
	Files  map[string][]byte // path relative to the output directory
	// Problems are lines and files that could not be read; the import
	// goes on without them.
	Problems []error

	conf    *Conf
	copied  map[string]string // source path -> relative output path
	engines map[string]bool   // spam engines turned on
	after   []func()          // settings that override others, whatever the order

	badSites         []string // Phishing Bad Sites File values (for ToDo)
	missingTemplates []string // signature templates that are not here
}

// later runs f once every option is mapped.
func (r *Result) later(f func()) { r.after = append(r.after, f) }

// Import reads the MailScanner configuration in dir and maps it.
func Import(dir string) (*Result, error) {
	c, err := Load(dir)
	if c == nil {
		return nil, err
	}
	r := &Result{Config: map[string]any{}, Files: map[string][]byte{}, conf: c,
		copied: map[string]string{}, engines: map[string]bool{}}
	if err != nil {
		r.Problems = append(r.Problems, err)
	}
	if v, ok := c.Vars["org-name"]; ok {
		r.set("headers.org_name", orgName(v))
		r.Rows = append(r.Rows, Row{Option: "%org-name%", Value: v, Status: Mapped, Key: "headers.org_name",
			Note: "header names are X-<org_name>-QScan... instead of X-<org-name>-MailScanner..."})
	}
	for _, o := range c.Sorted() {
		row := r.option(o)
		row.Option, row.Value, row.At = o.Key, o.Value, fmt.Sprintf("%s:%d", o.File, o.Line)
		row.Off = row.Status == Unsupported && r.wasOff(o)
		r.Rows = append(r.Rows, row)
	}
	r.finish()
	return r, nil
}

// option maps one option.
func (r *Result) option(o *Option) Row {
	if f, ok := table[o.Norm]; ok {
		return f(r, o)
	}
	if f, ok := dangerousTable[o.Norm]; ok {
		return f(r, o)
	}
	if f, ok := mtaTable[o.Norm]; ok {
		return f(r, o)
	}
	for _, g := range needless {
		if strings.HasPrefix(o.Norm, g.prefix) {
			return Row{Status: NotNeeded, Note: g.note}
		}
	}
	for _, g := range groups {
		if g.prefix != "" && strings.HasPrefix(o.Norm, g.prefix) || g.suffix != "" && strings.HasSuffix(o.Norm, g.suffix) {
			if g.suffix != "" { // MailScanner's report templates: qscan sends its own
				return Row{Status: Changed, Key: "notify.language", Note: g.note}
			}
			return Row{Status: Unsupported, Note: g.note}
		}
	}
	return Row{Status: Unsupported, Note: "no qscan counterpart; qscan's own behaviour applies (see etc/qscan.toml)"}
}

// finish sets what depends on several options.
func (r *Result) finish() {
	for _, f := range r.after {
		f()
	}
	var engines []string
	for _, e := range []string{"spamd", "rspamd", "dnsbl"} {
		if r.engines[e] {
			engines = append(engines, e)
		}
	}
	if _, ok := r.conf.Get("usespamassassin"); ok || len(engines) > 0 {
		r.set("spam.engines", engines)
	}
}

// set puts value at a dotted key of the configuration.
func (r *Result) set(key string, value any) {
	m := r.Config
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		sub, ok := m[p].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[p] = sub
		}
		m = sub
	}
	m[parts[len(parts)-1]] = value
}

// get returns the value at a dotted key, if set.
func (r *Result) get(key string) (any, bool) {
	var cur any = r.Config
	for _, p := range strings.Split(key, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// copyFile puts the file at src (a path of the configuration) into the
// output under subdir, once, and returns its relative path there.
func (r *Result) copyFile(src, subdir string, transform func([]byte) []byte) (string, error) {
	p := r.conf.Path(src)
	if rel, ok := r.copied[p]; ok {
		return rel, nil
	}
	b, err := readSmall(p)
	if err != nil {
		return "", err
	}
	if transform != nil {
		b = transform(b)
	}
	base := filepath.Base(p)
	rel := filepath.ToSlash(filepath.Join(subdir, base))
	for i := 2; r.Files[rel] != nil; i++ {
		rel = filepath.ToSlash(filepath.Join(subdir, fmt.Sprintf("%d-%s", i, base)))
	}
	r.Files[rel] = b
	r.copied[p] = rel
	return rel, nil
}

// TOML returns qscan.toml.
func (r *Result) TOML() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# qscan configuration imported from the MailScanner configuration in\n# " + r.conf.Dir +
		" by `qscan import-mailscanner`. Options not set here take\n# qscan's defaults (etc/qscan.toml shows and explains every option).\n\n")
	if err := toml.NewEncoder(&b).Encode(r.Config); err != nil {
		return nil, fmt.Errorf("encode qscan.toml: %w", err)
	}
	return b.Bytes(), nil
}

// ErrExists means the output directory already holds a file the import
// would write.
var ErrExists = errors.New("msimport: output file exists")

// Write writes qscan.toml and the other files under outdir, which is
// created if needed. It overwrites nothing: an existing file is an error
// before anything is written.
func (r *Result) Write(outdir string) error {
	files := map[string][]byte{}
	for k, v := range r.Files {
		files[k] = v
	}
	t, err := r.TOML()
	if err != nil {
		return err
	}
	files["qscan.toml"] = t
	var names []string
	for n := range files {
		if _, err := os.Lstat(filepath.Join(outdir, n)); err == nil {
			return fmt.Errorf("write %s: %w (move it away or choose another -o)", filepath.Join(outdir, n), ErrExists)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(outdir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, files[n], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// PrintTable writes the option table: option, status, qscan key, note.
func (r *Result) PrintTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "MAILSCANNER OPTION\tSTATUS\tQSCAN KEY\tNOTE")
	count := map[Status]int{}
	offs := 0
	for _, row := range r.Rows {
		count[row.Status]++
		note := oneLine(row.Note)
		if row.Off {
			offs++
			note = "off in MailScanner too: " + note
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", row.Option, row.Status, orDash(row.Key), note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d options: %d mapped, %d mapped with a changed meaning, %d not needed by qscan, %d not supported (%d of them off in MailScanner too, so nothing changes)\n",
		len(r.Rows), count[Mapped], count[Changed], count[NotNeeded], count[Unsupported], offs)
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// orgName keeps the characters a header field name may hold.
func orgName(v string) string {
	var b strings.Builder
	for _, c := range v {
		if c > ' ' && c < 0x7f && c != ':' {
			b.WriteRune(c)
		}
	}
	if b.Len() == 0 {
		return "yoursite"
	}
	return b.String()
}
