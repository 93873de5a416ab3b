package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestShippedFile checks that etc/qscan.toml loads cleanly and that, paths
// aside, it documents exactly the built-in defaults.
func TestShippedFile(t *testing.T) {
	c, err := Load("../../etc/qscan.toml")
	if err != nil {
		t.Fatalf("Load(etc/qscan.toml): %v", err)
	}
	d := Defaults()
	c.Queue.Incoming, c.Queue.Outgoing, c.Queue.WorkDir, c.Queue.PidFile = d.Queue.Incoming, d.Queue.Outgoing, d.Queue.WorkDir, d.Queue.PidFile
	c.Quarantine.Dir, c.Store.Path, c.File = d.Quarantine.Dir, d.Store.Path, ""
	c.Virus.Scanners, c.Virus.Builtin.Signatures = d.Virus.Scanners, d.Virus.Builtin.Signatures // the demo uses the built-in engine
	c.Metrics.Listen = d.Metrics.Listen                                                         // the demo serves metrics
	c.Spam.Engines = d.Spam.Engines                                                             // the demo has no spamd
	c.Check.OffFile = d.Check.OffFile
	c.Content.FilenameRules, c.Content.FiletypeRules = d.Content.FilenameRules, d.Content.FiletypeRules
	c.Content.ArchiveFilenameRules, c.Content.ArchiveFiletypeRules = d.Content.ArchiveFilenameRules, d.Content.ArchiveFiletypeRules
	if len(c.Virus.LocalDomains) == 0 {
		c.Virus.LocalDomains = d.Virus.LocalDomains
	}
	if len(c.Virus.Command.Args) == 0 {
		c.Virus.Command.Args = d.Virus.Command.Args
	}
	if c.Queue.SendmailArgs == nil {
		c.Queue.SendmailArgs = d.Queue.SendmailArgs
	}
	if got, want := dump(c), dump(&d); got != want {
		t.Errorf("etc/qscan.toml differs from Defaults():\n got %s\nwant %s", got, want)
	}
}

// TestShippedFileComplete: etc/qscan.toml shows every option.
func TestShippedFileComplete(t *testing.T) {
	data, err := os.ReadFile("../../etc/qscan.toml")
	if err != nil {
		t.Fatal(err)
	}
	lines := keyLines(data)
	for _, k := range tomlKeys(reflect.TypeOf(Config{}), "") {
		leaf := k[strings.LastIndex(k, ".")+1:]
		// Either-or keys (socket or address) are shown in a comment.
		commented := strings.Contains(string(data), "("+leaf+" = ")
		if _, ok := lines[k]; !ok && !commented && !strings.HasPrefix(k, "spam.dnsbl.list") {
			t.Errorf("etc/qscan.toml does not show %s", k)
		}
	}
}

// tomlKeys lists the dotted keys of a config struct.
func tomlKeys(t reflect.Type, prefix string) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("toml"), ",")[0]
		if name == "" || name == "-" {
			continue
		}
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(Setting{}) {
			out = append(out, tomlKeys(f.Type, prefix+name+".")...)
			continue
		}
		out = append(out, prefix+name)
	}
	return out
}

func dump(c *Config) string { return strings.ReplaceAll(strings.TrimSpace(sprint(c)), "\n", " ") }

func TestRelativePaths(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"in", "out"} {
		os.Mkdir(filepath.Join(dir, d), 0o700)
	}
	file := filepath.Join(dir, "q.toml")
	os.WriteFile(file, []byte("[queue]\nincoming = \"in\"\noutgoing = \"out\"\nwork_dir = \"w\"\n[quarantine]\ndir = \"quar\"\n[store]\npath = \"w/db\"\n"), 0o600)
	c, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "in"); len(c.Queue.Incoming) != 1 || c.Queue.Incoming[0] != want {
		t.Errorf("incoming = %v, want [%s]", c.Queue.Incoming, want)
	}
	if want := filepath.Join(dir, "w/db"); c.Store.Path != want {
		t.Errorf("store.path = %s, want %s", c.Store.Path, want)
	}
}

// TestEveryError: a broken file reports every problem at once, each with
// its line.
func TestEveryError(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "in"), 0o700)
	file := filepath.Join(dir, "bad.toml")
	src := `[queue]
incoming = ["in"]
outgoing = "missing-out"
work_dir = "w"
rescan_interval = "soon"
colour = "blue"

[batch]
max_messages = 0

[log]
level = "chatty"

[nonsense]
x = 1

[store]
path = "w/db"
[quarantine]
dir = "q"
`
	os.WriteFile(file, []byte(src), 0o600)
	_, err := Load(file)
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("Load = %v, want Errors", err)
	}
	want := []struct {
		line int
		text string
	}{
		{5, "queue.rescan_interval: invalid duration"},
		{9, "max_messages"},
		{12, "log.level"},
		{14, "unknown section [nonsense]"},
	}
	for _, w := range want {
		found := false
		for _, e := range es {
			if e.Line == w.line && strings.Contains(e.Msg, w.text) {
				found = true
			}
		}
		if !found {
			t.Errorf("no error at line %d containing %q; got:\n%v", w.line, w.text, err)
		}
	}
	for _, e := range es {
		if !strings.HasPrefix(e.Error(), file+":") {
			t.Errorf("error %q does not start with FILE:", e.Error())
		}
	}
}

func TestUnknownKeyAndFS(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"in", "out"} {
		os.Mkdir(filepath.Join(dir, d), 0o700)
	}
	file := filepath.Join(dir, "q.toml")
	os.WriteFile(file, []byte("[queue]\nincoming = \"in\"\noutgoing = \"in\"\nwork_dir = \"w\"\ncolour = \"blue\"\n[quarantine]\ndir = \"q\"\n[store]\npath = \"w/db\"\n"), 0o600)
	_, err := Load(file)
	for _, want := range []string{":5: unknown key \"queue.colour\"", ":2: queue.incoming:", "also the outgoing queue"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load error = %v, want it to contain %q", err, want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"123", 123, true}, {"256KB", 256 << 10, true}, {"50MB", 50 << 20, true}, {"1g", 1 << 30, true},
		{"2 MiB", 2 << 20, true}, {"", 0, false}, {"-1", 0, false}, {"5XB", 0, false}, {"99999999999GB", 0, false},
	} {
		got, err := ParseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// TestEverySettingResolved: each Setting field is listed in Settings(),
// so that Parse resolves it (else its value would be lost).
func TestEverySettingResolved(t *testing.T) {
	c := Defaults()
	listed := map[*Setting]bool{}
	for _, s := range c.Settings() {
		listed[s] = true
	}
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			name := path + "." + v.Type().Field(i).Name
			switch {
			case f.Type() == reflect.TypeOf(Setting{}):
				if !listed[f.Addr().Interface().(*Setting)] {
					t.Errorf("%s is a Setting missing from Settings()", name)
				}
			case f.Kind() == reflect.Struct:
				walk(f, name)
			}
		}
	}
	walk(reflect.ValueOf(&c).Elem(), "Config")
}

// TestEveryErrorOfASection: several bad values in one section (and in a
// sub-table) are each reported at their own line; a bad value does not
// hide the next one, nor an unknown key after it.
func TestEveryErrorOfASection(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"in", "out"} {
		os.Mkdir(filepath.Join(dir, d), 0o700)
	}
	file := filepath.Join(dir, "bad.toml")
	src := `[queue]
incoming = "in"
outgoing = "out"
work_dir = "w"
rescan_interval = "soon"
kick = "maybe"
colour = "blue"
[quarantine]
dir = "q"
[store]
path = "w/db"
[batch]
max_messages = "many"
max_attempts = "often"
[virus.clamd]
timeout = "long"
max_connections = "lots"
[virus]
concurrency = "high"
`
	os.WriteFile(file, []byte(src), 0o600)
	_, err := Load(file)
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("Load = %v, want Errors", err)
	}
	want := []struct {
		line int
		text string
	}{
		{5, "queue.rescan_interval: invalid duration"},
		{6, "queue.kick"},
		{7, `unknown key "queue.colour"`},
		{13, "batch.max_messages"},
		{14, "batch.max_attempts"},
		{16, "virus.clamd.timeout: invalid duration"},
		{17, "virus.clamd.max_connections"},
		{19, "virus.concurrency"},
	}
	for _, w := range want {
		found := false
		for _, e := range es {
			if e.Line == w.line && strings.Contains(e.Msg, w.text) {
				found = true
			}
		}
		if !found {
			t.Errorf("no error at line %d containing %q; got:\n%v", w.line, w.text, err)
		}
	}
	if strings.Contains(err.Error(), "was not read") {
		t.Errorf("an error still hides the rest of its section:\n%v", err)
	}
}

// TestOrgName: the org name goes into header names; what QScanHeader
// would have to drop (a dot, a space) is an error, not a silent change.
func TestOrgName(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"yoursite", true}, {"Example-Org2", true}, {strings.Repeat("a", 40), true},
		{"example.com", false}, {"my site", false}, {"-x", false}, {"x-", false},
		{strings.Repeat("a", 41), false}, {"", false}, {"sité", false},
	} {
		if err := validOrgName(tt.name); (err == nil) != tt.ok {
			t.Errorf("validOrgName(%q) = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}
