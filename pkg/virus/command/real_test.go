package command

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const eicarString = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

// realDir returns a directory with a clean file, an EICAR file and, when
// clamav-testfiles is installed, clam.exe and clam.zip; and the findings a
// ClamAV with the test signatures should report.
func realDir(t *testing.T) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"part-1": "hello, world\n", "part-2": "Subject: x\n\n" + eicarString + "\n"}
	want := []string{"part-2=Eicar-Test-Signature.UNOFFICIAL"}
	for _, name := range []string{"clam.exe", "clam.zip"} {
		if b, err := os.ReadFile("/usr/share/clamav-testfiles/" + name); err == nil {
			files["sub/"+name] = string(b)
			want = append(want, "sub/"+name+"=Clamav.Test.File-6.UNOFFICIAL")
		}
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(want)
	return dir, want
}

func TestRealClamscan(t *testing.T) {
	if _, err := os.Stat("/usr/bin/clamscan"); err != nil {
		t.Skip("clamscan not installed")
	}
	db, err := filepath.Abs("testdata/clamdb")
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{Preset: ClamScan, Args: []string{"--database=" + db}})
	if err != nil {
		t.Fatal(err)
	}
	dir, want := realDir(t)
	found, err := e.ScanDir(context.Background(), dir)
	if err != nil {
		t.Fatalf("ScanDir() error = %v", err)
	}
	if got := names(found); !slices.Equal(got, want) {
		t.Errorf("ScanDir() = %q, want %q", got, want)
	}
	res, err := e.Scan(context.Background(), strings.NewReader(eicarString))
	if err != nil || !slices.Equal(res.Names(), []string{"Eicar-Test-Signature.UNOFFICIAL"}) {
		t.Errorf("Scan(eicar) = %+v, %v", res, err)
	}
	// A missing database is clamscan's exit 2: an error, never clean.
	bad, _ := New(Options{Preset: ClamScan, Args: []string{"--database=" + filepath.Join(t.TempDir(), "none")}})
	if found, err := bad.ScanDir(context.Background(), dir); err == nil {
		t.Errorf("ScanDir(no database) = %v, want error", found)
	}
}

// TestRealClamdscan runs clamdscan against the clamd named by QSCAN_CLAMD.
func TestRealClamdscan(t *testing.T) {
	where := os.Getenv("QSCAN_CLAMD")
	if where == "" {
		t.Skip("QSCAN_CLAMD not set")
	}
	if _, err := os.Stat("/usr/bin/clamdscan"); err != nil {
		t.Skip("clamdscan not installed")
	}
	conf := "LocalSocket " + where + "\n"
	args := []string{} // --fdpass by default, over the unix socket
	if !strings.HasPrefix(where, "/") {
		host, port, _ := strings.Cut(where, ":")
		conf = "TCPAddr " + host + "\nTCPSocket " + port + "\n"
		args = []string{"--stream"}
	}
	cf := filepath.Join(t.TempDir(), "clamd.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{Preset: ClamdScan, Args: append(args, "--config-file="+cf)})
	if err != nil {
		t.Fatal(err)
	}
	dir, want := realDir(t)
	found, err := e.ScanDir(context.Background(), dir)
	if err != nil {
		t.Fatalf("ScanDir() error = %v", err)
	}
	if got := names(found); !slices.Equal(got, want) {
		t.Errorf("ScanDir() = %q, want %q", got, want)
	}
}

// TestClamdscanDown checks that clamdscan with no clamd behind it is an
// error (its exit 2), never a clean verdict.
func TestClamdscanDown(t *testing.T) {
	if _, err := os.Stat("/usr/bin/clamdscan"); err != nil {
		t.Skip("clamdscan not installed")
	}
	tmp := t.TempDir()
	cf := filepath.Join(tmp, "clamd.conf")
	if err := os.WriteFile(cf, []byte("LocalSocket "+filepath.Join(tmp, "none.sock")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{Preset: ClamdScan, Args: []string{"--config-file=" + cf}})
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := realDir(t)
	found, err := e.ScanDir(context.Background(), dir)
	if err == nil {
		t.Errorf("ScanDir(no clamd) = %v, want error", found)
	}
	t.Logf("error: %v", err)
}
