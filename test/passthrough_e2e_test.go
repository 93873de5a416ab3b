//go:build e2e

package test

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// passBatch is how many messages go through at once: the incoming queue,
// one `qscan run --once` and one queue run of the outgoing sendmail.
const passBatch = 400

// passThrough sends msgs, passBatch at a time, by SMTP into sendmail-in,
// through `qscan run --once -c cfg` into the outgoing queue, where the
// real sendmail lists them (-bp) and delivers them to the sink. For each
// message: sendmail-in refuses it if it should (passMsg.refused); a clean
// one leaves qscan byte for byte as sendmail-in queued it (the outgoing df
// is the incoming df) and reaches the sink with qscan's headers and that
// body, or with the very body sendmail alone delivers from sendmail-in's
// queue entry (see sendmailAlone); a virus arrives cleaned and named; a
// message qscan blocks (passMsg.blocked) is quarantined or cleaned as
// said; each virus and block makes one quarantine entry.
func passThrough(t *testing.T, s stackutil.Stack, cfg string, msgs map[string]*passMsg) {
	t.Helper()
	ids := slices.Sorted(maps.Keys(msgs))
	var total passTally
	began := time.Now()
	for start := 0; start < len(ids); start += passBatch {
		batch := ids[start:min(start+passBatch, len(ids))]
		t.Run(fmt.Sprintf("batch%d", start/passBatch), func(t *testing.T) {
			total.add(passBatchThrough(t, s, cfg, msgs, batch))
		})
	}
	t.Logf("%d messages in %s: %d unchanged, %d changed by sendmail as without qscan, %d viruses cleaned, %d blocked, %d disarmed (web bugs, phishing links), %d refused by sendmail",
		len(ids), time.Since(began).Round(time.Second), total.unchanged, total.bySendmail, total.viruses, total.blocked, total.disarmed, total.refused)
}

// passTally counts the outcomes of a pass-through.
type passTally struct{ unchanged, bySendmail, viruses, blocked, disarmed, refused int }

func (p *passTally) add(q passTally) {
	p.unchanged += q.unchanged
	p.bySendmail += q.bySendmail
	p.viruses += q.viruses
	p.blocked += q.blocked
	p.disarmed += q.disarmed
	p.refused += q.refused
}

// passBatchThrough runs one batch of passThrough.
func passBatchThrough(t *testing.T, s stackutil.Stack, cfg string, msgs map[string]*passMsg, ids []string) passTally {
	clean(t, s)
	began := time.Now()
	tally := passTally{refused: submitBatch(t, s, msgs, ids)}
	waitQueued(t, s.Incoming, len(ids)-tally.refused)
	submitted := time.Now()
	in := queuedByID(t, s.Incoming)
	control := copyQueue(t, s.Incoming, t.TempDir())
	quarantined := quarantineEntries(t, cfg)
	runOut, err := exec.Command(stackutil.Binary(t), "run", "--once", "-c", cfg).CombinedOutput()
	if err != nil {
		t.Fatalf("qscan run --once: %v\n%s", err, lastLines(string(runOut), 20))
	}
	if m, _ := filepath.Glob(filepath.Join(s.Incoming, "qf*")); len(m) != 0 {
		t.Fatalf("incoming queue still holds %d messages", len(m))
	}
	scanned := time.Now()
	out := queuedByID(t, s.Outgoing)
	listed(t, s, len(out))
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	got := sinkByID(t, s, slices.Collect(maps.Keys(out)), 120*time.Second)
	t.Logf("%d messages: submitted in %s, through qscan in %s, delivered in %s", len(ids), submitted.Sub(began).Round(time.Second),
		scanned.Sub(submitted).Round(time.Second), time.Since(scanned).Round(time.Second))
	var changed []string // clean, passed on by qscan, changed on the way
	for _, id := range ids {
		switch m := msgs[id]; {
		case m.refused:
		case m.virus != "":
			checkVirus(t, id, m, in[id].df, got[id])
			tally.viruses++
		case m.blocked != "":
			checkBlocked(t, id, m, in[id], out[id], got[id], runOut)
			tally.blocked++
		case !bytes.Equal(out[id].df, in[id].df):
			// Dangerous content (shipped defaults: web bugs replaced,
			// phishing links marked) is disarmed in place: the message
			// says so in its header and the log line names the finding.
			if checkDisarmed(t, id, m, in[id], got[id], runOut) {
				tally.disarmed++
			} else {
				t.Errorf("%s (%s): qscan changed a clean message: %s", id, m.from, firstDiff(in[id].df, out[id].df))
			}
		case checkClean(t, id, m, in[id].df, got[id]):
			tally.unchanged++
		default:
			changed = append(changed, id)
		}
	}
	tally.bySendmail = sendmailAlone(t, s, msgs, changed, control, got)
	if n := quarantineEntries(t, cfg) - quarantined; n != tally.viruses+tally.blocked {
		t.Errorf("%d new quarantine entries for %d infected and %d blocked messages", n, tally.viruses, tally.blocked)
	}
	return tally
}

// submitBatch submits msgs[ids] to sendmail-in and returns how many it
// refused, as it should have.
func submitBatch(t *testing.T, s stackutil.Stack, msgs map[string]*passMsg, ids []string) (refused int) {
	t.Helper()
	raws := make([][]byte, len(ids))
	for i, id := range ids {
		raws[i] = msgs[id].raw
	}
	errs := stackutil.SubmitAll(s.SMTPIn, "sender@example.org", []string{"bob@example.test"}, raws)
	for i, id := range ids {
		switch m, err := msgs[id], errs[i]; {
		case m.refused && err == nil:
			t.Errorf("%s (%s): sendmail-in took a header block over %d bytes", id, m.from, sendmailMaxHeaders)
		case m.refused:
			refused++
		case err != nil:
			t.Fatalf("submit %s (%s): %v", id, m.from, err)
		}
	}
	return refused
}

// sendmailAlone: the clean messages in changed reached the sink with
// another body than sendmail-in queued, though qscan passed their df on
// as it was. The outgoing sendmail changes messages by itself, in two
// ways. With its default MaxMimeHeaderLength (2048/1024 since 8.12.9) it
// runs every MIME message through mime8to7's checking pass, which writes
// each multipart anew: a closing delimiter where the message has none,
// delimiter lines without trailing blanks, 8-bit bytes of preambles
// stripped when the body was not declared 8BITMIME. And it cuts lines
// longer than the mailer's L= (relay: 2040), see sendmailLineLimit. So
// each is delivered twice more straight from sendmail-in's own queue
// entry (kept in control), with no qscan in between: as it is, it must
// arrive exactly as it did through qscan; with the MIME check off
// (MaxMimeHeaderLength=0/0), exactly as queued but for the cut lines.
// Returns how many did.
func sendmailAlone(t *testing.T, s stackutil.Stack, msgs map[string]*passMsg, changed []string, control map[string]queued, viaQscan map[string]*stackutil.SinkMsg) int {
	t.Helper()
	if len(changed) == 0 {
		return 0
	}
	limit := relayLineLimit(t, s)
	alone := deliverCopies(t, s, changed, control)
	unchecked := deliverCopies(t, s, changed, control, "-OMaxMimeHeaderLength=0/0")
	n := 0
	for _, id := range changed {
		if alone[id] == nil || unchecked[id] == nil {
			continue // sinkByID said so
		}
		body, cut := stackutil.BodyOf(viaQscan[id].Data), sendmailLineLimit(control[id].df, limit)
		switch want := stackutil.BodyOf(alone[id].Data); {
		case !bytes.Equal(body, want):
			t.Errorf("%s (%s): body changed on the way, and not as sendmail alone changes it: %s", id, msgs[id].from, firstDiff(want, body))
		case !bytes.Equal(stackutil.BodyOf(unchecked[id].Data), cut):
			t.Errorf("%s (%s): with MaxMimeHeaderLength=0/0, sendmail changes more than long lines: %s", id, msgs[id].from,
				firstDiff(cut, stackutil.BodyOf(unchecked[id].Data)))
		default:
			n++
		}
	}
	return n
}

// relayMailer finds the L= (line limit) of the relay mailer in a sendmail.cf.
var relayMailer = regexp.MustCompile(`(?m)^Mrelay,[^\n]*\bL=(\d+)`)

// relayLineLimit is the line limit of the mailer that delivers to the
// sink (the smart host's: relay).
func relayLineLimit(t *testing.T, s stackutil.Stack) int {
	t.Helper()
	cf, err := os.ReadFile(s.CF)
	if err != nil {
		t.Fatal(err)
	}
	m := relayMailer.FindSubmatch(cf)
	if m == nil {
		t.Fatalf("%s: no relay mailer with L=", s.CF)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// sendmailLineLimit cuts the lines of body as sendmail's putxline does for
// a mailer with L=limit: while a line is longer than limit, its first
// limit-1 bytes go out followed by "!" and a line end.
func sendmailLineLimit(body []byte, limit int) []byte {
	var b bytes.Buffer
	for _, line := range bytes.SplitAfter(body, []byte("\n")) {
		text, nl := bytes.CutSuffix(line, []byte("\n"))
		for len(text) > limit {
			b.Write(text[:limit-1])
			b.WriteString("!\n")
			text = text[limit-1:]
		}
		b.Write(text)
		if nl {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// deliverCopies empties the sink, puts the copies of the queue entries of
// ids into the outgoing queue, runs it with sendmail's options opts and
// returns what reached the sink.
func deliverCopies(t *testing.T, s stackutil.Stack, ids []string, copies map[string]queued, opts ...string) map[string]*stackutil.SinkMsg {
	t.Helper()
	if err := stackutil.ClearSink(s.SinkDir); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		for _, f := range []string{"qf", "df"} {
			data, err := os.ReadFile(filepath.Join(copies[id].dir, f+copies[id].qid))
			if err == nil {
				err = os.WriteFile(filepath.Join(s.Outgoing, f+copies[id].qid), data, 0o600)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	args := append([]string{"-C", s.CF, "-qf", "-OQueueDirectory=" + s.Outgoing}, opts...)
	if out, err := exec.Command("/usr/sbin/sendmail", args...).CombinedOutput(); err != nil {
		t.Fatalf("sendmail %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return sinkByID(t, s, ids, 120*time.Second)
}

// checkClean checks a clean message at the sink: qscan's headers, and the
// df sendmail-in queued as its body; false if only the body differs.
func checkClean(t *testing.T, id string, m *passMsg, df []byte, got *stackutil.SinkMsg) bool {
	t.Helper()
	if got == nil {
		t.Errorf("%s (%s): not at the sink", id, m.from)
		return true
	}
	if v := stackutil.HeaderValue(got.Data, "X-E2E-QScan"); v != "Found to be clean" {
		t.Errorf("%s (%s): X-E2E-QScan = %q", id, m.from, v)
	}
	if v := stackutil.HeaderValue(got.Data, "X-E2E-QScan-From"); v != "sender@example.org" {
		t.Errorf("%s (%s): X-E2E-QScan-From = %q", id, m.from, v)
	}
	return bytes.Equal(stackutil.BodyOf(got.Data), df)
}

// checkBlocked checks a message qscan blocks: quarantined whole (not
// delivered) or cleaned (delivered "not clean", the replacement text
// giving the reason); either way its log line says so, with the reason.
func checkBlocked(t *testing.T, id string, m *passMsg, in, out queued, got *stackutil.SinkMsg, log []byte) {
	t.Helper()
	action, reason, _ := strings.Cut(m.blocked, ": ")
	switch {
	case action == "quarantined" && (out.df != nil || got != nil):
		t.Errorf("%s (%s): delivered, want it quarantined whole (%s)", id, m.from, reason)
	case action == "cleaned" && (got == nil || bytes.Equal(out.df, in.df)):
		t.Errorf("%s (%s): not delivered cleaned (%s)", id, m.from, reason)
	case action == "cleaned" && (stackutil.HeaderValue(got.Data, "X-E2E-QScan") != "Found to be not clean" || !bytes.Contains(got.Data, []byte(reason))):
		t.Errorf("%s (%s): X-E2E-QScan = %q, want Found to be not clean, and %q in the message",
			id, m.from, stackutil.HeaderValue(got.Data, "X-E2E-QScan"), reason)
	}
	want := []string{" " + in.qid + " ", " verdict=blocked ", " action=" + action + " ", ` reason="` + reason}
	var lines []string
	for _, l := range strings.Split(string(log), "\n") {
		if !strings.Contains(l, want[0]) {
			continue
		}
		if containsAll(l, want) {
			return
		}
		lines = append(lines, l)
	}
	t.Errorf("%s (%s): no log line has %q; the lines of %s:\n%s", id, m.from, want, in.qid, strings.Join(lines, "\n"))
}

// checkDisarmed reports whether a message qscan changed although no check
// blocked it was disarmed as it should say: X-E2E-QScan "Found to be not
// clean" and a log line of its queue ID with verdict blocked, delivered,
// naming a dangerous-content finding.
func checkDisarmed(t *testing.T, id string, m *passMsg, in queued, got *stackutil.SinkMsg, log []byte) bool {
	t.Helper()
	if got == nil || stackutil.HeaderValue(got.Data, "X-E2E-QScan") != "Found to be not clean" {
		return false
	}
	for _, l := range strings.Split(string(log), "\n") {
		if !strings.Contains(l, " "+in.qid+" ") || !strings.Contains(l, " verdict=blocked ") {
			continue
		}
		for _, finding := range []string{"Web bug replaced", "Possible fraud", "disarmed", "removed"} {
			if strings.Contains(l, finding) {
				return true
			}
		}
	}
	return false
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// checkVirus checks that a message with a virus arrives cleaned, saying
// what was found.
func checkVirus(t *testing.T, id string, m *passMsg, df []byte, got *stackutil.SinkMsg) {
	t.Helper()
	if got == nil {
		t.Errorf("%s (%s): the cleaned message is not at the sink", id, m.from)
		return
	}
	if v := stackutil.HeaderValue(got.Data, "X-E2E-QScan"); v != "Found to be infected" {
		t.Errorf("%s (%s): X-E2E-QScan = %q, want Found to be infected", id, m.from, v)
	}
	if !bytes.Contains(got.Data, []byte(m.virus)) {
		t.Errorf("%s (%s): the delivered message does not name %s", id, m.from, m.virus)
	}
	if bytes.Equal(stackutil.BodyOf(got.Data), df) {
		t.Errorf("%s (%s): delivered with its body unchanged", id, m.from)
	}
}

// listed checks that the outgoing sendmail reads n valid queue entries.
func listed(t *testing.T, s stackutil.Stack, n int) {
	t.Helper()
	out, err := exec.Command("/usr/sbin/sendmail", "-C", s.CF, "-bp", "-OQueueDirectory="+s.Outgoing).CombinedOutput()
	if err != nil {
		t.Fatalf("sendmail -bp: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), fmt.Sprintf("Total requests: %d\n", n)) {
		t.Errorf("sendmail -bp does not list %d requests:\n%s", n, lastLines(string(out), 5))
	}
}

// qfMessageID finds the Message-ID header line of a qf file.
var qfMessageID = regexp.MustCompile(`(?mi)^H\?[^?]*\?Message-Id:[ \t]*(<[^>\n]*>)`)

// queued is one queue entry: its directory, queue ID and df.
type queued struct {
	dir, qid string
	df       []byte
}

// queuedByID returns the entries of a queue directory by Message-ID.
func queuedByID(t *testing.T, dir string) map[string]queued {
	t.Helper()
	qfs, _ := filepath.Glob(filepath.Join(dir, "qf*"))
	out := map[string]queued{}
	for _, qf := range qfs {
		q, err := os.ReadFile(qf)
		if err != nil {
			t.Fatal(err)
		}
		m := qfMessageID.FindSubmatch(q)
		if m == nil {
			t.Fatalf("%s has no Message-ID", qf)
		}
		qid := strings.TrimPrefix(filepath.Base(qf), "qf")
		df, err := os.ReadFile(filepath.Join(dir, "df"+qid))
		if err != nil {
			t.Fatal(err)
		}
		out[string(m[1])] = queued{dir: dir, qid: qid, df: df}
	}
	return out
}

// copyQueue copies the qf and df files of a queue directory to dir and
// returns the copies by Message-ID.
func copyQueue(t *testing.T, queue, dir string) map[string]queued {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(queue, "[dq]f*"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o600)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return queuedByID(t, dir)
}

// sinkByID waits until the sink holds every message of ids and returns
// the sink's messages of ids by Message-ID; a message that arrives twice
// fails the test.
func sinkByID(t *testing.T, s stackutil.Stack, ids []string, timeout time.Duration) map[string]*stackutil.SinkMsg {
	t.Helper()
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	deadline := time.Now().Add(timeout)
	for {
		msgs, _ := stackutil.ReadSink(s.SinkDir)
		got := map[string]*stackutil.SinkMsg{}
		for i := range msgs {
			id := messageIDOf(msgs[i].Data)
			if want[id] && got[id] != nil {
				t.Errorf("%s delivered twice", id)
			}
			got[id] = &msgs[i]
		}
		missing := 0
		for id := range want {
			if got[id] == nil {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			if missing > 0 {
				t.Errorf("%d of %d messages did not arrive within %s", missing, len(ids), timeout)
			}
			return got
		}
		time.Sleep(200 * time.Millisecond)
	}
}

var angleAddr = regexp.MustCompile(`<[^>]*>`)

// messageIDOf returns the <...> of a message's first Message-ID field.
func messageIDOf(data []byte) string {
	return angleAddr.FindString(stackutil.HeaderValue(data, "Message-ID"))
}

// quarantineEntries counts the quarantine entries beside the config.
func quarantineEntries(t *testing.T, cfg string) int {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(filepath.Dir(cfg), "quarantine", "*", "*", "metadata.json"))
	return len(m)
}

// allowAllConfig returns config sections under which qscan's content
// checks allow everything, so that only viruses change a message; and no
// postmaster report is sent.
func allowAllConfig(t *testing.T) string {
	t.Helper()
	rules := filepath.Join(t.TempDir(), "allow.rules.conf")
	if err := os.WriteFile(rules, []byte("allow\t.*\t-\t-\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("[content]\nfilename_rules = [%[1]q]\nfiletype_rules = [%[1]q]\narchive_filename_rules = [%[1]q]\n"+
		"archive_filetype_rules = [%[1]q]\nblock_partial = false\nblock_external_body = false\n"+
		"[content.html]\niframe = \"allow\"\nform = \"allow\"\nscript = \"allow\"\nobject_codebase = \"allow\"\n"+
		"[notify]\npostmaster = \"\"\n", rules)
}

// firstDiff describes where b first differs from a.
func firstDiff(a, b []byte) string {
	al, bl := strings.SplitAfter(string(a), "\n"), strings.SplitAfter(string(b), "\n")
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("%d bytes, then %d; line %d was %.120q, is %.120q", len(a), len(b), i+1, x, y)
		}
	}
	return "same lines"
}
