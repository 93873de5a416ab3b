package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qscan/qscan/test/fakeclamd"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestLintEnginesDown: with clamd and spamd both unreachable, lint fails
// and names each of them (not only the first); the built-in engine, which
// works, is reported ok. --no-engines checks the configuration only.
func TestLintEnginesDown(t *testing.T) {
	root, cfg := demo(t, "")
	writeCfg(t, cfg, "")
	sock := filepath.Join(root, "no-clamd.sock")
	os.WriteFile(cfg, []byte(strings.Replace(mustRead(t, cfg), "[virus]\nscanners = [\"builtin\"]\n",
		"[virus]\nscanners = [\"clamd\", \"builtin\"]\n[virus.clamd]\nsocket = \""+sock+"\"\n", 1)+
		"[spam]\nengines = [\"spamd\"]\n[spam.spamd]\naddress = \""+closedPort(t)+"\"\n"), 0o600)
	out, errOut, code := qscanSplit(t, "lint", "-c", cfg)
	if code != 69 {
		t.Errorf("lint with clamd and spamd down = %d, want 69\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"virus clamd unix:" + sock + ": ", "spam spamd ", "2 of 3 engines failed"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("lint stderr lacks %q:\n%s", want, errOut)
		}
	}
	if !strings.Contains(out, "virus builtin: ok (EICAR found as Eicar-Test-Signature; clean text passed)") {
		t.Errorf("lint stdout does not show the built-in engine ok:\n%s", out)
	}
	out, errOut, code = qscanSplit(t, "lint", "--no-engines", "-c", cfg)
	if code != 0 || errOut != "" || !strings.Contains(out, "engines not tested") {
		t.Errorf("lint --no-engines = %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lintClamd writes a configuration whose only engine is the clamd at
// addr (host:port) and runs lint on it.
func lintClamd(t *testing.T, addr string) (stdout, stderr string, code int) {
	t.Helper()
	_, cfg := demo(t, "")
	os.WriteFile(cfg, []byte(strings.Replace(mustRead(t, cfg), "[virus]\nscanners = [\"builtin\"]\n",
		"[virus]\nscanners = [\"clamd\"]\n[virus.clamd]\naddress = \""+addr+"\"\ntimeout = \"5s\"\n", 1)+
		"[spam]\nengines = []\n"), 0o600)
	return qscanSplit(t, "lint", "-c", cfg)
}

// TestLintFakeClamd: a clamd that answers PING and VERSION but finds
// nothing in EICAR (no signatures loaded) fails; one that finds it passes.
func TestLintFakeClamd(t *testing.T) {
	blind := fakeclamd.Start(t, "tcp", fakeclamd.Answer(0, func([]byte) string { return "stream: OK\x00" }))
	out, errOut, code := lintClamd(t, blind.Addr())
	if code != 69 || !strings.Contains(errOut, "scan of EICAR: not detected") {
		t.Errorf("lint with a clamd blind to EICAR = %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	good := fakeclamd.Start(t, "tcp", fakeclamd.Answer(0, fakeclamd.EICAR))
	out, errOut, code = lintClamd(t, good.Addr())
	if code != 0 || !strings.Contains(out, "ClamAV 1.4.6/1/fake; EICAR found as Eicar-Test-Signature; clean text passed") {
		t.Errorf("lint with a working clamd = %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// TestLintRealClamd is the positive case against the real clamd of the
// test stack (eval "$(scripts/teststack env)" sets CLAMD_ADDR).
func TestLintRealClamd(t *testing.T) {
	addr := os.Getenv("CLAMD_ADDR")
	if addr == "" {
		t.Skip("CLAMD_ADDR not set: no real clamd (scripts/teststack env)")
	}
	out, errOut, code := lintClamd(t, addr)
	if code != 0 || !strings.Contains(out, "ok (ClamAV ") || !strings.Contains(out, "EICAR found as Eicar-Test-Signature") {
		t.Errorf("lint with the real clamd = %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// TestLintRealSpamd: the real spamd of the test stack (SPAMD_ADDR) passes
// lint's PING, GTUBE and plain-message checks.
func TestLintRealSpamd(t *testing.T) {
	addr := os.Getenv("SPAMD_ADDR")
	if addr == "" {
		t.Skip("SPAMD_ADDR not set: no real spamd (scripts/teststack env)")
	}
	_, cfg := demo(t, "[spam]\nengines = [\"spamd\"]\n[spam.spamd]\naddress = \""+addr+"\"\n")
	out, errOut, code := qscanSplit(t, "lint", "-c", cfg)
	if code != 0 || !strings.Contains(out, "spam spamd "+addr+": ok (GTUBE scored ") {
		t.Errorf("lint with the real spamd = %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}
