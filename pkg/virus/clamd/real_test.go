package clamd

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/virus"
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
// 26 MB (the test stack's is 25M, as Debian ships it).
func TestRealClamdSizeLimit(t *testing.T) {
	c := realClient(t)
	c.opts.MaxStream = 64 << 20
	res, err := c.Scan(context.Background(), onlyReader{strings.NewReader(strings.Repeat("x", 26<<20))})
	if err != nil || !res.LimitExceeded {
		t.Errorf("Scan(26 MB) = %+v, %v; want LimitExceeded", res, err)
	}
}

// TestRealClamdSessions: scans share a session; clamd's size limit ends
// one (the next scan opens another); a database reload keeps them usable.
func TestRealClamdSessions(t *testing.T) {
	c := realClient(t)
	c.opts.Sessions = true
	c.opts.MaxStream = 64 << 20 // past clamd's StreamMaxLength (25 MB by default)
	ctx := context.Background()
	scan := func(what string, r io.Reader, want string) {
		t.Helper()
		res, err := c.Scan(ctx, r)
		if got := strings.Join(res.Names(), ","); err != nil || !strings.HasPrefix(got, want) || (want == "") != (got == "") {
			t.Fatalf("Scan(%s) = %+v, %v; want %q", what, res, err, want)
		}
	}
	for i := range 3 {
		scan("text", strings.NewReader("just some text\n"), "")
		scan("eicar", onlyReader{strings.NewReader("prefix " + eicar + " suffix")}, "Eicar-Test-Signature")
		if n := len(c.idle); n != 1 {
			t.Fatalf("round %d: %d idle sessions after one scan at a time, want 1", i, n)
		}
	}
	first := c.idle[0]
	res, err := c.Scan(ctx, strings.NewReader(strings.Repeat("x", 26<<20)))
	if err != nil || !res.LimitExceeded {
		t.Fatalf("Scan(26 MB) = %+v, %v; want LimitExceeded", res, err)
	}
	if len(c.idle) != 0 {
		t.Errorf("the session that hit the size limit was kept")
	}
	scan("text after the size limit", strings.NewReader("more text\n"), "")
	if len(c.idle) != 1 || c.idle[0] == first {
		t.Errorf("after the size limit: idle %v, want one new session", c.idle)
	}
	if reply, err := c.command(ctx, "RELOAD"); err != nil || trimTerminator(reply) != "RELOADING" {
		t.Fatalf("RELOAD = %q, %v", reply, err)
	}
	for range 20 {
		scan("text after RELOAD", strings.NewReader("text\n"), "")
		scan("eicar after RELOAD", strings.NewReader(eicar), "Eicar-Test-Signature")
	}
}

// TestRealClamdLongName: the test stack's database has a signature whose
// name (with a space) is over 400 bytes, which clamd sends whole; the
// scan is a finding with the name cut, not an engine failure.
func TestRealClamdLongName(t *testing.T) {
	c := realClient(t)
	for _, sessions := range []bool{false, true} {
		c.opts.Sessions = sessions
		res, err := c.Scan(context.Background(), strings.NewReader("qscan test signature with a long name\n"))
		names := res.Names()
		if err != nil || len(names) != 1 || !strings.HasPrefix(names[0], "Qscan.Test.Long Name LLL") ||
			!strings.HasSuffix(names[0], virus.CutMark) || len(names[0]) != virus.MaxNameLen {
			t.Errorf("sessions %v: Scan(long-name signature) = %+v, %v; want one name cut to %d bytes", sessions, res, err, virus.MaxNameLen)
		}
	}
}
