package builtin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/qscan/qscan/pkg/virus"
)

const eicarString = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

func scan(t *testing.T, e *Engine, r io.Reader) virus.Result {
	t.Helper()
	res, err := e.Scan(context.Background(), r)
	if err != nil {
		t.Fatalf("Scan() error = %v", err)
	}
	if res.Engine != Name {
		t.Errorf("Scan() engine = %q, want %q", res.Engine, Name)
	}
	return res
}

func TestScanEICAR(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("a", 70000)
	tests := []struct {
		name, in string
		found    bool
	}{
		{"spec file", eicarString, true},
		{"spec file with whitespace", eicarString + " \t\r\n\x1a", true},
		{"inside text", "Hello\n" + eicarString + "\nbye", true},
		{"across a 64 KiB read", big[:65536-30] + eicarString + big, true},
		{"at the very end", big + eicarString, true},
		{"empty", "", false},
		{"truncated", eicarString[:67], false},
		{"one byte changed", strings.Replace(eicarString, "EICAR", "EICAT", 1), false},
		{"big clean", big + big, false},
	}
	for _, tt := range tests {
		// OneByteReader and HalfReader make matches cross every read boundary.
		for _, r := range []io.Reader{strings.NewReader(tt.in), iotest.OneByteReader(strings.NewReader(tt.in)), iotest.HalfReader(strings.NewReader(tt.in))} {
			res := scan(t, e, r)
			if got := slices.Contains(res.Names(), EICARName); got != tt.found {
				t.Errorf("%s: Scan() = %+v, want EICAR found %v", tt.name, res, tt.found)
			}
		}
	}
}

func TestScanHashes(t *testing.T) {
	dir := t.TempDir()
	sum := sha256.Sum256([]byte("bad content"))
	write(t, dir, "a.hdb", "# test\n\n"+
		"5eb63bbbe01eeed093cb22bb8f5acdc3:11:Test.MD5.HelloWorld\n") // md5("hello world")
	write(t, dir, "b.hsb", hex.EncodeToString(sum[:])+":*:Test.SHA256.Any:73\n"+
		"2aae6c35c94fcfb415dbe95f408b9ce91ee846ed:11:Test.SHA1.HelloWorld\n") // sha1("hello world")
	write(t, dir, "ignored.ndb", "not:a:hash:file\n")
	e, err := New(Options{Signatures: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Signatures(); got != 3 {
		t.Errorf("Signatures() = %d, want 3", got)
	}
	tests := []struct {
		in    string
		names []string
	}{
		{"hello world", []string{"Test.MD5.HelloWorld", "Test.SHA1.HelloWorld"}},
		{"hello world!", nil},
		{"bad content", []string{"Test.SHA256.Any"}},
		{"Hello world", nil},
		{eicarString, []string{EICARName}},
	}
	for _, tt := range tests {
		if got := scan(t, e, strings.NewReader(tt.in)).Names(); !slices.Equal(got, tt.names) {
			t.Errorf("Scan(%q) names = %q, want %q", tt.in, got, tt.names)
		}
	}
}

func TestScanClamExe(t *testing.T) {
	e, err := New(Options{Signatures: "testdata"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("/usr/share/clamav-testfiles/clam.exe")
	if err != nil {
		t.Skipf("clamav-testfiles not installed: %v", err)
	}
	defer f.Close()
	if got := scan(t, e, f).Names(); !slices.Equal(got, []string{"Clamav.Test.File-6"}) {
		t.Errorf("Scan(clam.exe) names = %q, want Clamav.Test.File-6", got)
	}
}

func TestScanErrors(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Scan(context.Background(), iotest.ErrReader(errors.New("disk on fire")))
	if !errors.Is(err, virus.ErrUnavailable) {
		t.Errorf("Scan(failing reader) error = %v, want ErrUnavailable", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = e.Scan(ctx, strings.NewReader("x"))
	if !errors.Is(err, context.Canceled) || !errors.Is(err, virus.ErrUnavailable) {
		t.Errorf("Scan(cancelled) error = %v, want Canceled and ErrUnavailable", err)
	}
}

func TestNewMalformed(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "x.hdb", "5eb63bbbe01eeed093cb22bb8f5acdc3:11:Good\nnothex:11:Bad\n"+strings.Repeat("f", 5000)+"\n"+
		"5eb63bbbe01eeed093cb22bb8f5acdc3:eleven:Bad\n5eb63bbbe01eeed093cb22bb8f5acdc3:0:Also.Good")
	e, err := New(Options{Signatures: dir})
	if e == nil || !errors.Is(err, ErrMalformed) {
		t.Fatalf("New() = %v, %v; want engine and ErrMalformed", e, err)
	}
	var lines []int
	for _, le := range err.(interface{ Unwrap() []error }).Unwrap() {
		var lerr *LineError
		if errors.As(le, &lerr) && lerr.File == filepath.Join(dir, "x.hdb") {
			lines = append(lines, lerr.Line)
		}
	}
	if !slices.Equal(lines, []int{2, 3, 4}) {
		t.Errorf("malformed lines = %v, want [2 3 4] (err: %v)", lines, err)
	}
	if got := e.Signatures(); got != 2 {
		t.Errorf("Signatures() = %d, want 2", got)
	}
	if _, err := New(Options{Signatures: filepath.Join(dir, "missing")}); err == nil || errors.Is(err, ErrMalformed) {
		t.Errorf("New(missing dir) error = %v, want a fatal error", err)
	}
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.hdb", "5eb63bbbe01eeed093cb22bb8f5acdc3:11:First\n")
	e, err := New(Options{Signatures: dir, ReloadInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	if changed, err := e.MaybeReload(t0); changed || err != nil {
		t.Errorf("MaybeReload(no change) = %v, %v; want false, nil", changed, err)
	}
	write(t, dir, "a.hdb", "5eb63bbbe01eeed093cb22bb8f5acdc3:11:Second\n")
	os.Chtimes(filepath.Join(dir, "a.hdb"), t0, t0.Add(time.Hour)) // same size: mtime must tell
	if changed, err := e.MaybeReload(t0.Add(30 * time.Second)); changed || err != nil {
		t.Errorf("MaybeReload(before interval) = %v, %v; want false, nil", changed, err)
	}
	if changed, err := e.MaybeReload(t0.Add(time.Minute)); !changed || err != nil {
		t.Errorf("MaybeReload(after interval) = %v, %v; want true, nil", changed, err)
	}
	if got := scan(t, e, strings.NewReader("hello world")).Names(); !slices.Equal(got, []string{"Second"}) {
		t.Errorf("after reload names = %q, want [Second]", got)
	}
	// A new file is noticed; an unreadable directory keeps the old set.
	write(t, dir, "b.hsb", "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed:11:Third\n")
	if changed, err := e.Reload(); !changed || err != nil {
		t.Errorf("Reload(new file) = %v, %v; want true, nil", changed, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if changed, err := e.Reload(); changed || err == nil {
		t.Errorf("Reload(dir gone) = %v, %v; want false, error", changed, err)
	}
	if got := scan(t, e, strings.NewReader("hello world")).Names(); !slices.Equal(got, []string{"Second", "Third"}) {
		t.Errorf("after failed reload names = %q, want [Second Third]", got)
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkScan(b *testing.B) {
	e, err := New(Options{Signatures: "testdata"})
	if err != nil {
		b.Fatal(err)
	}
	data := strings.Repeat("0123456789abcdef", 64<<10) // 1 MiB
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := e.Scan(context.Background(), strings.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
