package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90d", 90 * day, true}, {"1d12h", day + 12*time.Hour, true}, {"30m", 30 * time.Minute, true}, {"0s", 0, true},
		{"65535d", 65535 * day, true}, {"65536d", 0, false}, // the bound on days
		{"d", 0, false}, {"-1d", 0, false}, {"1dx", 0, false}, {"1d-1h", 0, false}, {"7 d", 0, false}, {"", 0, false},
	} {
		got, err := ParseDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestStoreKeys(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"in", "out"} {
		os.Mkdir(filepath.Join(dir, d), 0o700)
	}
	head := "[queue]\nincoming = \"in\"\noutgoing = \"out\"\nwork_dir = \"w\"\n[quarantine]\ndir = \"quar\"\n[store]\npath = \"w/db\"\n"
	c, err := Parse(filepath.Join(dir, "q.toml"), []byte(head+"log_retention = \"7d\"\nhost = \"mx2\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.LogRetention.D() != 7*24*time.Hour || c.Store.Host != "mx2" {
		t.Errorf("store = %+v, want 7 days and mx2", c.Store)
	}
	for _, bad := range []string{"log_retention = \"-1s\"", "host = \"two words\""} {
		_, err := Parse(filepath.Join(dir, "q.toml"), []byte(head+bad+"\n"))
		if err == nil || !strings.Contains(err.Error(), "store.") {
			t.Errorf("Parse(%s) = %v, want a store error", bad, err)
		}
	}
}
