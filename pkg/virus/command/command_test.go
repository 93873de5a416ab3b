package command

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/virus"
)

// script writes a fake scanner to a temp dir and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "scanner")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// scanDir returns a directory with files good, bad and sub/x.
func scanDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{"good": "hello", "bad": "EVIL", "sub/x": "EVIL too"} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// names flattens ScanDir's map to "path=name,name" strings, sorted.
func names(found map[string]virus.Result) []string {
	var out []string
	for p, r := range found {
		out = append(out, p+"="+strings.Join(r.Names(), ","))
	}
	slices.Sort(out)
	return out
}

func TestScanDirGeneric(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string // nil with wantErr
		wantErr    string
	}{
		{name: "clean", body: `echo "CLEAN::$1/good"; echo "INFO::all fine"`, want: []string{}},
		{name: "infected", body: `echo "INFECTED::Test.Virus::$1/bad"; echo "INFECTED::Other::./sub/x"; echo "INFECTED::Heuristics.Encrypted.Zip::sub/x"; echo "CLEAN::$1/good"`,
			want: []string{"bad=Test.Virus", "sub/x=Other,Heuristics.Encrypted.Zip"}},
		{name: "infected exit 3", body: `echo "INFECTED::Test.Virus::bad"; exit 3`, want: []string{"bad=Test.Virus"}},
		{name: "exit 3 alone", body: `exit 3`, wantErr: "exit status 3"},
		{name: "error line", body: `echo "INFECTED::Test.Virus::bad"; echo "ERROR::cannot::read::$1/good"`, wantErr: "cannot::read"},
		{name: "failed", body: `echo "INFECTED::Test.Virus::bad"; echo ScAnNeRfAiLeD`, wantErr: "scanner reports failure"},
		{name: "unreadable infected", body: `echo "INFECTED::::bad"`, wantErr: "unreadable INFECTED line"},
		{name: "outside dir", body: `echo "INFECTED::X::/etc/passwd"`, wantErr: "outside the scan directory"},
		{name: "dot dot", body: `echo "INFECTED::X::../bad"`, wantErr: "outside the scan directory"},
		{name: "killed", body: `kill -9 $$`, wantErr: "signal: killed"},
		{name: "too much output", body: `i=0; while [ $i -lt 500 ]; do echo "INFO::padding padding padding padding"; i=$((i+1)); done`, wantErr: "bytes of output"},
		{name: "line too long", body: `head -c 10000 /dev/zero | tr '\0' x; echo`, wantErr: "token too long"},
	}
	dir := scanDir(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(Options{Path: script(t, tt.body), MaxOutput: 16 << 10})
			if err != nil {
				t.Fatal(err)
			}
			found, err := e.ScanDir(context.Background(), dir)
			if tt.wantErr != "" {
				if !errors.Is(err, virus.ErrUnavailable) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ScanDir() = %v, %v; want ErrUnavailable containing %q", found, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ScanDir() error = %v", err)
			}
			if got := names(found); !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("ScanDir() = %q, want %q", got, tt.want)
			}
			for _, r := range found {
				if r.Engine != "scanner" || r.Findings[0].Engine != "scanner" {
					t.Errorf("ScanDir() result %+v, want engine %q", r, "scanner")
				}
			}
		})
	}
}

func TestScanDirArgs(t *testing.T) {
	out := filepath.Join(t.TempDir(), "argv")
	e, err := New(Options{Path: script(t, `for a in "$@"; do echo "$a"; done > `+out+`; pwd >> `+out), Args: []string{"-x", "a b", "$HOME"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := scanDir(t)
	if _, err := e.ScanDir(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	if got, want := string(b), fmt.Sprintf("-x\na b\n$HOME\n%s\n%s\n", dir, dir); got != want {
		t.Errorf("argv and working dir = %q, want %q (no shell, dir last)", got, want)
	}
}

// TestTimeoutKillsGroup checks that a timeout kills the wrapper and the
// scanner it started.
func TestTimeoutKillsGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	e, err := New(Options{Path: script(t, `sleep 30 & echo $! > `+pidFile+`; wait`), Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.ScanDir(context.Background(), t.TempDir())
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, virus.ErrUnavailable) {
		t.Fatalf("ScanDir(hang) error = %v, want DeadlineExceeded and ErrUnavailable", err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	stat := "/proc/" + strings.TrimSpace(string(b)) + "/stat"
	for range 100 {
		s, err := os.ReadFile(stat)
		if err != nil || strings.Contains(string(s), ") Z ") {
			return // gone or a zombie
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("child sleep %s still running after the timeout", strings.TrimSpace(string(b)))
}

func TestCancel(t *testing.T) {
	e, err := New(Options{Path: script(t, `sleep 30`)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	if _, err := e.ScanDir(ctx, t.TempDir()); !errors.Is(err, context.Canceled) {
		t.Errorf("ScanDir(cancelled) error = %v, want Canceled", err)
	}
}

func TestMissingProgram(t *testing.T) {
	e, err := New(Options{Path: filepath.Join(t.TempDir(), "nothing")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ScanDir(context.Background(), t.TempDir()); !errors.Is(err, virus.ErrUnavailable) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ScanDir(missing program) error = %v, want ErrUnavailable and ErrNotExist", err)
	}
}

func TestScanDirClamPreset(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
		wantErr    string
	}{
		{name: "clean", body: `echo "$4/good: OK"; exit 0`, want: []string{}},
		{name: "found", body: `echo "$4/good: OK"; echo "$4/bad: Eicar-Test-Signature FOUND"; exit 1`, want: []string{"bad=Eicar-Test-Signature"}},
		{name: "exit 1 without FOUND", body: `exit 1`, wantErr: "without a FOUND line"},
		{name: "exit 2", body: `echo "$4/bad: Eicar-Test-Signature FOUND"; exit 2`, wantErr: "exit status 2"},
		{name: "error line", body: `echo "$4/good: Access denied. ERROR"; exit 2`, wantErr: "Access denied."},
		{name: "found heuristic", body: `echo "$4/bad: Heuristics.Limits.Exceeded.MaxFileSize FOUND"; exit 1`, want: []string{"bad=Heuristics.Limits.Exceeded.MaxFileSize"}},
	}
	dir := scanDir(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The fake gets clamscan's fixed arguments first: the dir is $4.
			e, err := New(Options{Preset: ClamScan, Path: script(t, tt.body)})
			if err != nil {
				t.Fatal(err)
			}
			found, err := e.ScanDir(context.Background(), dir)
			if tt.wantErr != "" {
				if !errors.Is(err, virus.ErrUnavailable) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ScanDir() = %v, %v; want error containing %q", found, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ScanDir() error = %v", err)
			}
			if got := names(found); !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("ScanDir() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestScanReader(t *testing.T) {
	body := `for f in $(find "$1" -type f); do grep -q EVIL "$f" && echo "INFECTED::Evil::$f"; done; exit 0`
	e, err := New(Options{Path: script(t, body), WorkDir: t.TempDir(), MaxStream: 100})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in    string
		names []string
		limit bool
	}{
		{"hello", nil, false},
		{"an EVIL thing", []string{"Evil"}, false},
		{strings.Repeat("x", 101), nil, true},
	}
	for _, tt := range tests {
		res, err := e.Scan(context.Background(), strings.NewReader(tt.in))
		if err != nil || !slices.Equal(res.Names(), tt.names) || res.LimitExceeded != tt.limit || res.Engine != "scanner" {
			t.Errorf("Scan(%.20q) = %+v, %v; want names %q, limit %v", tt.in, res, err, tt.names, tt.limit)
		}
	}
	if left, _ := os.ReadDir(e.opts.WorkDir); len(left) != 0 {
		t.Errorf("work dir not cleaned: %v", left)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		opts Options
		argv string // "" = error
	}{
		{Options{Preset: ClamScan}, "/usr/bin/clamscan --no-summary --stdout --recursive"},
		{Options{Preset: ClamScan, Args: []string{"-d", "/db"}}, "/usr/bin/clamscan --no-summary --stdout --recursive -d /db"},
		{Options{Preset: ClamdScan}, "/usr/bin/clamdscan --no-summary --fdpass"},
		{Options{Preset: ClamdScan, Args: []string{"--stream"}}, "/usr/bin/clamdscan --no-summary --stream"},
		{Options{Path: "/opt/av/wrapper", Args: []string{"/opt/av"}}, "/opt/av/wrapper /opt/av"},
		{Options{}, ""},
		{Options{Preset: "sophos"}, ""},
		{Options{Path: "wrapper"}, ""},
		{Options{Path: "/w", Timeout: -1}, ""},
	}
	for _, tt := range tests {
		e, err := New(tt.opts)
		switch {
		case tt.argv == "" && err == nil:
			t.Errorf("New(%+v) = %v, want error", tt.opts, e.argv)
		case tt.argv != "" && err != nil:
			t.Errorf("New(%+v) error = %v", tt.opts, err)
		case tt.argv != "" && strings.Join(e.argv, " ") != tt.argv:
			t.Errorf("New(%+v) argv = %q, want %q", tt.opts, strings.Join(e.argv, " "), tt.argv)
		}
	}
}
