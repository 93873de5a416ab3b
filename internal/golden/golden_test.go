package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	tests := []struct {
		name, want, got, diff string
	}{
		{"changed line", "a\nb\nc\n", "a\nB\nc\n", " a\n-b\n+B\n c\n"},
		{"added line", "a\nc\n", "a\nb\nc\n", " a\n+b\n c\n"},
		{"removed line", "a\nb\n", "a\n", " a\n-b\n"},
		{"far apart", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "x\n2\n3\n4\n5\n6\n7\n8\n9\ny\n",
			"-1\n+x\n 2\n 3\n 4\n...\n 7\n 8\n 9\n-10\n+y\n"},
		{"trailing space", "a\nb\n", "a\nb \n", " \"a\\n\"\n-\"b\\n\"\n+\"b \\n\"\n"},
		{"no final newline", "a\n", "a", "-a\n+a\\ no newline at end\n"},
	}
	for _, tt := range tests {
		if got := Diff([]byte(tt.want), []byte(tt.got)); got != tt.diff {
			t.Errorf("%s: Diff(%q, %q) =\n%s\nwant\n%s", tt.name, tt.want, tt.got, got, tt.diff)
		}
	}
}

func TestDiffLong(t *testing.T) {
	a := strings.Repeat("same\n", 3000)
	got := Diff([]byte(a+"old\n"), []byte(a+"new\n"))
	if !strings.Contains(got, "first difference at line 3001:\n-old\n+new\n") {
		t.Errorf("Diff of long texts = %q", got)
	}
}

// fakeTB records what Check reports.
type fakeTB struct {
	testing.TB
	errors, fatals []string
}

func (f *fakeTB) Helper()                        {}
func (f *fakeTB) Errorf(format string, a ...any) { f.errors = append(f.errors, format) }
func (f *fakeTB) Fatalf(format string, a ...any) { f.fatals = append(f.fatals, format) }

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "x.want")
	var f fakeTB
	Check(&f, path, []byte("x\n"))
	if len(f.fatals) != 1 {
		t.Errorf("Check without a golden file: fatals %q, want one", f.fatals)
	}
	*update = true
	defer func() { *update = false }()
	f = fakeTB{}
	Check(&f, path, []byte("x\n"))
	if data, err := os.ReadFile(path); err != nil || string(data) != "x\n" || len(f.errors)+len(f.fatals) != 0 {
		t.Errorf("Check -update wrote %q, %v; reported %q %q", data, err, f.errors, f.fatals)
	}
	*update = false
	Check(&f, path, []byte("y\n"))
	if len(f.errors) != 1 {
		t.Errorf("Check of a different text: errors %q, want one", f.errors)
	}
	f = fakeTB{}
	Check(&f, path, []byte("x\n"))
	if len(f.errors)+len(f.fatals) != 0 {
		t.Errorf("Check of the same text reported %q %q", f.errors, f.fatals)
	}
}
