// Package notify builds the mails and texts qscan writes about what it
// found: the postmaster report, notices to senders, the replacement texts
// put in place of removed attachments, and the inline warning, from
// text/template files in etc/reports/<lang>/.
//
// Templates are the operator's; message data (subjects, file names, virus
// names) is only ever template data, never parsed as a template, and every
// header built from it is sanitised (see HeaderValue).
package notify

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"text/template"
)

// Template names: the file etc/reports/<lang>/<name>.txt.
const (
	Postmaster      = "postmaster.report" // PostmasterData; defines "subject"
	SenderVirus     = "sender.virus"      // SenderData; defines "subject"
	SenderFilename  = "sender.filename"   // SenderData; defines "subject"
	SenderError     = "sender.error"      // SenderData; defines "subject"
	DeletedVirus    = "deleted.virus"     // ReplacementData
	DeletedFilename = "deleted.filename"  // ReplacementData
	DeletedFiletype = "deleted.filetype"  // ReplacementData
	DeletedSize     = "deleted.size"      // ReplacementData
	DeletedContent  = "deleted.content"   // ReplacementData
	InlineWarning   = "inline.warning"    // InlineData
	// SpamNotify tells the recipients that a message to them was spam and
	// was not delivered (the "notify" spam action). SenderData whose
	// Reports holds the spam report line(s); defines "subject".
	SpamNotify = "spam.notify"
	// SpamBounce tells the sender that a message was rejected as spam (the
	// "bounce" spam action). SenderData: Notice has no score field, so
	// Reports holds the spam report line ("spam, SpamAssassin (score=12.3,
	// required 6, ...)"); defines "subject".
	SpamBounce = "spam.bounce"
)

// Names lists every template qscan needs, in a fixed order.
func Names() []string {
	return []string{Postmaster, SenderVirus, SenderFilename, SenderError,
		DeletedVirus, DeletedFilename, DeletedFiletype, DeletedSize, DeletedContent, InlineWarning,
		SpamNotify, SpamBounce}
}

// DefaultMaxBytes is Templates.MaxBytes by default.
const DefaultMaxBytes = 256 << 10

var (
	// ErrTooLarge means a rendered text exceeded Templates.MaxBytes.
	ErrTooLarge = errors.New("notify: rendered text too large")
	// ErrNoTemplate means a template name is not loaded.
	ErrNoTemplate = errors.New("notify: no such template")
)

// Templates is one language's loaded templates.
type Templates struct {
	Lang string
	// MaxBytes bounds one rendered text (DefaultMaxBytes when 0): the data
	// comes from mail.
	MaxBytes int
	byName   map[string]*template.Template
	files    map[string]string // name -> file it came from, for errors
}

// Load reads the templates of lang ("" means "en") from dir/<lang>/,
// taking any missing file from dir/en/. See LoadFS.
func Load(dir, lang string) (*Templates, error) {
	return LoadFS(os.DirFS(dir), lang)
}

// LoadFS reads every *.txt file of <lang>/ (and of en/ for those lang
// lacks) in fsys, parses it, and renders each known template once with
// sample data so that a misspelt field fails here, not at 3 a.m. All
// problems are reported at once, with file names.
func LoadFS(fsys fs.FS, lang string) (*Templates, error) {
	if lang == "" {
		lang = "en"
	}
	if lang != path.Base(lang) || strings.ContainsAny(lang, `/\.`) {
		return nil, fmt.Errorf("notify load: bad language %q", lang)
	}
	t := &Templates{Lang: lang, byName: map[string]*template.Template{}, files: map[string]string{}}
	var errs []error
	if _, err := fs.Stat(fsys, lang); err != nil {
		return nil, fmt.Errorf("notify load %s: %w", lang, err)
	}
	dirs := []string{lang}
	if lang != "en" {
		dirs = append(dirs, "en")
	}
	for _, dir := range dirs {
		names, err := fs.Glob(fsys, dir+"/*.txt")
		if err != nil {
			errs = append(errs, fmt.Errorf("notify load %s: %w", dir, err))
			continue
		}
		sort.Strings(names)
		for _, file := range names {
			name := strings.TrimSuffix(path.Base(file), ".txt")
			if _, done := t.byName[name]; done {
				continue // the language's own file wins
			}
			if err := t.parse(fsys, file, name); err != nil {
				errs = append(errs, err)
			}
		}
	}
	errs = append(errs, t.check()...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return t, nil
}

func (t *Templates) parse(fsys fs.FS, file, name string) error {
	src, err := fs.ReadFile(fsys, file)
	if err != nil {
		return fmt.Errorf("notify load %s: %w", file, err)
	}
	tm, err := template.New(path.Base(file)).Funcs(funcMap()).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return fmt.Errorf("notify load %s: %w", file, err)
	}
	t.byName[name] = tm
	t.files[name] = file
	return nil
}

// check renders every known template with sample data.
func (t *Templates) check() []error {
	var errs []error
	for _, name := range Names() {
		tm, ok := t.byName[name]
		if !ok {
			errs = append(errs, fmt.Errorf("notify load %s/%s.txt: %w (nor in en/)", t.Lang, name, ErrNoTemplate))
			continue
		}
		data := sample(name)
		if _, err := t.Render(name, data); err != nil {
			errs = append(errs, err)
		}
		if needsSubject(name) {
			if tm.Lookup("subject") == nil {
				errs = append(errs, fmt.Errorf("notify load %s: no {{define \"subject\"}}", t.files[name]))
			} else if _, err := t.Subject(name, data); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

func needsSubject(name string) bool {
	return name == Postmaster || strings.HasPrefix(name, "sender.") || strings.HasPrefix(name, "spam.")
}

// Render executes template name with data and returns the text with LF
// line ends and without control characters other than tab, at most
// MaxBytes long. A postmaster report or a notice that would be longer is
// rendered from shortened data, with a note at its end (shorten.go);
// other texts are an error wrapping ErrTooLarge.
func (t *Templates) Render(name string, data any) ([]byte, error) {
	tm, ok := t.byName[name]
	if !ok {
		return nil, fmt.Errorf("notify render %s: %w", name, ErrNoTemplate)
	}
	b, err := t.exec(tm, name, data, t.maxBytes())
	if errors.Is(err, ErrTooLarge) {
		// A report or notice is shortened, never dropped (shorten.go).
		return t.renderShortened(tm, name, data, t.maxBytes(), err)
	}
	return b, err
}

// Subject executes the "subject" template defined in template name's
// file and returns it as one line (see HeaderValue for the mail header).
func (t *Templates) Subject(name string, data any) (string, error) {
	tm, ok := t.byName[name]
	if !ok || tm.Lookup("subject") == nil {
		return "", fmt.Errorf("notify subject %s: %w", name, ErrNoTemplate)
	}
	b, err := t.exec(tm.Lookup("subject"), name, data, t.maxBytes())
	if errors.Is(err, ErrTooLarge) {
		b, err = t.renderShortened(tm.Lookup("subject"), name, data, t.maxBytes(), err)
	}
	if err != nil {
		return "", err
	}
	return strings.Join(strings.Fields(string(b)), " "), nil
}

func (t *Templates) maxBytes() int {
	if t.MaxBytes <= 0 {
		return DefaultMaxBytes
	}
	return t.MaxBytes
}

// exec executes tm with data into at most max bytes.
func (t *Templates) exec(tm *template.Template, name string, data any, max int) ([]byte, error) {
	w := &limitBuffer{max: max}
	if err := tm.Execute(w, data); err != nil {
		if errors.Is(err, ErrTooLarge) {
			return nil, fmt.Errorf("notify render %s: %w: over %d bytes", name, ErrTooLarge, max)
		}
		return nil, fmt.Errorf("notify render %s: %w", t.files[name], err)
	}
	return cleanText(w.b.Bytes()), nil
}

// limitBuffer is a bytes.Buffer that refuses to grow past max.
type limitBuffer struct {
	b   bytes.Buffer
	max int
}

func (l *limitBuffer) Write(p []byte) (int, error) {
	if l.b.Len()+len(p) > l.max {
		return 0, ErrTooLarge
	}
	return l.b.Write(p)
}

// cleanText makes line ends LF and drops control characters but tab and LF.
func cleanText(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	out := b[:0]
	for _, c := range b {
		if (c < ' ' && c != '\t' && c != '\n') || c == 0x7f {
			continue
		}
		out = append(out, c)
	}
	return out
}

// funcMap has the helpers templates may call. They take data as data.
func funcMap() template.FuncMap {
	return template.FuncMap{
		"join": func(sep string, s []string) string { return strings.Join(s, sep) },
		// indent puts n spaces before every line of s.
		"indent": func(n int, s string) string {
			pad := strings.Repeat(" ", min(max(n, 0), 40))
			return pad + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+pad)
		},
		// hang puts n spaces before every line of s but the first.
		"hang": func(n int, s string) string {
			return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+strings.Repeat(" ", min(max(n, 0), 40)))
		},
	}
}
