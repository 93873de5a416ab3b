package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// qscanSplit runs the binary and returns its standard output and error
// apart, with the exit code.
func qscanSplit(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	cmd := exec.Command(qscanBin, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// TestHelpAndVersion: help and version, asked any usual way, go to
// standard output with exit 0.
func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"-h"}} {
		out, errOut, code := qscanSplit(t, args...)
		if code != 0 || !strings.Contains(out, "commands:") || errOut != "" {
			t.Errorf("qscan %s = %d, stdout %q, stderr %q; want 0 and the commands on stdout", strings.Join(args, " "), code, out, errOut)
		}
	}
	for _, args := range [][]string{{"--version"}, {"version"}, {"-version"}} {
		out, errOut, code := qscanSplit(t, args...)
		if code != 0 || !strings.HasPrefix(out, "qscan ") || errOut != "" {
			t.Errorf("qscan %s = %d, stdout %q, stderr %q; want 0 and \"qscan VERSION\"", strings.Join(args, " "), code, out, errOut)
		}
	}
	if out, errOut, code := qscanSplit(t, "nonsense"); code != 64 || out != "" || !strings.Contains(errOut, `unknown command "nonsense"`) {
		t.Errorf("qscan nonsense = %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestSubcommandHelp: each command's --help describes it with examples,
// once, on standard output, not as the flag package's raw list.
func TestSubcommandHelp(t *testing.T) {
	for _, args := range [][]string{
		{"run", "--help"}, {"lint", "--help"}, {"scan", "-h"}, {"enqueue", "--help"}, {"check", "--help"},
		{"quarantine", "--help"}, {"quarantine", "release", "--help"}, {"quarantine", "help"}, {"help", "scan"},
	} {
		out, errOut, code := qscanSplit(t, args...)
		name := args[0]
		if name == "help" {
			name = args[1]
		}
		if code != 0 || errOut != "" {
			t.Errorf("qscan %s = %d, stderr %q; want 0 and nothing on stderr", strings.Join(args, " "), code, errOut)
		}
		if n := strings.Count(out, "usage: qscan "+name); n != 1 {
			t.Errorf("qscan %s prints its usage %d times, want once:\n%s", strings.Join(args, " "), n, out)
		}
		if !strings.Contains(out, "examples:") || !strings.Contains(out, "exit codes") {
			t.Errorf("qscan %s has no examples or exit codes:\n%s", strings.Join(args, " "), out)
		}
		if strings.Contains(out, "Usage of") || strings.Contains(out, "-c string") {
			t.Errorf("qscan %s prints the raw flag list:\n%s", strings.Join(args, " "), out)
		}
	}
}

// TestMissingArguments: a missing argument gets a sentence naming it.
func TestMissingArguments(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"scan"}, "name the message files"},
		{[]string{"scan", "-o", filepath.Join(dir, "x"), "a.eml", "b.eml"}, "give one file"},
		{[]string{"enqueue", "-q", dir, "-f", "a@example.org", "x.eml"}, "at least one recipient (-r RCPT)"},
		{[]string{"enqueue", "-r", "b@example.test"}, "the queue directory (-q DIR), the message files"},
		{[]string{"lint", "qscan.toml"}, "goes after -c"},
	} {
		_, errOut, code := qscanSplit(t, tc.args...)
		if code != 64 || !strings.Contains(errOut, tc.want) || strings.HasPrefix(errOut, "usage:") {
			t.Errorf("qscan %s = %d, stderr %q; want 64 and a sentence with %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}
	// A bad flag names the error and points at --help, without the raw
	// list of flags.
	_, errOut, code := qscanSplit(t, "scan", "--bogus", "a.eml")
	if code != 64 || !strings.Contains(errOut, "-bogus") || !strings.Contains(errOut, "qscan scan --help") || strings.Contains(errOut, "-c string") {
		t.Errorf("qscan scan --bogus = %d, stderr %q", code, errOut)
	}
}

// TestScanExitCodes: clamscan's codes (0 clean, 1 virus or blocked,
// 2 error) and 3 for spam; over several files the most serious wins.
func TestScanExitCodes(t *testing.T) {
	_, cfg := demo(t, "[spam]\nengines = [\"spamd\"]\nblacklist = [\"spammer@example.net\"]\n[spam.spamd]\naddress = \"127.0.0.1:1\"\n")
	dir := t.TempDir()
	write := func(name, from, body string) string {
		p := filepath.Join(dir, name)
		msg := "From: " + from + "\nTo: b@example.test\nSubject: test\nMIME-Version: 1.0\n" + body
		if err := os.WriteFile(p, []byte(msg), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	clean := "../../testdata/eml/plain.eml"
	virus := write("eicar.eml", "a@example.org", "Content-Type: text/plain\n\n"+`X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`+"\n")
	blocked := write("exe.eml", "a@example.org", "Content-Type: multipart/mixed; boundary=\"BB\"\n\n--BB\nContent-Type: text/plain\n\nhello\n--BB\n"+
		"Content-Type: application/octet-stream; name=\"setup.exe\"\n\nMZ not really\n--BB--\n")
	spam := write("spam.eml", "spammer@example.net", "Content-Type: text/plain\n\nbuy now\n")
	missing := filepath.Join(dir, "missing.eml")
	for _, tc := range []struct {
		files []string
		want  int
	}{
		{[]string{clean}, 0},
		{[]string{virus}, 1},
		{[]string{blocked}, 1},
		{[]string{spam}, 3},
		{[]string{missing}, 2},
		{[]string{clean, spam, missing}, 2},
		{[]string{missing, virus, spam}, 1},
	} {
		out, code := qscan(t, append([]string{"scan", "-c", cfg}, tc.files...)...)
		if code != tc.want {
			t.Errorf("qscan scan %s = %d, want %d\n%s", strings.Join(tc.files, " "), code, tc.want, out)
		}
	}
}
