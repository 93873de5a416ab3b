//go:build reliability

package reliability

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// engineRow is the outcome of one engine fault.
type engineRow struct {
	fault                      string
	msgs, out, lost, unscanned int
	outDuring                  int // messages written to the outgoing queue during the outage
	maxBatch, recovery, outage time.Duration
	held                       int
	note                       string
}

// TestEngines breaks the virus and spam engines while qscan drains mail:
// clamd killed and restarted, clamd stopped (SIGSTOP: a hang) and
// continued, a fake clamd answering garbage, spamd killed and stopped. With
// clamd broken nothing may go out (the outgoing count stays flat), EICAR
// never goes out, no batch outlasts the timeouts, and mail flows again
// without a restart of qscan. With spamd broken mail goes on, labelled
// "not checked".
func TestEngines(t *testing.T) {
	s := requireStack(t, "sink", "sendmail", "clamd", "spamd")
	bin := stackutil.Binary(t)
	var rows []engineRow
	run := func(name string, f func(t *testing.T) engineRow) {
		t.Run(name, func(t *testing.T) {
			r := f(t)
			r.fault = name
			if t.Failed() {
				r.note = "FAIL " + r.note
			}
			rows = append(rows, r)
		})
	}
	clamdPid := func() int { return pidOf(t, filepath.Join(s.Dir, "run", "clamd.pid")) }
	run("clamd-killed", func(t *testing.T) engineRow {
		return virusFault(t, s, bin, s.ClamdAddr,
			func() { syscall.Kill(clamdPid(), syscall.SIGKILL) },
			func() {
				if err := s.Start("clamd"); err != nil {
					t.Error(err)
				}
			})
	})
	run("clamd-stopped", func(t *testing.T) engineRow {
		var pid int
		t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })
		return virusFault(t, s, bin, s.ClamdAddr,
			func() { pid = clamdPid(); syscall.Kill(pid, syscall.SIGSTOP) },
			func() { syscall.Kill(pid, syscall.SIGCONT) })
	})
	run("clamd-garbage", func(t *testing.T) engineRow {
		fake := newFakeClamd(t, s.ClamdAddr)
		fake.setProxy(true)
		return virusFault(t, s, bin, fake.addr(),
			func() { fake.setProxy(false) },
			func() { fake.setProxy(true) })
	})
	spamdPid := func() int { return pidOf(t, filepath.Join(s.Dir, "run", "spamd.pid")) }
	run("spamd-killed", func(t *testing.T) engineRow {
		return spamFault(t, s, bin,
			func() { syscall.Kill(-spamdPid(), syscall.SIGKILL); syscall.Kill(spamdPid(), syscall.SIGKILL) },
			func() {
				if err := s.Start("spamd"); err != nil {
					t.Error(err)
				}
			})
	})
	run("spamd-stopped", func(t *testing.T) engineRow {
		var pid int
		t.Cleanup(func() { syscall.Kill(-pid, syscall.SIGCONT) })
		return spamFault(t, s, bin,
			func() { pid = spamdPid(); syscall.Kill(-pid, syscall.SIGSTOP) },
			func() { syscall.Kill(-pid, syscall.SIGCONT) })
	})
	var tb table
	tb.head = []string{"fault", "messages", "delivered", "lost", "delivered unscanned / with EICAR", "written during outage", "held (log lines)", "outage", "max batch", "recovery", "note"}
	for _, r := range rows {
		tb.add(r.fault, r.msgs, r.out, r.lost, r.unscanned, r.outDuring, r.held, r.outage.Round(100*time.Millisecond),
			r.maxBatch.Round(time.Millisecond), r.recovery.Round(100*time.Millisecond), r.note)
	}
	record(t, 30, "[virus.clamd] timeout = 5s, [spam.spamd] timeout = 5s, spam pause 10s, retry 1–2 s, batches of 10, kick off "+
		"(the outgoing queue is counted, then flushed to the sink). \"recovery\": from the engine's return to the incoming queue drained.", tb)
}

// pidOf reads a pid file.
func pidOf(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(data), "\n", 2)[0]))
	if err != nil || pid <= 1 {
		t.Fatalf("pid file %s: %q", path, data)
	}
	return pid
}

// engineMsgs makes the messages of one fault: every tenth infected.
func engineMsgs(tag string) []stackutil.Msg {
	msgs := make([]stackutil.Msg, relScale().engineMsgs)
	for i := range msgs {
		msgs[i] = stackutil.Message("rel", i, tag, i%10 == 3)
	}
	return msgs
}

// virusFault drains mail through clamd at addr, breaks it once the first
// messages went out, checks the outgoing count stays flat, heals it and
// waits for the rest.
func virusFault(t *testing.T, s stackutil.Stack, bin, addr string, fault, heal func()) engineRow {
	sc := relScale()
	emptyStack(t, s)
	msgs := engineMsgs(strings.ReplaceAll(t.Name(), "/", "-"))
	r := engineRow{msgs: len(msgs), outage: sc.outage}
	// Half before the fault, half once it has begun: qscan picks mail up
	// at once, so a short run could deliver everything before the fault
	// and no batch would ever meet it.
	first, second := msgs[:len(msgs)/2], msgs[len(msgs)/2:]
	if sub := submitParallel(s.SMTPIn, first, 4); sub.Failures > 0 {
		t.Fatalf("submit: %v", sub.LastErr)
	}
	stackutil.WaitUntil(time.Minute, func() bool { return count(s.Incoming, "qf*") >= len(first) })
	cfgPath := writeConfig(t, cfg{incoming: s.Incoming, outgoing: s.Outgoing, maxMessages: 10, clamd: addr, clamdTimeout: "5s"})
	logFile := logPath(t, "qscan")
	os.Remove(logFile)
	d := stackutil.StartDaemon(t, bin, cfgPath, stackutil.DaemonOpts{LogFile: logFile})
	defer d.Shutdown(t)
	if !stackutil.WaitUntil(time.Minute, func() bool { return count(s.Outgoing, "qf*") >= 3 }) {
		t.Fatalf("nothing went out before the fault; log %s", logFile)
	}
	fault()
	before := len(stackutil.ReadLog(logFile))
	if sub := submitParallel(s.SMTPIn, second, 4); sub.Failures > 0 {
		t.Fatalf("submit during the fault: %v", sub.LastErr)
	}
	// Messages scanned before the fault may still be committed by the batch
	// in hand: the baseline is taken once a batch has held messages.
	if !stackutil.WaitUntil(30*time.Second, func() bool { return heldBatchAfter(stackutil.ReadLog(logFile), before) }) {
		t.Errorf("no batch held messages within 30 s of the fault")
	}
	base := count(s.Outgoing, "qf*")
	end := time.Now().Add(sc.outage)
	for time.Now().Before(end) {
		if n := count(s.Outgoing, "qf*"); n != base {
			r.outDuring = max(r.outDuring, n-base)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.outDuring != 0 {
		t.Errorf("%d messages went out while the virus engine was broken", r.outDuring)
	}
	healed := time.Now()
	heal()
	if !stackutil.WaitUntil(3*time.Minute, func() bool { return count(s.Incoming, "qf*") == 0 }) {
		t.Errorf("incoming still holds %d messages 3 min after the engine came back", count(s.Incoming, "qf*"))
	}
	r.recovery = time.Since(healed)
	entries := stackutil.ReadLog(logFile)
	r.maxBatch = maxDur(stackutil.BatchTimes(entries))
	r.held = len(stackutil.GrepLog(entries, "action=held"))
	if limit := 15 * time.Second; r.maxBatch > limit {
		t.Errorf("a batch took %s, more than %s (clamd timeout 5 s)", r.maxBatch, limit)
	}
	if n := count(s.Outgoing, "qf*"); n < len(msgs) {
		r.note = fmt.Sprintf("%d of %d in outgoing", n, len(msgs))
	}
	if err := stackutil.Flush(); err != nil {
		t.Fatal(err)
	}
	res := checkSinkOnce(t, s, msgs, 2*time.Minute)
	r.out, r.lost, r.unscanned = len(msgs)-res.lost, res.lost, res.unscanned
	if n := len(stackutil.GrepLog(entries, "ms_virus")); n < len(msgs) {
		t.Errorf("%d decision lines show a virus scan, want %d", n, len(msgs))
		r.unscanned += len(msgs) - n
	}
	return r
}

// heldBatchAfter reports whether a "batch done" line with held messages
// follows entry index from.
func heldBatchAfter(entries []stackutil.LogEntry, from int) bool {
	for _, e := range entries[min(from, len(entries)):] {
		if e.Msg == "batch done" && e.Num("held") > 0 {
			return true
		}
	}
	return false
}

// spamFault runs mail through spamd (and the real clamd), breaks spamd:
// mail must go on, labelled not checked, and be checked again once spamd
// is back, without a restart.
func spamFault(t *testing.T, s stackutil.Stack, bin string, fault, heal func()) engineRow {
	emptyStack(t, s)
	all := engineMsgs(strings.ReplaceAll(t.Name(), "/", "-"))
	n := len(all) / 3
	a, b, c := all[:n], all[n:2*n], all[2*n:]
	r := engineRow{msgs: len(all)}
	cfgPath := writeConfig(t, cfg{incoming: s.Incoming, outgoing: s.Outgoing, maxMessages: 10,
		clamd: s.ClamdAddr, clamdTimeout: "5s", spamd: s.SpamdAddr})
	logFile := logPath(t, "qscan")
	os.Remove(logFile)
	d := stackutil.StartDaemon(t, bin, cfgPath, stackutil.DaemonOpts{LogFile: logFile})
	defer d.Shutdown(t)
	deliver := func(msgs []stackutil.Msg, want int, timeout time.Duration) bool {
		if sub := submitParallel(s.SMTPIn, msgs, 4); sub.Failures > 0 {
			t.Fatalf("submit: %v", sub.LastErr)
		}
		return stackutil.WaitUntil(timeout, func() bool { return count(s.Outgoing, "qf*") >= want })
	}
	if !deliver(a, len(a), 2*time.Minute) {
		t.Fatalf("first messages not delivered with spamd up; log %s", logFile)
	}
	fault()
	faulted := time.Now()
	if !deliver(b, len(a)+len(b), 2*time.Minute) {
		t.Errorf("mail stopped while spamd was broken: %d of %d out", count(s.Outgoing, "qf*"), len(a)+len(b))
	}
	r.outage = time.Since(faulted)
	hdrs := outgoingHeaders(t, s.Outgoing)
	for _, m := range b {
		if v := hdrs[m.ID]["X-Rel-QScan-SpamCheck"]; !strings.Contains(v, "not checked") {
			t.Errorf("%s went out during the spamd outage with SpamCheck %q, want \"not checked\"", m.ID, v)
		} else {
			r.outDuring++
		}
	}
	heal()
	healed := time.Now()
	checked, i := false, 0
	for ; i < len(c) && !checked; i++ {
		if !deliver(c[i:i+1], len(a)+len(b)+i+1, time.Minute) {
			t.Errorf("%s not delivered after spamd came back", c[i].ID)
			break
		}
		checked = outgoingHeaders(t, s.Outgoing)[c[i].ID]["X-Spam-Status"] != ""
		if !checked {
			// The checks rest for spamPause after the failures: the
			// messages of c are spread over more than that, whatever
			// their number (a short run has few).
			time.Sleep(max(time.Second, (spamPause+2*time.Second)/time.Duration(len(c))))
		}
	}
	r.recovery = time.Since(healed)
	if !checked {
		t.Errorf("no message was spam-checked again within %s of spamd's return", r.recovery.Round(time.Second))
	}
	if sub := submitParallel(s.SMTPIn, c[i:], 4); sub.Failures > 0 {
		t.Fatalf("submit: %v", sub.LastErr)
	}
	stackutil.WaitUntil(2*time.Minute, func() bool { return count(s.Incoming, "qf*") == 0 })
	entries := stackutil.ReadLog(logFile)
	r.maxBatch = maxDur(stackutil.BatchTimes(entries))
	r.held = len(stackutil.GrepLog(entries, "action=held"))
	if limit := 15 * time.Second; r.maxBatch > limit {
		t.Errorf("a batch took %s, more than %s (spamd timeout 5 s)", r.maxBatch, limit)
	}
	if err := stackutil.Flush(); err != nil {
		t.Fatal(err)
	}
	res := checkSinkOnce(t, s, all, 2*time.Minute)
	r.out, r.lost, r.unscanned = len(all)-res.lost, res.lost, res.unscanned
	r.note = fmt.Sprintf("%d labelled not checked during the outage", r.outDuring)
	return r
}

// outgoingHeaders maps Message-ID to the header fields of each outgoing qf.
func outgoingHeaders(t *testing.T, dir string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	qfs, _ := filepath.Glob(filepath.Join(dir, "qf*"))
	for _, p := range qfs {
		q, _, err := readEntry(p)
		if err != nil {
			continue // being written or delivered
		}
		h := map[string]string{}
		for _, f := range q.Headers() {
			if _, ok := h[f.Name]; !ok {
				h[f.Name] = f.Value
			}
		}
		mid, _ := q.Header("Message-ID")
		out[strings.TrimSpace(mid)] = h
	}
	return out
}
