//go:build e2e

package installed

import (
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/qscan/qscan/test/stackutil"
)

// installedConfig is what the test reads back from the installed
// configuration.
type installedConfig struct {
	Queue struct {
		WorkDir        string `toml:"work_dir"`
		PidFile        string `toml:"pid_file"`
		RescanInterval string `toml:"rescan_interval"`
	} `toml:"queue"`
	Quarantine struct {
		Dir string `toml:"dir"`
	} `toml:"quarantine"`
	Store struct {
		Path string `toml:"path"`
	} `toml:"store"`
	Check struct {
		OffFile string `toml:"off_file"`
	} `toml:"check"`
	Headers struct {
		OrgName string `toml:"org_name"`
	} `toml:"headers"`
}

// rescan returns queue.rescan_interval.
func (c installedConfig) rescan() (time.Duration, error) {
	return time.ParseDuration(c.Queue.RescanInterval)
}

// pointAtStack edits the installed configuration in place, as a postmaster
// would with an editor, so that qscan works on the stack's queues with the
// stack's engines: the queue directories, clamd's socket and spamd's
// address. Nothing else is changed (testShippedConfig checks it). The
// stack's queues get the owner and mode the installer gives a host's
// queues.
func (tr *tree) pointAtStack(t *testing.T) {
	t.Helper()
	s := tr.stack
	text, err := os.ReadFile(tr.conf)
	if err != nil {
		t.Fatal(err)
	}
	text, err = stackutil.ReplaceKeys(text, map[string]string{
		"queue.incoming":     stackutil.Quote(s.Incoming),
		"queue.outgoing":     stackutil.Quote(s.Outgoing),
		"virus.clamd.socket": stackutil.Quote(s.ClamdSocket),
		"spam.spamd.address": stackutil.Quote(s.SpamdAddr),
	})
	if err != nil {
		t.Fatalf("%s: %v", tr.conf, err)
	}
	// WriteFile on the existing file keeps its owner and mode.
	if err := os.WriteFile(tr.conf, text, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := toml.DecodeFile(tr.conf, &tr.cfg); err != nil {
		t.Fatalf("decode %s: %v", tr.conf, err)
	}
	tr.useInstalledQueueModes(t)
	if err := s.Empty(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Empty() })
}

// The site's settings given to scripts/install: the postmaster is in a
// domain the stack relays to the sink, where the reports are seen.
const (
	postmaster = "postmaster@example.test"
	orgName    = "InstalledE2E"
)

// mayDiffer lists the keys in which the configuration qscan runs with
// here may differ from the shipped etc/qscan.toml: paths and addresses,
// and the choice of engines (the shipped file runs the demo: built-in
// virus engine, no spam check; the installer writes their "Production
// default"). A shortened interval, time limit or any other value would
// make the test run something a postmaster does not.
var mayDiffer = map[string]string{
	"queue.incoming":                 "path",
	"queue.outgoing":                 "path",
	"queue.work_dir":                 "path",
	"queue.pid_file":                 "path",
	"queue.sendmail":                 "path",
	"quarantine.dir":                 "path",
	"store.path":                     "path",
	"smtp.spool":                     "path",
	"virus.builtin.signatures":       "path",
	"content.filename_rules":         "paths",
	"content.filetype_rules":         "paths",
	"content.archive_filename_rules": "paths",
	"content.archive_filetype_rules": "paths",
	"notify.reports":                 "path",
	"check.off_file":                 "path",
	"check.restart_log":              "path",
	"metrics.listen":                 "address",
	"virus.clamd.socket":             "address",
	"virus.clamd.address":            "address",
	"spam.spamd.address":             "address",
	"spam.spamd.socket":              "address",
	"spam.rspamd.url":                "address",
	"notify.postmaster":              "address",
	"headers.org_name":               "the site's name (scripts/install --org-name), in header names",
	"virus.scanners":                 "engine choice",
	"spam.engines":                   "engine choice",
}

// testShippedConfig: the configuration qscan runs with is the shipped
// etc/qscan.toml with only paths and addresses changed.
func (tr *tree) testShippedConfig(t *testing.T) {
	path, err := stackutil.ShippedConfigPath()
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := flatDecode(path)
	if err != nil {
		t.Fatal(err)
	}
	installed, err := flatDecode(tr.conf)
	if err != nil {
		t.Fatal(err)
	}
	union := maps.Clone(shipped)
	maps.Copy(union, installed)
	for _, k := range slices.Sorted(maps.Keys(union)) {
		a, inShipped := shipped[k]
		b, inInstalled := installed[k]
		switch {
		case !inShipped:
			t.Errorf("installed config has %s = %v, which etc/qscan.toml does not have", k, b)
		case !inInstalled:
			t.Errorf("installed config lacks %s (etc/qscan.toml: %v)", k, a)
		case reflect.DeepEqual(a, b):
		case mayDiffer[k] != "":
			t.Logf("%s (%s): %v -> %v", k, mayDiffer[k], a, b)
		default:
			t.Errorf("installed config has %s = %v, etc/qscan.toml %v: only paths and addresses may differ", k, b, a)
		}
	}
}

// flatDecode decodes a TOML file into "section.key" -> value.
func flatDecode(path string) (map[string]any, error) {
	var doc map[string]any
	if _, err := toml.DecodeFile(path, &doc); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	out := map[string]any{}
	flatten("", doc, out)
	return out, nil
}

func flatten(prefix string, v any, out map[string]any) {
	m, ok := v.(map[string]any)
	if !ok {
		out[prefix] = v
		return
	}
	for k, x := range m {
		if prefix != "" {
			k = prefix + "." + k
		}
		flatten(k, x, out)
	}
}
