package sendmail

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// minimal is a small qf in sendmail 8.17's shape.
const minimal = "V8\nT1795334826\nK0\nN0\nP31161\nFbs\n" +
	"$_localhost [127.0.0.1]\n$rESMTP\n$svm\n${daemon_flags}\n" +
	"S<alice@sender.example>\nrRFC822; bob@example.test\nRPFD:<bob@example.test>\n" +
	"H?P?Return-Path: <\x81g>\nH??Subject: hi\n\tthere\n.\n"

func mustParse(t *testing.T, s string) *Qf {
	t.Helper()
	q, err := ParseQf(strings.NewReader(s), Limits{})
	if err != nil {
		t.Fatalf("ParseQf(%q): %v", s, err)
	}
	return q
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		lim   Limits
		want  []error
		hasQf bool // the Qf is returned along with the error
	}{
		{"truncated", "V8\nS<a@b>\nRPFD:<c@d>\n", Limits{}, []error{ErrTruncated}, false},
		{"empty", "", Limits{}, []error{ErrTruncated}, false},
		{"NUL", "V8\nS<a@b>\nRPFD:<c\x00@d>\n.\n", Limits{}, []error{ErrNUL}, false},
		{"no sender", "V8\nRPFD:<c@d>\n.\n", Limits{}, []error{ErrNoSender}, true},
		{"no recipient", "V8\nS<a@b>\nrRFC822; c@d\n.\n", Limits{}, []error{ErrNoRecipient}, true},
		{"neither", "V8\n.\n", Limits{}, []error{ErrNoSender, ErrNoRecipient}, true},
		{"too large", minimal, Limits{MaxQfBytes: 100}, []error{ErrTooLarge}, false},
		{"line too long", minimal, Limits{MaxLineBytes: 20}, []error{ErrLineTooLong}, false},
		{"continuation too long", "V8\nH??A: b\n\t" + strings.Repeat("x", 50) + "\n.\n", Limits{MaxLineBytes: 40}, []error{ErrLineTooLong}, false},
		{"too many headers", minimal, Limits{MaxHeaders: 1}, []error{ErrTooManyHeaders}, false},
		{"version 9", "V9\nS<a@b>\nRPFD:<c@d>\n.\n", Limits{}, []error{ErrVersion}, false},
		{"version junk", "Vx\nS<a@b>\nRPFD:<c@d>\n.\n", Limits{}, []error{ErrVersion}, false},
	}
	for _, tt := range tests {
		q, err := ParseQf(strings.NewReader(tt.in), tt.lim)
		for _, w := range tt.want {
			if !errors.Is(err, w) {
				t.Errorf("%s: ParseQf(%q) error = %v, want %v", tt.name, tt.in, err, w)
			}
		}
		if (q != nil) != tt.hasQf {
			t.Errorf("%s: ParseQf(%q) returned Qf %v, want one: %v", tt.name, tt.in, q != nil, tt.hasQf)
		}
	}
}

func TestParseNoRecipientKeepsData(t *testing.T) {
	q, err := ParseQf(strings.NewReader("V8\nS<alice@a.example>\n$_h [192.0.2.7]\nH??Subject: x\n.\n"), Limits{})
	if !errors.Is(err, ErrNoRecipient) || q == nil {
		t.Fatalf("ParseQf = %v, %v; want a Qf and ErrNoRecipient", q, err)
	}
	if q.Sender() != "alice@a.example" || q.ClientIP().String() != "192.0.2.7" {
		t.Errorf("Sender, ClientIP = %q, %v; want alice@a.example, 192.0.2.7", q.Sender(), q.ClientIP())
	}
}

// TestRoundTripOddInputs checks byte-exact output for inputs sendmail
// would not write but that must survive a pass through qscan.
func TestRoundTripOddInputs(t *testing.T) {
	tests := []string{
		minimal,
		strings.ReplaceAll(minimal, "\n", "\r\n"),
		minimal + "garbage after the end\n",
		strings.TrimSuffix(minimal, "\n"),        // "." without a line end
		"\tfolded first line\n" + minimal,        // continuation with nothing above
		"V8\n\nXunknown code\nS<a@b>\nRc@d\n.\n", // blank and unknown lines
		"V8\nS<a@b>\nRPFD:<c@d>\nH?bad header\nH??: empty name\n.\n",
		"V8\nS<a@b>\nQrfc822;c@d\nH??X: y\nRPFD:<c@d>\n.\n", // Q not followed by R
		"V8\nS<a@b>\nRPFD:<c@d>\nCroot\n.\n",                // dangling C at the end
	}
	for _, in := range tests {
		q, err := ParseQf(strings.NewReader(in), Limits{})
		if q == nil {
			t.Errorf("ParseQf(%q): %v", in, err)
			continue
		}
		if got := q.Bytes(); !bytes.Equal(got, []byte(in)) {
			t.Errorf("ParseQf(%q).Bytes() = %q", in, got)
		}
	}
}

func TestParseCRLF(t *testing.T) {
	q := mustParse(t, strings.ReplaceAll(minimal, "\n", "\r\n"))
	if got, _ := q.Header("subject"); got != "hi\tthere" {
		t.Errorf("Header(subject) = %q, want %q", got, "hi\tthere")
	}
	if q.Sender() != "alice@sender.example" || q.Helo() != "vm" || q.Version() != 8 {
		t.Errorf("Sender, Helo, Version = %q, %q, %d", q.Sender(), q.Helo(), q.Version())
	}
	if want := "Return-Path: <alice@sender.example>\nSubject: hi\n\tthere\n"; string(q.HeaderBlock()) != want {
		t.Errorf("HeaderBlock() = %q, want %q", q.HeaderBlock(), want)
	}
}

func TestParseRcpt(t *testing.T) {
	tests := []struct {
		in      string
		version int
		want    Recipient
	}{
		{"PFD:<bob@example.test>", 8, Recipient{Addr: "bob@example.test", Flags: "PFD"}},
		{"PFD:bob@example.test", 8, Recipient{Addr: "bob@example.test", Flags: "PFD"}},
		{"PNSF:<bob@example.test>", 8, Recipient{Addr: "bob@example.test", Flags: "PNSF"}},
		{":<bob@example.test>", 8, Recipient{Addr: "bob@example.test"}},
		{"P:<>", 8, Recipient{Addr: "", Flags: "P"}},
		{"bob@example.test", 0, Recipient{Addr: "bob@example.test"}},
		{"<bob@example.test>", 8, Recipient{Addr: "bob@example.test"}},       // legacy form in a V8 file
		{"PFD:bob@example.test", 0, Recipient{Addr: "PFD:bob@example.test"}}, // no flags before version 1
		{"<@relay.example:bob@example.test>", 8, Recipient{Addr: "@relay.example:bob@example.test"}},
		{"P:<@relay.example:bob@example.test>", 8, Recipient{Addr: "@relay.example:bob@example.test", Flags: "P"}},
		{"bob:x@example.test", 8, Recipient{Addr: "bob:x@example.test"}}, // lower case: not flags
	}
	for _, tt := range tests {
		if got := parseRcpt(tt.in, tt.version); got != tt.want {
			t.Errorf("parseRcpt(%q, %d) = %+v, want %+v", tt.in, tt.version, got, tt.want)
		}
	}
	r := Recipient{Flags: "PNSF"}
	if !r.HasFlag(FlagNotifySuccess) || !r.HasFlag(FlagPrimary) || r.HasFlag(FlagNotifyDelay) {
		t.Errorf("HasFlag on %q wrong", r.Flags)
	}
}

func TestRecipientGroups(t *testing.T) {
	in := "V8\nS<a@b>\nCroot\nQrfc822;x@y\nrRFC822; one@example\nRPF:<one@example>\n" +
		"rRFC822; two@example\nRPF:<two@example>\nRPF:<three@example>\n.\n"
	q := mustParse(t, in)
	want := []Recipient{
		{Addr: "one@example", Flags: "PF", ORCPT: "rfc822;x@y", Final: "RFC822; one@example", Ctl: "root"},
		{Addr: "two@example", Flags: "PF", Final: "RFC822; two@example"},
		{Addr: "three@example", Flags: "PF"},
	}
	got := q.Recipients()
	if len(got) != len(want) {
		t.Fatalf("Recipients() = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Recipients()[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	// Removing the first moves its controlling user to the next one.
	if n := q.RemoveRecipient("ONE@example"); n != 1 {
		t.Fatalf("RemoveRecipient = %d, want 1", n)
	}
	wantQf := "V8\nS<a@b>\nCroot\nrRFC822; two@example\nRPF:<two@example>\nRPF:<three@example>\n.\n"
	if got := string(q.Bytes()); got != wantQf {
		t.Errorf("after RemoveRecipient: %q, want %q", got, wantQf)
	}
	if got := q.Recipients()[0].Ctl; got != "root" {
		t.Errorf("Ctl of new first recipient = %q, want root", got)
	}
	if n := q.RemoveRecipient("nobody@example"); n != 0 {
		t.Errorf("RemoveRecipient(nobody) = %d, want 0", n)
	}
}

func TestAuthenticated(t *testing.T) {
	tests := []struct {
		lines string
		want  bool
	}{
		{"$rESMTP\n", false},
		{"$rESMTPA\n", true},
		{"$rESMTPSA\n", true},
		{"$rESMTPS\n", false},
		{"$rLMTPA\n", true},
		{"$rESMTP\nA<>\n", false},
		{"$rESMTP\nA<carol@example>\n", true},
		{"Aalice@example\n", true},
		{"${auth_type}PLAIN\n", true},
		{"${auth_type}\n", false},
	}
	for _, tt := range tests {
		q := mustParse(t, "V8\n"+tt.lines+"S<a@b>\nRP:<c@d>\n.\n")
		if got := q.Authenticated(); got != tt.want {
			t.Errorf("Authenticated() for %q = %v, want %v", tt.lines, got, tt.want)
		}
	}
}

func TestMacros(t *testing.T) {
	q := mustParse(t, minimal)
	for _, tt := range []struct{ name, want string }{
		{"_", "localhost [127.0.0.1]"}, {"r", "ESMTP"}, {"s", "vm"},
		{"daemon_flags", ""}, {"{daemon_flags}", ""},
	} {
		if got, ok := q.Macro(tt.name); !ok || got != tt.want {
			t.Errorf("Macro(%q) = %q, %v; want %q, true", tt.name, got, ok, tt.want)
		}
	}
	if _, ok := q.Macro("auth_type"); ok {
		t.Errorf("Macro(auth_type) found in a qf without it")
	}
	if got := q.Time().Unix(); got != 1795334826 {
		t.Errorf("Time() = %d, want 1795334826", got)
	}
	if q.EnvFlags() != "bs" || q.BodyType() != "" || q.EnvID() != "" {
		t.Errorf("EnvFlags, BodyType, EnvID = %q, %q, %q", q.EnvFlags(), q.BodyType(), q.EnvID())
	}
}

// HeaderBlock expands $g, the envelope sender, as sendmail does on
// delivery; a 0x81 quoted as data stays data.
func TestHeaderBlockExpandsSender(t *testing.T) {
	for _, tt := range []struct{ sender, hdr, want string }{
		{"<alice@sender.example>", "H?P?Return-Path: <\x81g>\n", "Return-Path: <alice@sender.example>\n"},
		{"<>", "H?P?Return-Path: <\x81g>\n", "Return-Path: <>\n"},
		{"<a@b.example>", "H??X-Data: 1\xff\x81g2\n", "X-Data: 1\x81g2\n"},
		{"<a@b.example>", "H??X-Other: \x81j\n", "X-Other: \x81j\n"},
	} {
		q := mustParse(t, "V8\nT1700000000\nS"+tt.sender+"\nrRFC822; bob@example.test\nRPFD:<bob@example.test>\n"+tt.hdr+".\n")
		if got := string(q.HeaderBlock()); got != tt.want {
			t.Errorf("sender %s, %q: HeaderBlock() = %q, want %q", tt.sender, tt.hdr, got, tt.want)
		}
	}
}
