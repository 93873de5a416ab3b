package sendmail

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var newTime = time.Date(2026, 11, 22, 8, 7, 6, 0, time.UTC)

const testHeaderBlock = "Received: from client (client [192.0.2.9])\r\n\tby mx; Sun, 22 Nov 2026 08:07:06 +0000\r\n" +
	"Return-Path: <forged@example>\r\n\tcontinued\r\n" +
	"From: Alice <alice@sender.example>\r\nTo: bob@example.test\r\nSubject: Gr\xc3\x9f\r\n" +
	"Date: Sun, 22 Nov 2026 08:07:06 +0000\r\nMessage-ID: <n1@sender.example>\r\n\r\nbody is not read\r\n"

func TestNewQf(t *testing.T) {
	q, err := NewQf("alice@sender.example", []string{"bob@example.test", "carol@example.test"}, []byte(testHeaderBlock), NewOpts{
		Time: newTime, ClientIP: netip.MustParseAddr("192.0.2.9"), ClientHost: "client.example",
		Helo: "client.example", Protocol: "ESMTP", BodySize: 1161, EightBit: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "V8\nT1795334826\nK0\nN0\nP61161\nB8BITMIME\nF8bs\n$_client.example [192.0.2.9]\n$rESMTP\n$sclient.example\n" +
		"S<alice@sender.example>\nrRFC822; bob@example.test\nRPFD:<bob@example.test>\n" +
		"rRFC822; carol@example.test\nRPFD:<carol@example.test>\n" +
		"H?P?Return-Path: <\x81g>\n" +
		"H??Received: from client (client [192.0.2.9])\n\tby mx; Sun, 22 Nov 2026 08:07:06 +0000\n" +
		"H??From: Alice <alice@sender.example>\nH??To: bob@example.test\nH??Subject: Gr\xc3\xff\x9f\n" +
		"H??Date: Sun, 22 Nov 2026 08:07:06 +0000\nH??Message-ID: <n1@sender.example>\n.\n"
	if got := string(q.Bytes()); got != want {
		t.Errorf("NewQf:\n got %q\nwant %q", got, want)
	}
	if got, _ := q.Header("Subject"); got != "Gr\xc3\x9f" {
		t.Errorf("Subject = %q", got)
	}
	if q.ClientIP() != netip.MustParseAddr("192.0.2.9") || len(q.Recipients()) != 2 || q.BodyType() != "8BITMIME" {
		t.Errorf("parsed back: ip %v, %d rcpts, body %q", q.ClientIP(), len(q.Recipients()), q.BodyType())
	}
}

func TestClientMacro(t *testing.T) {
	tests := []struct {
		host string
		ip   netip.Addr
		want string
	}{
		{"h.example", netip.MustParseAddr("192.0.2.1"), "h.example [192.0.2.1]"},
		{"", netip.MustParseAddr("2001:db8::1"), "[IPv6:2001:db8::1]"},
		{"h", netip.MustParseAddr("::ffff:192.0.2.1"), "h [::ffff:192.0.2.1]"},
		{"root@localhost", netip.Addr{}, "root@localhost"},
		{"", netip.Addr{}, "localhost"},
	}
	for _, tt := range tests {
		if got := clientMacro(tt.host, tt.ip); got != tt.want {
			t.Errorf("clientMacro(%q, %v) = %q, want %q", tt.host, tt.ip, got, tt.want)
		}
		if c := ParseClient(tt.want); c.IP != tt.ip.Unmap() {
			t.Errorf("ParseClient(%q).IP = %v, want %v", tt.want, c.IP, tt.ip.Unmap())
		}
	}
}

func TestNewQfErrors(t *testing.T) {
	ok := NewOpts{Time: newTime}
	hdr := []byte("Subject: x\n")
	tests := []struct {
		name   string
		sender string
		rcpts  []string
		header string
		opts   NewOpts
		want   error
	}{
		{"no time", "a@b", []string{"c@d"}, "", NewOpts{}, nil},
		{"no rcpt", "a@b", nil, "", ok, ErrNoRecipient},
		{"empty rcpt", "a@b", []string{""}, "", ok, ErrBadAddress},
		{"rcpt injection", "a@b", []string{"c@d>\nRPFD:<evil@x"}, "", ok, ErrBadAddress},
		{"sender brackets", "<a@b>", []string{"c@d"}, "", ok, ErrBadAddress},
		{"sender too long", strings.Repeat("a", 300), []string{"c@d"}, "", ok, ErrBadAddress},
		{"helo newline", "a@b", []string{"c@d"}, "", NewOpts{Time: newTime, Helo: "h\nSevil"}, ErrBadAddress},
		{"not a header", "a@b", []string{"c@d"}, "no colon here\n", ok, ErrBadHeader},
		{"continuation first", "a@b", []string{"c@d"}, "\tx\n", ok, ErrBadHeader},
		{"bare CR", "a@b", []string{"c@d"}, "Subject: a\rb\n", ok, ErrBadHeader},
		{"NUL", "a@b", []string{"c@d"}, "Subject: a\x00\n", ok, ErrBadHeader},
		{"too big", "a@b", []string{"c@d"}, "Subject: " + strings.Repeat("x", 100) + "\n", NewOpts{Time: newTime, MaxHeaderBytes: 50}, ErrBadHeader},
	}
	for _, tt := range tests {
		_, err := NewQf(tt.sender, tt.rcpts, []byte(tt.header), tt.opts)
		if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: NewQf error = %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := NewQf("", []string{"c@d"}, hdr, ok); err != nil {
		t.Errorf("NewQf with the null sender: %v", err)
	}
}

// realSendmail returns the sendmail binary and a private cf and queue dir,
// or skips the test.
func realSendmail(t *testing.T) (sm, cfPath, queue string) {
	t.Helper()
	sm = "/usr/sbin/sendmail"
	if _, err := os.Stat(sm); err != nil {
		t.Skip("sendmail not installed")
	}
	m4, err := exec.LookPath("m4")
	if err != nil || os.Geteuid() != 0 {
		t.Skip("needs m4 and root")
	}
	dir := t.TempDir()
	cf, err := exec.Command(m4, "testdata/golden.mc").Output()
	if err != nil {
		t.Fatalf("m4: %v", err)
	}
	cfPath, queue = filepath.Join(dir, "test.cf"), filepath.Join(dir, "mqueue")
	// Deliveries go to a closed port: a queue run must not reach any SMTP
	// sink another test may have on 127.0.0.2:2526.
	cf = []byte(strings.ReplaceAll(string(cf), "TCP $h 2526", "TCP $h 1"))
	if err := os.WriteFile(cfPath, cf, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(queue, 0o700); err != nil {
		t.Fatal(err)
	}
	return sm, cfPath, queue
}

// TestSendmailAcceptsQf lets the real sendmail list and queue-run a queue
// holding a qf made by NewQf and a golden qf edited by qscan.
func TestSendmailAcceptsQf(t *testing.T) {
	sm, cfPath, queue := realSendmail(t)
	gen := NewIDGen(func() time.Time { return newTime }, os.Getpid(), 0)
	newID, editID := gen.Next(), gen.Next()
	q, err := NewQf("alice@sender.example", []string{"bob@example.test"}, []byte(testHeaderBlock), NewOpts{
		// Now, or the queue run sends a "could not send for 4 hours" warning.
		Time: time.Now(), ClientIP: netip.MustParseAddr("2001:db8::9"), Helo: "client.example", Protocol: "ESMTP", BodySize: 5,
	})
	if err != nil {
		t.Fatal(err)
	}
	edited, err := os.ReadFile("testdata/dsn.edited")
	if err != nil {
		t.Fatal(err)
	}
	// The golden file's creation time is fixed; a queue run bounces any
	// entry older than Timeout.queuereturn (5 days), so the test would fail
	// from some date on. Dated now, the run only defers it.
	edited = redate(t, edited, time.Now())
	for id, qf := range map[string][]byte{newID: q.Bytes(), editID: edited} {
		touch(t, filepath.Join(queue, DfName(id)), "body\n", time.Now())
		touch(t, filepath.Join(queue, QfName(id)), string(qf), time.Now())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, sm, "-C", cfPath, "-bp", "-OQueueDirectory="+queue).CombinedOutput()
	if err != nil {
		t.Fatalf("sendmail -bp: %v\n%s", err, out)
	}
	for _, want := range []string{
		newID, "<alice@sender.example>", "<bob@example.test>",
		editID, "<archive@example.test>", "<carol@example.test>", "Total requests: 2",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("sendmail -bp output lacks %q:\n%s", want, out)
		}
	}

	checkQueueRun(ctx, t, sm, cfPath, queue, newID, editID)
}

// checkQueueRun runs the queue once. A queue run reads each qf in full; one
// it cannot read would be renamed to Qf<ID> ("lost"). The delivery fails
// (closed port) and sendmail rewrites the qf with its attempt counted.
func checkQueueRun(ctx context.Context, t *testing.T, sm, cfPath, queue, newID, editID string) {
	t.Helper()
	// -v keeps the run in the foreground.
	out, err := exec.CommandContext(ctx, sm, "-C", cfPath, "-q", "-v", "-OQueueDirectory="+queue).CombinedOutput()
	if err != nil {
		t.Fatalf("sendmail -q: %v\n%s", err, out)
	}
	for _, id := range []string{newID, editID} {
		if _, err := os.Stat(filepath.Join(queue, "Qf"+id)); err == nil {
			t.Errorf("sendmail could not read qf%s and set it aside as Qf%s", id, id)
		}
		f, err := os.Open(filepath.Join(queue, QfName(id)))
		if err != nil {
			t.Errorf("qf%s gone after the queue run: %v", id, err)
			continue
		}
		q, err := ParseQf(f, Limits{})
		f.Close()
		if err != nil {
			t.Errorf("ParseQf(qf%s rewritten by sendmail): %v", id, err)
			continue
		}
		if n, _ := q.line('N'); n != "1" {
			t.Errorf("qf%s: N line %q after one attempt, want 1", id, n)
		}
		if v, _ := q.Header("Message-ID"); id == newID && v != "<n1@sender.example>" {
			t.Errorf("qf%s: Message-ID = %q after the queue run", id, v)
		}
		if v, _ := q.Header("X-Qscan"); id == editID && v != "clean" {
			t.Errorf("qf%s: X-Qscan = %q after the queue run", id, v)
		}
	}
}

// redate replaces the T (creation time) line of qf with now.
func redate(t *testing.T, qf []byte, now time.Time) []byte {
	t.Helper()
	lines := strings.SplitAfter(string(qf), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "T") {
			lines[i] = fmt.Sprintf("T%d\n", now.Unix())
			return []byte(strings.Join(lines, ""))
		}
	}
	t.Fatal("redate: the qf has no T line")
	return nil
}
