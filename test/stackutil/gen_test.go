package stackutil

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMessage(t *testing.T) {
	a, b := Message("e2e", 2, "x", false), Message("e2e", 2, "x", false)
	if !bytes.Equal(a.Raw, b.Raw) || a.ID != "<x-2@e2e.example>" {
		t.Errorf("Message not deterministic or ID %q", a.ID)
	}
	if got := HeaderValue(a.Raw, "Subject"); got != "e2e x message 2" {
		t.Errorf("Subject = %q", got)
	}
	if bytes.Contains(a.Raw, []byte("files2.zip")) {
		t.Error("a clean message carries the EICAR zip")
	}
	if v := Message("rel", 2, "x", true); !v.Infected || !bytes.Contains(v.Raw, []byte("files2.zip")) {
		t.Error("an infected message has no EICAR zip")
	}
}

func TestBase64Lines(t *testing.T) {
	got := Base64Lines(bytes.Repeat([]byte{0xff}, 60))
	lines := strings.Split(got, "\n")
	if len(lines) != 3 || len(lines[0]) != 76 || lines[2] != "" {
		t.Errorf("Base64Lines = %q", got)
	}
}

func TestReadLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qscan.log")
	text := `{"time":"2026-11-22T08:07:06Z","level":"INFO","msg":"batch done","ms":120}` + "\nnot json\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	e := ReadLog(path)
	if len(e) != 2 || e[0].Msg != "batch done" || e[1].Msg != "not json" || e[0].Time.IsZero() {
		t.Fatalf("ReadLog = %+v", e)
	}
	if got := BatchTimes(e); len(got) != 1 || got[0] != 120*time.Millisecond {
		t.Errorf("BatchTimes = %v", got)
	}
	if got := GrepLog(e, "not"); len(got) != 1 {
		t.Errorf("GrepLog = %q", got)
	}
}

// TestDaemon runs a shell script in place of qscan: Stop ends it with
// SIGTERM, Kill with SIGKILL, and its output reaches the log file.
func TestDaemon(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "fake")
	script := "#!/bin/sh\necho started \"$@\"\ntrap 'echo stopping; exit 0' TERM\nwhile :; do sleep 0.05; done\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(dir, "log")
	d := StartDaemon(t, bin, "cfg.toml", DaemonOpts{LogFile: logFile})
	WaitUntil(5*time.Second, func() bool { data, _ := os.ReadFile(logFile); return len(data) > 0 })
	if !d.Alive() {
		t.Fatal("daemon not alive")
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(logFile); string(data) != "started run -c cfg.toml\nstopping\n" {
		t.Errorf("log = %q", data)
	}
	var buf bytes.Buffer
	d = StartDaemon(t, bin, "cfg.toml", DaemonOpts{Log: &buf, Group: true})
	d.Kill()
	if d.Alive() {
		t.Error("daemon alive after Kill")
	}
}
