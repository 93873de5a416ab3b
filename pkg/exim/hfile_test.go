package exim

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/message"
)

func golden(t *testing.T, name string) *H {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name + ".H")
	if err != nil {
		t.Fatal(err)
	}
	h, err := ParseH(bytes.NewReader(raw), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestParseRecipient(t *testing.T) {
	for _, tc := range []struct {
		line string
		want Recipient
	}{
		{"bob@example.test", Recipient{Address: "bob@example.test", Parent: -1}},
		{"bob@example.test 3", Recipient{Address: "bob@example.test", Parent: 3}},     // early Exim 4
		{"bob@example.test 0,4,0", Recipient{Address: "bob@example.test", Parent: 4}}, // Exim 3
		{"carol@example.test  0,2  0,-1#3", Recipient{Address: "carol@example.test", DSNFlags: DSNNotifyNever, Parent: -1}},
		{"bob@example.test RFC822;bob@orig.example 23,12  0,-1#3", Recipient{Address: "bob@example.test", ORcpt: "RFC822;bob@orig.example", DSNFlags: 12, Parent: -1}},
		{"x@y.test  0,0 owner@y.test 12,2#3", Recipient{Address: "x@y.test", ErrorsTo: "owner@y.test", Parent: 2}},
		{"x@y.test owner@y.test 12,2#1", Recipient{Address: "x@y.test", ErrorsTo: "owner@y.test", Parent: 2}},
		{"\"a b\"@y.test", Recipient{Address: "\"a b\"@y.test", Parent: -1}},
		{"x@y.test 99,2#3", Recipient{Address: "x@y.test 99,2#3", Parent: -1}}, // length beyond the line
	} {
		if got := parseRecipient(tc.line); got != tc.want {
			t.Errorf("parseRecipient(%q) = %+v, want %+v", tc.line, got, tc.want)
		}
	}
}

func TestRecipientFormatRoundTrip(t *testing.T) {
	for _, r := range []Recipient{
		{Address: "a@b.test", Parent: -1},
		{Address: "a@b.test", ORcpt: "rfc822;x@y", DSNFlags: DSNNotifySuccess | DSNNotifyDelay, Parent: -1},
		{Address: "a@b.test", ErrorsTo: "e@b.test", Parent: 0},
		{Address: "a b@b.test", ORcpt: "rfc822;x y@z", DSNFlags: DSNNotifyFailure, ErrorsTo: "e f@g", Parent: 7},
	} {
		if got := parseRecipient(r.format()); got != r {
			t.Errorf("parseRecipient(%q) = %+v, want %+v", r.format(), got, r)
		}
	}
	// As Exim: ORCPT alone (no NOTIFY, no errors_to) is not written.
	if got := (Recipient{Address: "a@b", ORcpt: "rfc822;a@b", Parent: -1}).format(); got != "a@b" {
		t.Errorf("format = %q, want a@b", got)
	}
}

func TestParseHErrors(t *testing.T) {
	good, _ := os.ReadFile("testdata/multi.H")
	for _, tc := range []struct {
		name string
		data string
		want error
	}{
		{"empty", "", ErrFormat},
		{"bad id line", strings.Replace(string(good), "-H\n", "-X\n", 1), ErrFormat},
		{"nul", strings.Replace(string(good), "Cc: dave", "Cc: \x00ave", 1), ErrNUL},
		{"no sender brackets", strings.Replace(string(good), "<alice@sender.example>", "alice@sender.example", 1), ErrFormat},
		{"bad time", replaceLine(string(good), 3, "soon 0"), ErrFormat},
		{"bad user line", replaceLine(string(good), 1, "Debian-exim x 994"), ErrFormat},
		{"count too big", strings.Replace(string(good), "XX\n3\n", "XX\n9\n", 1), ErrFormat},
		{"no blank line", strings.Replace(string(good), "dave@example.test\n\n", "dave@example.test\n", 1), ErrFormat},
		{"header length beyond end", string(good) + "999  X: y\n", ErrFormat},
		{"header without flag", string(good) + "010\n", ErrFormat},
		{"truncated", string(good[:len(good)-5]), ErrFormat},
		{"bad tree", strings.Replace(string(good), "XX\n", "YN a@b\n", 1), ErrFormat},
		{"acl beyond end", strings.Replace(string(good), "-deliver_firsttime\n", "-aclm _x 99999\n", 1), ErrFormat},
	} {
		_, err := ParseH(strings.NewReader(tc.data), Limits{})
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: ParseH error %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestParseHTree(t *testing.T) {
	good, _ := os.ReadFile("testdata/multi.H")
	tree := "YY darcy@austen.fict.example\nNN alice@wonderland.fict.example\nNN editor@thesaurus.ref.example\n"
	data := strings.Replace(string(good), "XX\n", tree, 1)
	h, err := ParseH(strings.NewReader(data), Limits{})
	if err != nil {
		t.Fatalf("ParseH with a three-node tree: %v", err)
	}
	if len(h.Recipients()) != 3 || !bytes.Equal(h.Bytes(), []byte(data)) {
		t.Errorf("tree not kept: %d recipients", len(h.Recipients()))
	}
}

func TestLimits(t *testing.T) {
	raw, _ := os.ReadFile("testdata/multi.H")
	h := golden(t, "multi")
	n := int64(len(raw))
	for _, tc := range []struct {
		name string
		lim  Limits
		want error
	}{
		{"bytes at the limit", Limits{MaxHBytes: n}, nil},
		{"bytes over", Limits{MaxHBytes: n - 1}, ErrTooLarge},
		{"headers at the limit", Limits{MaxHeaders: len(h.Headers())}, nil},
		{"headers over", Limits{MaxHeaders: len(h.Headers()) - 1}, ErrTooManyHeaders},
		{"recipients at the limit", Limits{MaxRecipients: 3}, nil},
		{"recipients over", Limits{MaxRecipients: 2}, ErrTooManyRcpts},
		{"line at the limit", Limits{MaxLineBytes: len("-received_time_complete 1796657711.855123")}, nil},
		{"line over", Limits{MaxLineBytes: len("-received_time_complete 1796657711.855123") - 1}, ErrLineTooLong},
	} {
		_, err := ParseH(bytes.NewReader(raw), tc.lim)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: ParseH error %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestEdit(t *testing.T) {
	h := golden(t, "multi")
	before := h.Bytes()
	err := h.Edit([]message.HeaderEdit{
		{Op: message.HeaderReplace, Name: "subject", Value: "{Spam?} several recipients"},
		{Op: message.HeaderAdd, Name: "X-QScan", Value: "Found to be clean"},
		{Op: message.HeaderDelete, Name: "Reply-To"},
		{Op: message.HeaderAdd, Name: "To", Value: "x@example.test,\n\ty@example.test"},
		{Op: message.HeaderReplace, Name: "X-New", Value: "added by replace"},
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	out := h.Bytes()
	for _, s := range []string{
		"028* Subject: several recipients\n036  Subject: {Spam?} several recipients\n", // old kept, new after it
		"031* Reply-To: alice@sender.example\n",
		"027  X-QScan: Found to be clean\n",
		"036T To: x@example.test,\n\ty@example.test\n",
		"024  X-New: added by replace\n",
	} {
		if !bytes.Contains(out, []byte(s)) {
			t.Errorf("edited -H lacks %q:\n%s", s, out)
		}
	}
	if !bytes.HasPrefix(out, before[:bytes.Index(before, []byte("\n\n"))+2]) {
		t.Error("header edits changed the envelope")
	}
	// Exim reads back what was written, and HeaderBlock is what it sends.
	h2, err := ParseH(bytes.NewReader(out), Limits{})
	if err != nil {
		t.Fatalf("ParseH(edited): %v", err)
	}
	block := string(h2.HeaderBlock())
	if strings.Contains(block, "Reply-To") || strings.Count(block, "Subject:") != 1 || !strings.Contains(block, "Subject: {Spam?}") {
		t.Errorf("HeaderBlock after edits:\n%s", block)
	}
	want := message.EditHeader(golden(t, "multi").HeaderBlock(), []message.HeaderEdit{
		{Op: message.HeaderDelete, Name: "Reply-To"},
		{Op: message.HeaderAdd, Name: "X-QScan", Value: "Found to be clean"},
	})
	h3 := golden(t, "multi")
	h3.Edit([]message.HeaderEdit{{Op: message.HeaderDelete, Name: "Reply-To"}, {Op: message.HeaderAdd, Name: "X-QScan", Value: "Found to be clean"}}, false)
	if got := h3.HeaderBlock(); !bytes.Equal(got, want) {
		t.Errorf("HeaderBlock after Edit differs from message.EditHeader:\n got %q\nwant %q", got, want)
	}
	if err := h.Edit([]message.HeaderEdit{{Op: message.HeaderAdd, Name: "Bad Name", Value: "x"}}, false); !errors.Is(err, ErrBadHeader) {
		t.Errorf("add with a bad name: %v, want ErrBadHeader", err)
	}
}

func TestEditAtTop(t *testing.T) {
	h := golden(t, "null")
	if err := h.Edit([]message.HeaderEdit{{Op: message.HeaderAdd, Name: "X-Top", Value: "first"}}, true); err != nil {
		t.Fatal(err)
	}
	if hs := h.Headers(); hs[0].Name != "X-Top" || hs[1].Name != "Received" {
		t.Errorf("headers after add at top: %q, %q", hs[0].Name, hs[1].Name)
	}
}

func TestSetOptionAndID(t *testing.T) {
	h := golden(t, "multi")
	if err := h.SetBodyLines(12); err != nil || h.BodyLines() != 12 {
		t.Fatalf("SetBodyLines: %v, BodyLines %d", err, h.BodyLines())
	}
	if err := h.SetID("1xaakB-zzzzzz-2h"); err != nil {
		t.Fatal(err)
	}
	out := h.Bytes()
	if !bytes.HasPrefix(out, []byte("1xaakB-zzzzzz-2h-H\n")) || !bytes.Contains(out, []byte("\n-body_linecount 12\n-max_received")) {
		t.Errorf("after SetBodyLines and SetID:\n%s", out)
	}
	if err := h.SetID("../x"); err == nil {
		t.Error("SetID accepted a path")
	}
	if err := h.SetOption("x", "a\nb"); err == nil {
		t.Error("SetOption accepted a line break")
	}
}

// replaceLine replaces line n (from 0) of s.
func replaceLine(s string, n int, line string) string {
	lines := strings.SplitAfter(s, "\n")
	lines[n] = line + "\n"
	return strings.Join(lines, "")
}
