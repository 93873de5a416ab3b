package postfix

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/message"
)

func ptr(off int) []byte { return fmt.Appendf(nil, "%15d", off) }

// pointerFile builds a file as cleanup leaves it after a milter replaced
// the Subject: the old header record overwritten by a pointer (and
// padding) into a heap after the end record, where the new header is
// followed by a pointer back.
func pointerFile() []byte {
	var b []byte
	b = appendRecord(b, RecSize, []byte(sizeValue(make([]int64, 6))))
	b = appendRecord(b, RecTime, []byte("1796657428 715709"))
	b = appendRecord(b, RecFrom, []byte("alice@sender.example"))
	b = appendRecord(b, RecPtr, ptr(0)) // room to replace the sender
	b = appendRecord(b, RecOrcp, []byte("bob@example.test"))
	b = appendRecord(b, RecRcpt, []byte("bob@example.test"))
	b = appendRecord(b, RecMesg, nil)
	dataOff := len(b)
	b = appendRecord(b, RecNorm, []byte("From: alice@sender.example"))
	ptrAt := len(b)
	b = appendRecord(b, RecPtr, ptr(0)) // patched below: the old Subject
	b = appendRecord(b, RecDtxt, []byte("ject: old subj"))
	back := len(b)
	b = appendRecord(b, RecNorm, []byte("To: bob@example.test"))
	b = appendRecord(b, RecPtr, ptr(0)) // room to append headers
	b = appendRecord(b, RecNorm, nil)
	b = appendRecord(b, RecNorm, []byte("body line"))
	b = appendRecord(b, RecPtr, ptr(0)) // room to replace the body
	xOff := len(b)
	b = appendRecord(b, RecXtra, nil)
	b = appendRecord(b, RecEnd, nil)
	heap := len(b)
	b = appendRecord(b, RecNorm, []byte("Subject: new subject"))
	b = appendRecord(b, RecPtr, ptr(back))
	copy(b[ptrAt+2:], ptr(heap))
	size := sizeValue([]int64{int64(xOff - dataOff), int64(dataOff), 1, 0, int64(xOff - dataOff), 0})
	copy(b[2:], size)
	return b
}

func TestPointers(t *testing.T) {
	raw := pointerFile()
	f, err := Parse(bytes.NewReader(raw), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !f.Pointers() {
		t.Error("Pointers() = false")
	}
	wantHdr := "From: alice@sender.example\nSubject: new subject\nTo: bob@example.test\n"
	if got := string(f.Header()); got != wantHdr {
		t.Errorf("Header() = %q, want %q", got, wantHdr)
	}
	if got := string(f.Body()); got != "body line\n" {
		t.Errorf("Body() = %q", got)
	}
	if !bytes.Equal(f.Bytes(), raw) {
		t.Error("unchanged file not written back verbatim")
	}
	// Edited, it is written flat: no pointers, a size record that fits.
	if err := f.Edit([]message.HeaderEdit{{Op: message.HeaderAdd, Name: "X-QScan", Value: "clean"}}); err != nil {
		t.Fatal(err)
	}
	out := f.Bytes()
	g, err := Parse(bytes.NewReader(out), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Pointers() {
		t.Error("edited file still has pointers")
	}
	if got, want := string(g.Message()), wantHdr+"X-QScan: clean\n\nbody line\n"; got != want {
		t.Errorf("edited message = %q, want %q", got, want)
	}
	for _, r := range g.Records() {
		if r.Type == RecPtr || r.Type == RecDtxt {
			t.Errorf("flat file holds a %q record", r.Type)
		}
	}
	checkSizeRecord(t, g)
	if e := g.Envelope(); e.Sender != "alice@sender.example" || len(e.Recipients) != 1 || e.Recipients[0].Orig != "bob@example.test" {
		t.Errorf("envelope after edit = %+v", e)
	}
}

func TestEditKeepsBodyRecords(t *testing.T) {
	raw := goldenRaw(t, "long-headers")
	f, err := Parse(bytes.NewReader(raw), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	body := f.Body()
	edits := []message.HeaderEdit{
		{Op: message.HeaderDelete, Name: "X-Long"},
		{Op: message.HeaderReplace, Name: "Subject", Value: "{Scanned} long folded headers"},
		{Op: message.HeaderAdd, Name: "X-QScan-Report", Value: "line one\n\tline two"},
	}
	if err := f.Edit(edits); err != nil {
		t.Fatal(err)
	}
	g, err := Parse(bytes.NewReader(f.Bytes()), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g.Body(), body) {
		t.Error("body changed by a header edit")
	}
	want := message.EditHeader(mustParse(t, raw).Header(), edits)
	if !bytes.Equal(g.Header(), want) {
		t.Errorf("header = %q\nwant %q", g.Header(), want)
	}
	if !bytes.Contains(g.Header(), []byte("X-QScan-Report: line one\n\tline two\n")) {
		t.Error("folded value not kept as two lines")
	}
	checkSizeRecord(t, g)
	// The envelope records are the golden file's, in order.
	if a, b := mustParse(t, raw).Envelope(), g.Envelope(); fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("envelope changed:\n%+v\n%+v", a, b)
	}
}

func TestSetBody(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"new body\r\nsecond\r\n", "new body\nsecond\n"},
		{"no final line end", "no final line end\n"},
		{"\n", "\n"},
		{"", ""},
		{strings.Repeat("z", 5000) + "\n", strings.Repeat("z", 5000) + "\n"},
	} {
		f := mustParse(t, goldenRaw(t, "multi-rcpt"))
		hdr := f.Header()
		if err := f.SetBody(strings.NewReader(c.in)); err != nil {
			t.Fatal(err)
		}
		g := mustParse(t, f.Bytes())
		if got := string(g.Body()); got != c.want {
			t.Errorf("SetBody(%.40q): body %.40q, want %.40q", c.in, got, c.want)
		}
		if !bytes.Equal(g.Header(), hdr) {
			t.Errorf("SetBody(%.40q) changed the header", c.in)
		}
		checkSizeRecord(t, g)
	}
}

func TestSetHeaderRejects(t *testing.T) {
	f := mustParse(t, goldenRaw(t, "multi-rcpt"))
	if err := f.SetHeader([]byte("A: 1\n\nB: 2\n")); err == nil {
		t.Error("SetHeader with an empty line inside: no error")
	}
	if err := f.SetHeader(bytes.Repeat([]byte("X"), DefaultMaxHeaderBytes+1)); err == nil {
		t.Error("SetHeader over the limit: no error")
	}
}

func TestNewFile(t *testing.T) {
	now := time.Unix(1796657428, 715709000)
	hdr := "From: postmaster@example.test\r\nSubject: report\r\n"
	body := "line\n" + strings.Repeat("q", 4100) + "\n"
	f, err := NewFile([]byte(hdr), []byte(body), NewOpts{Time: now, Sender: "postmaster@example.test",
		Recipients: []NewRcpt{{Addr: "a@example.test"}, {Addr: "b@example.test", Orig: "B@example.test", Notify: NotifyFailure | NotifyDelay}},
		ClientAddr: "127.0.0.1", Helo: "scanner.example.test", Protocol: "ESMTP", EnvID: "env1", Ret: RetHdrs, SMTPUTF8: true})
	if err != nil {
		t.Fatal(err)
	}
	g := mustParse(t, f.Bytes())
	if got := string(g.Message()); got != "From: postmaster@example.test\nSubject: report\n\n"+body {
		t.Errorf("message = %.80q", got)
	}
	e := g.Envelope()
	if e.Sender != "postmaster@example.test" || !e.Arrival.Equal(now) || e.Created.Unix() != now.Unix() || e.ClientAddr != "127.0.0.1" ||
		e.Helo != "scanner.example.test" || e.EnvID != "env1" || e.Ret != RetHdrs || e.RewriteContext != "local" {
		t.Errorf("envelope = %+v", e)
	}
	want := []Recipient{{Addr: "a@example.test", Orig: "a@example.test", DSNOrcpt: "rfc822;a@example.test"},
		{Addr: "b@example.test", Orig: "B@example.test", DSNOrcpt: "rfc822;B@example.test", Notify: NotifyFailure | NotifyDelay}}
	if fmt.Sprint(e.Recipients) != fmt.Sprint(want) {
		t.Errorf("recipients = %+v, want %+v", e.Recipients, want)
	}
	if g.SizeFields()[5] != 1 {
		t.Errorf("smtputf8 field = %d, want 1", g.SizeFields()[5])
	}
	checkSizeRecord(t, g)
	for _, bad := range []NewOpts{{Sender: "a@b", Recipients: []NewRcpt{{Addr: "c@d"}}},
		{Time: now, Sender: "a@b"},
		{Time: now, Sender: "a@b\nR evil@x", Recipients: []NewRcpt{{Addr: "c@d"}}},
		{Time: now, Sender: "a@b", Recipients: []NewRcpt{{Addr: ""}}}} {
		if _, err := NewFile([]byte(hdr), nil, bad); err == nil {
			t.Errorf("NewFile(%+v): no error", bad)
		}
	}
}

func goldenRaw(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := readTestdata(name + ".pf")
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func mustParse(t *testing.T, raw []byte) *File {
	t.Helper()
	f, err := Parse(bytes.NewReader(raw), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}
