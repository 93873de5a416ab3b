package main

import (
	"bufio"
	"bytes"
	"fmt"
	"github.com/qscan/qscan/pkg/virus"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/sendmail"
	"github.com/qscan/qscan/pkg/store"
)

// spamReport is the REPORT answer of the fake spamd: 7.3 points, between
// the shipped required_score (5) and high_score (10).
const spamReport = "Content analysis details:   (7.3 points, 5.0 required)\n\n" +
	" pts rule name              description\n" +
	"---- ---------------------- --------------------------------------------------\n" +
	" 3.5 BAYES_99               BODY: Bayes spam probability is 99 to 100%\n" +
	" 3.8 URIBL_BLACK            Contains an URL listed in the URIBL blacklist\n"

// startSpamd answers every CHECK, SYMBOLS or REPORT with a spam-level
// verdict (7.3 / 5.0), as spamd does over the spamc protocol.
func startSpamd(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go answerSpamc(c)
		}
	}()
	return ln.Addr().String()
}

func answerSpamc(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return
	}
	cmd, _, _ := strings.Cut(line, " ")
	length := 0
	for {
		h, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if h = strings.TrimRight(h, "\r\n"); h == "" {
			break
		}
		if k, v, ok := strings.Cut(h, ":"); ok && strings.EqualFold(k, "Content-length") {
			length, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if cmd == "PING" {
		fmt.Fprint(c, "SPAMD/1.5 0 PONG\r\n")
		return
	}
	io.CopyN(io.Discard, r, int64(length))
	body := map[string]string{"CHECK": "", "SYMBOLS": "BAYES_99,URIBL_BLACK", "REPORT": spamReport}[cmd]
	fmt.Fprintf(c, "SPAMD/1.1 0 EX_OK\r\nContent-length: %d\r\nSpam: True ; 7.3 / 5.0\r\n\r\n%s", len(body), body)
}

// shippedConfig copies etc/qscan.toml as shipped into a demo tree (its
// relative paths then name the tree's queue, work and quarantine dirs),
// with spamd at spamdAddr as the spam engine if not "", and loads it.
func shippedConfig(t *testing.T, spamdAddr string) (*config.Config, string) {
	t.Helper()
	b, err := os.ReadFile("../../etc/qscan.toml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if spamdAddr != "" {
		for old, repl := range map[string]string{"\nengines = []\n": "\nengines = [\"spamd\"]\n", "\naddress = \"127.0.0.1:783\"\n": "\naddress = \"" + spamdAddr + "\"\n"} {
			if !strings.Contains(s, old) {
				t.Fatalf("etc/qscan.toml lacks %q", old)
			}
			s = strings.Replace(s, old, repl, 1)
		}
	}
	root := t.TempDir()
	for _, d := range []string{"etc", "queue/incoming", "queue/outgoing"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"rules", "signatures"} {
		abs, _ := filepath.Abs(filepath.Join("../../etc", d))
		if err := os.Symlink(abs, filepath.Join(root, "etc", d)); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(root, "etc", "qscan.toml")
	if err := os.WriteFile(cfg, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, cfg
}

// splitRaw splits a message file at its first empty line, keeping every
// byte: the header (its last line end included) and the body. The test's
// own, so that the queue side does not lean on the scan code it checks.
func splitRaw(raw []byte) (header, body []byte) {
	for off := 0; off < len(raw); {
		line := raw[off:]
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i+1]
		}
		if string(line) == "\n" || string(line) == "\r\n" {
			return raw[:off], raw[off+len(line):]
		}
		off += len(line)
	}
	return raw, nil
}

// throughQueue queues raw (its header in the qf as sendmail stores it, its
// body bytes unchanged in the df), runs qscan over the queue once with c,
// and returns what sendmail would deliver from the outgoing qf and df.
func throughQueue(t *testing.T, c *config.Config, raw []byte) (header, body []byte) {
	t.Helper()
	const id = "6AM876nc000042"
	h, b := splitRaw(raw)
	qf, err := sendmail.NewQf("a@example.org", []string{"b@example.test"}, h, sendmail.NewOpts{
		Time: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC), ClientIP: netip.MustParseAddr("192.0.2.1"),
		ClientHost: "client.example", Helo: "client.example", Protocol: "ESMTP", BodySize: int64(len(b))})
	if err != nil {
		t.Fatal(err)
	}
	in := c.Queue.Incoming[0]
	if err := os.WriteFile(filepath.Join(in, "df"+id), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "qf"+id), qf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(c.Store.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log := quietIfNil(nil)
	if code := runOnce(c, &env{log: log, store: st, watch: &virus.Watch{Log: log}}); code != exitOK {
		t.Fatalf("runOnce = %d", code)
	}
	qfb, err := os.ReadFile(filepath.Join(c.Queue.Outgoing, "qf"+id))
	if err != nil {
		t.Fatal(err)
	}
	out, err := sendmail.ParseQf(bytes.NewReader(qfb), sendmail.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	df, err := os.ReadFile(filepath.Join(c.Queue.Outgoing, "df"+id))
	if err != nil {
		t.Fatal(err)
	}
	return out.HeaderBlock(), df
}

// headerField is one field of a header block, its value unfolded.
type headerField struct{ name, value string }

// fieldsOf splits a header block (LF or CRLF) into its fields.
func fieldsOf(block []byte) []headerField {
	var fs []headerField
	for _, l := range strings.Split(strings.ReplaceAll(string(block), "\r\n", "\n"), "\n") {
		switch {
		case l == "":
		case (l[0] == ' ' || l[0] == '\t') && len(fs) > 0:
			fs[len(fs)-1].value += " " + strings.TrimSpace(l)
		default:
			k, v, _ := strings.Cut(l, ":")
			fs = append(fs, headerField{k, strings.TrimSpace(v)})
		}
	}
	return fs
}

// repeated lists the field names that occur more than once, Received aside.
func repeated(fs []headerField) []string {
	n := map[string]int{}
	var out []string
	for _, f := range fs {
		low := strings.ToLower(f.name)
		if n[low]++; n[low] == 2 && low != "received" {
			out = append(out, f.name)
		}
	}
	return out
}

func values(fs []headerField, name string) []string {
	var out []string
	for _, f := range fs {
		if strings.EqualFold(f.name, name) {
			out = append(out, f.value)
		}
	}
	return out
}

// TestSpamLevelOneStatus: a spam-level message (between required_score
// and high_score) with the shipped spam_actions, whose header action adds
// "X-Spam-Status: Yes", is delivered with one X-Spam-Status (the full
// one) and no other header twice, also when it arrives already carrying
// the spam and qscan headers and the subject tag of an earlier pass.
func TestSpamLevelOneStatus(t *testing.T) {
	addr := startSpamd(t)
	for _, tc := range []struct{ name, extra, subject string }{
		{"fresh", "", "cheap pills"},
		{"scanned before", "X-Spam-Status: No, score=-2.0 required=5.0\nX-Spam-Flag: NO\nX-yoursite-QScan: Found to be clean\n" +
			"X-yoursite-QScan-ID: 6AM876nc000001\nX-yoursite-QScan-From: a@example.org\nX-yoursite-QScan-SpamCheck: not spam\n",
			"{Spam?} cheap pills"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := shippedConfig(t, addr)
			header, _ := throughQueue(t, c, spamMessage(tc.subject, tc.extra))
			fs := fieldsOf(header)
			status := values(fs, "X-Spam-Status")
			if len(status) != 1 || !strings.HasPrefix(status[0], "Yes, score=7.3 required=5.0") {
				t.Errorf("X-Spam-Status = %q, want one \"Yes, score=7.3 required=5.0 ...\"\n%s", status, header)
			}
			if r := repeated(fs); len(r) > 0 {
				t.Errorf("header fields delivered more than once: %v\n%s", r, header)
			}
			if s := values(fs, "Subject"); len(s) != 1 || s[0] != "{Spam?} cheap pills" {
				t.Errorf("Subject = %q, want one \"{Spam?} cheap pills\"", s)
			}
		})
	}
}

// TestOwnSpamHeadersWithoutSpamCheck: with the shipped configuration (no
// spam engine) a message that arrives with qscan's own spam report header
// (forged, or from an earlier pass) does not keep it: qscan did not say
// so this time.
func TestOwnSpamHeadersWithoutSpamCheck(t *testing.T) {
	c, _ := shippedConfig(t, "")
	header, _ := throughQueue(t, c, spamMessage("hi", "X-yoursite-QScan-SpamCheck: not spam, whitelisted\nX-yoursite-QScan-SpamScore: s\n"))
	fs := fieldsOf(header)
	for _, name := range []string{"X-yoursite-QScan-SpamCheck", "X-yoursite-QScan-SpamScore"} {
		if v := values(fs, name); len(v) != 0 {
			t.Errorf("%s = %q delivered, want none\n%s", name, v, header)
		}
	}
	if r := repeated(fs); len(r) > 0 {
		t.Errorf("header fields delivered more than once: %v\n%s", r, header)
	}
}

func spamMessage(subject, extra string) []byte {
	return []byte("From: a@example.org\nTo: b@example.test\nSubject: " + subject + "\nMessage-ID: <1@example.org>\n" +
		extra + "\nspammy body\n")
}

// TestScanOutputIsDelivered: `qscan scan -o` writes what the queue path
// delivers for the same message. A message with CRLF line ends, a
// spam-level score and an infected attachment (removed; the subject
// tagged for both) gets the same header fields in the same order with the
// same values, and the same body bytes; its line ends stay CRLF. What
// differs by nature is masked: the queue ID ("scan" for a file) and the
// time of the check in the replacement text.
func TestScanOutputIsDelivered(t *testing.T) {
	c, cfg := shippedConfig(t, startSpamd(t))
	raw := []byte(strings.ReplaceAll("From: a@example.org\nTo: b@example.test\nSubject: invoice\nMessage-ID: <2@example.org>\n"+
		"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n"+
		"spammy preamble\n--B\nContent-Type: text/plain\n\nsee the attachment\n"+
		"--B\nContent-Type: application/octet-stream; name=\"e.com\"\n\n"+
		`X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`+"\n--B--\n", "\n", "\r\n"))
	qHeader, qBody := throughQueue(t, c, raw)

	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.eml"), filepath.Join(dir, "out.eml")
	if err := os.WriteFile(in, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	res, _ := qscan(t, "scan", "-c", cfg, "--json", "-o", out, in)
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("scan -o wrote nothing: %v\n%s", err, res)
	}
	sHeader, sBody := splitRaw(got)
	if n := bytes.Count(got, []byte("\n")); n != bytes.Count(got, []byte("\r\n")) || n == 0 {
		t.Errorf("scan -o output has %d LF of which %d CRLF, want CRLF only:\n%q", n, bytes.Count(got, []byte("\r\n")), got)
	}
	mask := func(b []byte) string {
		s := strings.ReplaceAll(string(b), "6AM876nc000042", "scan")
		return dateRE.ReplaceAllString(s, "DATE")
	}
	qFields, sFields := fieldsOf([]byte(mask(qHeader))), fieldsOf([]byte(mask(sHeader)))
	if !reflect.DeepEqual(qFields, sFields) {
		t.Errorf("header fields differ\nqueue:   %q\nscan -o: %q", qFields, sFields)
	}
	if mask(qBody) != mask(sBody) {
		t.Errorf("bodies differ\nqueue:   %q\nscan -o: %q", qBody, sBody)
	}
	// The case is the one the test means: tagged, cleaned, spam.
	if s := values(sFields, "Subject"); len(s) != 1 || !strings.Contains(s[0], "{Virus?}") || !strings.Contains(s[0], "{Spam?}") {
		t.Errorf("Subject = %q, want one with both tags", s)
	}
	if bytes.Contains(sBody, []byte("EICAR-STANDARD")) || !strings.Contains(res, `"level":"spam"`) {
		t.Errorf("scan -o kept the EICAR part or found no spam: %s", res)
	}
}

// dateRE matches notify.DateFormat.
var dateRE = regexp.MustCompile(`[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [-+]\d{4}`)
