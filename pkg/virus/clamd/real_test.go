package clamd

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
)

// realClient returns a client for the clamd named by QSCAN_CLAMD (a socket
// path or host:port), skipping the test when it is not set.
func realClient(t *testing.T) *Client {
	t.Helper()
	where := os.Getenv("QSCAN_CLAMD")
	if where == "" {
		t.Skip("QSCAN_CLAMD not set (socket path or host:port of a clamd with the test signatures)")
	}
	opts := Options{Address: where}
	if strings.HasPrefix(where, "/") {
		opts = Options{Socket: where}
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRealClamd(t *testing.T) {
	c := realClient(t)
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("Ping() = %v", err)
	}
	v, err := c.Version(ctx)
	if err != nil {
		t.Fatalf("Version() = %v", err)
	}
	t.Logf("clamd %s", v)

	res, err := c.Scan(ctx, strings.NewReader("just some text\n"))
	if err != nil || res.Infected() {
		t.Errorf("Scan(text) = %+v, %v; want clean", res, err)
	}
	res, err = c.Scan(ctx, onlyReader{strings.NewReader("prefix " + eicar + " suffix")})
	if err != nil || len(res.Names()) != 1 || !strings.HasPrefix(res.Names()[0], "Eicar-Test-Signature") {
		t.Errorf("Scan(eicar) = %+v, %v; want Eicar-Test-Signature", res, err)
	}
	if c.MaxConnections() < 1 {
		t.Errorf("MaxConnections() = %d after a scan, want >= 1 (from STATS)", c.MaxConnections())
	}
	exe, err := os.ReadFile("/usr/share/clamav-testfiles/clam.exe")
	if err != nil {
		t.Skipf("clam.exe: %v", err)
	}
	f, err := os.Open("/usr/share/clamav-testfiles/clam.zip")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	for name, r := range map[string]io.Reader{
		"clam.exe": strings.NewReader(string(exe)), "clam.zip": f,
	} {
		res, err = c.Scan(ctx, r)
		if err != nil || len(res.Names()) != 1 || !strings.HasPrefix(res.Names()[0], "Clamav.Test.File-6") {
			t.Errorf("Scan(%s) = %+v, %v; want Clamav.Test.File-6", name, res, err)
		}
	}
}

// TestRealClamdSizeLimit needs a clamd whose StreamMaxLength is below
// QSCAN_CLAMD_STREAMMAX bytes (set both to run it).
func TestRealClamdSizeLimit(t *testing.T) {
	c := realClient(t)
	if os.Getenv("QSCAN_CLAMD_STREAMMAX") == "" {
		t.Skip("QSCAN_CLAMD_STREAMMAX not set")
	}
	res, err := c.Scan(context.Background(), onlyReader{strings.NewReader(strings.Repeat("x", 2<<20))})
	if err != nil || !res.LimitExceeded {
		t.Errorf("Scan(2 MiB) = %+v, %v; want LimitExceeded", res, err)
	}
}
