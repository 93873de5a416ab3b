package sendmail

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseQf feeds arbitrary bytes to the parser. It must never panic;
// whatever it accepts must be written back byte for byte; and the edit
// methods must keep the file readable.
func FuzzParseQf(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.qf")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(minimal))
	lim := Limits{MaxQfBytes: 1 << 16, MaxLineBytes: 4096, MaxHeaders: 200}
	f.Fuzz(func(t *testing.T, in []byte) {
		q, err := ParseQf(bytes.NewReader(in), lim)
		if q == nil {
			if err == nil {
				t.Fatal("ParseQf returned neither a Qf nor an error")
			}
			return
		}
		if err != nil && !errors.Is(err, ErrNoSender) && !errors.Is(err, ErrNoRecipient) {
			t.Fatalf("ParseQf returned a Qf with error %v", err)
		}
		if out := q.Bytes(); !bytes.Equal(out, in) {
			t.Fatalf("round trip:\n in %q\nout %q", in, out)
		}
		_ = q.HeaderBlock()
		_ = q.Client()
		_ = q.Authenticated()
		q.DeleteHeader("X-Fuzz")
		if err := q.AddHeader("X-Fuzz", "v\xff\x81 w"); err != nil {
			t.Fatal(err)
		}
		_ = q.ReplaceHeader("Subject", "s")
		q.DeleteHeader("Received")
		q.RemoveRecipient("fuzz@example.test")
		before := len(q.Recipients())
		if err := q.AddRecipient("fuzz@example.test"); err != nil {
			t.Fatal(err)
		}
		q2, err := ParseQf(bytes.NewReader(q.Bytes()), Limits{})
		if q2 == nil {
			t.Fatalf("edited qf unreadable: %v\n%q", err, q.Bytes())
		}
		if v, ok := q2.Header("X-Fuzz"); !ok || v != "v\xff\x81 w" {
			t.Fatalf("X-Fuzz after edit = %q, %v\n%q", v, ok, q.Bytes())
		}
		rs := q2.Recipients()
		if len(rs) != before+1 || rs[len(rs)-1].Addr != "fuzz@example.test" {
			t.Fatalf("recipients after edit = %+v, want %d ending with fuzz@example.test\n%q", rs, before+1, q.Bytes())
		}
	})
}

// FuzzParseClient: the $_ macro comes from the network (HELO, ident).
func FuzzParseClient(f *testing.F) {
	for _, s := range []string{"localhost [127.0.0.1]", "u@h [IPv6:2001:db8::1]", "root@localhost", "[", "h [x] (may be forged)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := ParseClient(s)
		if c.Local && c.IP.IsValid() {
			t.Fatalf("ParseClient(%q) = %+v: local with an address", s, c)
		}
	})
}
