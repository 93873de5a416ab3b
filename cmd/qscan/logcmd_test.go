package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/auth"
	"github.com/qscan/qscan/pkg/store"
)

// TestLogCommand: `qscan run --once` writes the message log, `qscan log`
// finds the message by its filters, as a table or as JSON lines.
func TestLogCommand(t *testing.T) {
	root, cfg := demo(t, "")
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(b), "[store]\n", "[store]\nhost = \"mx9\"\n", 1)), 0o600)
	eicar := filepath.Join(root, "eicar.eml")
	os.WriteFile(eicar, []byte("From: v@evil.test\nSubject: =?utf-8?q?Caf=C3=A9?= \x1b[31m\n\nX5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*\n"), 0o600)
	var ids []string
	for _, f := range []string{"../../testdata/eml/plain.eml", eicar} {
		out, code := qscan(t, "enqueue", "-q", filepath.Join(root, "in"), "-f", "a@example.org", "-r", "b@example.test", f)
		if code != 0 {
			t.Fatalf("enqueue: %d %s", code, out)
		}
		ids = append(ids, strings.TrimSpace(out))
	}
	if out, code := qscan(t, "run", "--once", "-c", cfg); code != 0 {
		t.Fatalf("run --once: %d %s", code, out)
	}
	out, code := qscan(t, "log", "-c", cfg)
	if code != 0 || !strings.Contains(out, ids[0]) || !strings.Contains(out, ids[1]) || !strings.HasPrefix(out, "TIME ") {
		t.Fatalf("log = %d\n%s\nwant a table with both messages", code, out)
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("log table holds an escape character:\n%q", out)
	}
	out, code = qscan(t, "log", "-c", cfg, "--json", "--verdict", "infected", "--since", "1h", "--recipient", "B@EXAMPLE")
	var r store.LogRecord
	if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil {
		t.Fatalf("log --json = %d %q: %v", code, out, err)
	}
	if strings.Count(out, "\n") != 1 || r.QueueID != ids[1] || r.Host != "mx9" || len(r.Viruses) != 1 || r.Subject != "Café  [31m" {
		t.Errorf("log --json --verdict infected = %s", out)
	}
	for _, args := range [][]string{{"café"}, {"--id", ids[0]}, {"--until", "1h"}, {"--sender", "nobody"}} {
		out, _ := qscan(t, append([]string{"log", "-c", cfg, "--json"}, args...)...)
		want := map[string]int{"café": 1, "--id": 1, "--until": 0, "--sender": 0}[args[0]]
		if n := strings.Count(out, "\n"); n != want {
			t.Errorf("log %v = %d rows, want %d:\n%s", args, n, want, out)
		}
	}
	if out, code := qscan(t, "log", "-c", cfg, "--since", "yesterday"); code != exitUsage {
		t.Errorf("log --since yesterday = %d %s, want %d", code, out, exitUsage)
	}
}

func TestParseLogTime(t *testing.T) {
	now := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"2030-05-01T00:00:00Z", time.Date(2030, 5, 1, 0, 0, 0, 0, time.UTC)},
		{"2030-05-01T02:00:00+02:00", time.Date(2030, 5, 1, 0, 0, 0, 0, time.UTC)},
		{"2030-05-01", time.Date(2030, 5, 1, 0, 0, 0, 0, time.Local)},
		{"24h", now.Add(-24 * time.Hour)},
		{"7d", now.AddDate(0, 0, -7)},
	} {
		got, err := parseLogTime(tc.in, now)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseLogTime(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "-1h", "2030-13-01", "soon"} {
		if _, err := parseLogTime(bad, now); err == nil {
			t.Errorf("parseLogTime(%q) = nil error, want one", bad)
		}
	}
}

// qscanIn runs qscan with stdin (not a terminal) reading in.
func qscanIn(t *testing.T, in string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(qscanBin, args...)
	cmd.Stdin = strings.NewReader(in)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

func TestUserCommand(t *testing.T) {
	root, cfg := demo(t, "")
	steps := []struct {
		in   string
		args []string
		code int
	}{
		{"s3cret pass\n", []string{"add", "alice", "--role", "admin"}, 0},
		{"pw\n", []string{"add", "bob", "--role", "user", "--address", "bob@example.org,b@example.org"}, 0},
		{"pw\n", []string{"add", "--role", "domain", "dom", "--domain", "example.org", "--domain", "example.net"}, 0},
		{"pw\n", []string{"add", "alice", "--role", "admin"}, exitDataErr},  // taken
		{"pw\n", []string{"add", "carol", "--role", "user"}, exitDataErr},   // no address
		{"pw\n", []string{"add", "carol", "--role", "domain"}, exitDataErr}, // no domain
		{"pw\n", []string{"add", "carol", "--role", "root"}, exitDataErr},   // no such role
		{"", []string{"add", "carol", "--role", "admin"}, exitDataErr},      // empty password
		{"pw\n", []string{"add", "a b", "--role", "admin"}, exitDataErr},    // bad name
		{strings.Repeat("x", auth.MaxPassword+1) + "\n", []string{"add", "carol", "--role", "admin"}, exitDataErr},
		{"new pass\r\n", []string{"passwd", "alice"}, 0},
		{"pw\n", []string{"passwd", "nobody"}, exitDataErr},
		{"", []string{"del", "dom"}, 0},
		{"", []string{"del", "dom"}, exitDataErr},
		{"", []string{"frobnicate"}, exitUsage},
	}
	for _, s := range steps {
		out, code := qscanIn(t, s.in, append([]string{"user"}, append(s.args, "-c", cfg)...)...)
		if code != s.code {
			t.Errorf("qscan user %v = %d %q, want %d", s.args, code, out, s.code)
		}
	}
	out, code := qscan(t, "user", "list", "-c", cfg)
	if code != 0 || !strings.Contains(out, "alice") || !strings.Contains(out, "bob@example.org,b@example.org") || strings.Contains(out, "dom ") ||
		strings.Contains(out, "carol") || strings.Contains(out, "argon2") {
		t.Errorf("user list = %d\n%s", code, out)
	}
	st, err := store.Open(filepath.Join(root, "work", "qscan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.User(context.Background(), "alice")
	if err != nil || !auth.Verify(u.Hash, "new pass") || auth.Verify(u.Hash, "s3cret pass") {
		t.Errorf("alice's hash %q does not verify the new password (only): %v", u.Hash, err)
	}
	if u, _ := st.User(context.Background(), "bob"); !auth.Verify(u.Hash, "pw") || len(u.Addresses) != 2 {
		t.Errorf("bob = %+v", u)
	}
}
