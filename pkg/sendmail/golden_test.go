package sendmail

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/internal/golden"
)

// goldenQfs returns the qf files written by the real sendmail (regen.sh).
func goldenQfs(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/*.qf")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden qf files: %v", err)
	}
	return files
}

func parseFile(t *testing.T, path string) *Qf {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	q, err := ParseQf(f, Limits{})
	if err != nil {
		t.Fatalf("ParseQf(%s): %v", path, err)
	}
	return q
}

// dump renders everything the parser extracts, one item per line, with
// byte strings quoted so that the golden file stays plain text.
func dump(q *Qf) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: %d\n", q.Version())
	fmt.Fprintf(&b, "time: %s\n", q.Time().Format(time.RFC3339))
	fmt.Fprintf(&b, "sender: %q\n", q.Sender())
	for _, r := range q.Recipients() {
		fmt.Fprintf(&b, "rcpt: addr=%q flags=%q orcpt=%q final=%q ctl=%q\n", r.Addr, r.Flags, r.ORCPT, r.Final, r.Ctl)
	}
	c := q.Client()
	fmt.Fprintf(&b, "client: ident=%q host=%q ip=%v local=%v\n", c.Ident, c.Host, c.IP, c.Local)
	fmt.Fprintf(&b, "helo: %q\nprotocol: %q\n", q.Helo(), q.Protocol())
	a, hasA := q.AuthParam()
	fmt.Fprintf(&b, "auth-param: %q present=%v\nauthenticated: %v\n", a, hasA, q.Authenticated())
	fmt.Fprintf(&b, "env-flags: %q\nbody-type: %q\nenvid: %q\n", q.EnvFlags(), q.BodyType(), q.EnvID())
	var names []string
	for n := range q.macros {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&b, "macro %s: %q\n", n, q.macros[n])
	}
	for _, h := range q.Headers() {
		fmt.Fprintf(&b, "header ?%s? %s: %q\n", h.Flags, h.Name, h.Value)
	}
	b.WriteString("-- header block\n")
	for _, l := range strings.SplitAfter(string(q.HeaderBlock()), "\n") {
		if l != "" {
			fmt.Fprintf(&b, "%q\n", l)
		}
	}
	return b.String()
}

func TestGoldenParse(t *testing.T) {
	for _, path := range goldenQfs(t) {
		name := strings.TrimSuffix(path, ".qf")
		t.Run(filepath.Base(name), func(t *testing.T) {
			q := parseFile(t, path)
			golden.Check(t, name+".want", []byte(dump(q)))
		})
	}
}

func TestGoldenRoundTrip(t *testing.T) {
	for _, path := range goldenQfs(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			in, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			q := parseFile(t, path)
			if got := q.Bytes(); !bytes.Equal(got, in) {
				t.Errorf("Bytes() after ParseQf differs from the file:\n--- got\n%q\n--- want\n%q", got, in)
			}
			var w bytes.Buffer
			n, err := q.WriteTo(&w)
			if err != nil || n != int64(len(in)) || !bytes.Equal(w.Bytes(), in) {
				t.Errorf("WriteTo = %d, %v; want %d bytes identical to the file", n, err, len(in))
			}
		})
	}
}

// editAll applies the edits a scanner makes to a delivered message.
func editAll(t *testing.T, q *Qf) (subject string) {
	t.Helper()
	old, _ := q.Header("Subject")
	subject = "{Scanned} " + old
	steps := []struct {
		name string
		err  error
	}{
		{"AddHeader", q.AddHeader("X-Qscan", "clean")},
		{"AddHeaderTop", q.AddHeaderTop("X-Qscan-Top", "first")},
		{"ReplaceHeader", q.ReplaceHeader("Subject", subject)},
		{"AddRecipient", q.AddRecipient("archive@example.test")},
	}
	for _, s := range steps {
		if s.err != nil {
			t.Fatalf("%s: %v", s.name, s.err)
		}
	}
	if n := q.DeleteHeader("received"); n != 1 {
		t.Errorf("DeleteHeader(received) = %d, want 1", n)
	}
	if n := q.RemoveRecipient("BOB@example.test"); n != 1 {
		t.Errorf("RemoveRecipient(BOB@example.test) = %d, want 1", n)
	}
	return subject
}

func TestGoldenEdit(t *testing.T) {
	for _, path := range goldenQfs(t) {
		name := strings.TrimSuffix(path, ".qf")
		t.Run(filepath.Base(name), func(t *testing.T) {
			q := parseFile(t, path)
			before := len(q.Recipients())
			subject := editAll(t, q)
			out := q.Bytes()
			golden.Check(t, name+".edited", out)

			// The edited file must read back with the edits in place.
			q2, err := ParseQf(bytes.NewReader(out), Limits{})
			if err != nil && !errors.Is(err, ErrNoRecipient) {
				t.Fatalf("ParseQf(edited): %v", err)
			}
			if got, _ := q2.Header("Subject"); got != strings.TrimSpace(subject) {
				t.Errorf("Subject after edit = %q, want %q", got, subject)
			}
			if hs := q2.Headers(); hs[0].Name != "X-Qscan-Top" || hs[len(hs)-1].Name != "X-Qscan" {
				t.Errorf("headers after edit: first %q, last %q; want X-Qscan-Top, X-Qscan", hs[0].Name, hs[len(hs)-1].Name)
			}
			if _, ok := q2.Header("Received"); ok {
				t.Errorf("Received still present after DeleteHeader")
			}
			rs := q2.Recipients()
			if len(rs) != before || rs[len(rs)-1].Addr != "archive@example.test" {
				t.Errorf("recipients after edit = %+v; want %d ending with archive@example.test", rs, before)
			}
			for _, e := range q2.entries {
				if e.kind != kindHeader || e.hdr.name != "Subject" {
					continue
				}
				for _, l := range strings.Split(string(e.raw), "\n") {
					if len(l) > MaxHeaderLine {
						t.Errorf("edited Subject has a %d-byte line: %.60q", len(l), l)
					}
				}
			}
		})
	}
}

var receivedID = regexp.MustCompile(` id ([0-9A-Za-x]{8}[0-9]{6})\b`)

// TestGoldenIDs checks NewID against the IDs real sendmail gave the golden
// messages (taken from their Received header) and their T line.
func TestGoldenIDs(t *testing.T) {
	for _, path := range goldenQfs(t) {
		q := parseFile(t, path)
		rcvd, _ := q.Header("Received")
		m := receivedID.FindStringSubmatch(rcvd)
		if m == nil {
			t.Errorf("%s: no queue id in Received %q", path, rcvd)
			continue
		}
		id := m[1]
		seq := strings.IndexByte(idChars, id[6])*60 + strings.IndexByte(idChars, id[7])
		pid, _ := strconv.Atoi(id[8:]) // Sscan would read "022657" as octal
		// The ID and the T line come from two clock readings.
		got, got1 := NewID(q.Time(), seq, pid), NewID(q.Time().Add(-time.Second), seq, pid)
		if got != id && got1 != id {
			t.Errorf("%s: NewID(%v, %d, %d) = %q, want %q", path, q.Time(), seq, pid, got, id)
		}
	}
}
