//go:build reliability

package reliability

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// swapKinds are the ways a writer of the incoming queue changes a df
// while qscan checks its message.
var swapKinds = []string{"renamed over (regular file)", "renamed over (symlink to a secret)", "written in place"}

// TestDfSwapRace changes the df of each message while qscan holds its
// lock (claimed, being checked): a new body with an EICAR attachment
// renamed over it, a symbolic link to a secret file renamed over it, or
// the EICAR body written into the same file. What goes out must be the
// body qscan checked: the original, or the new body checked again (and
// cleaned); never the secret, never EICAR, never a symbolic link.
func TestDfSwapRace(t *testing.T) {
	requireRoot(t)
	sc := relScale()
	bin := stackutil.Binary(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "mqueue.in"), filepath.Join(dir, "mqueue")
	for _, d := range []string{in, out} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("TOP-SECRET-not-for-mail\n"), 0o600)
	// Multipart messages only, so that the infected body of the same
	// number fits the header (boundary) qscan and mail clients read it by.
	msgs := make([]stackutil.Msg, sc.diskMsgs)
	evil := map[string][]byte{} // Message-ID -> the body swapped in
	for i := range msgs {
		n := 4*(i/2) + 2 + i%2
		msgs[i] = stackutil.Message("rel", n, "swap", false)
		evil[msgs[i].ID] = stackutil.BodyOf(stackutil.Message("rel", n, "swap", true).Raw)
	}
	enqueue(t, bin, in, msgs)
	ids := queueIDs(t, in)
	cfgPath := writeConfig(t, cfg{incoming: in, outgoing: out, maxMessages: 1})
	logFile := logPath(t, "qscan")
	os.Remove(logFile)
	d := stackutil.StartDaemon(t, bin, cfgPath, stackutil.DaemonOpts{LogFile: logFile})
	defer func() {
		if d.Alive() {
			d.Shutdown(t)
		}
	}()
	swapped := map[string]string{} // queue ID -> kind
	pending := map[string]int{}
	for i, id := range sortedKeys(ids) {
		pending[id] = i
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(pending) > 0 && time.Now().Before(deadline) {
		for id, i := range pending {
			locked, gone := lockedByQscan(filepath.Join(in, "qf"+id))
			if gone {
				delete(pending, id) // done before the swapper saw it locked
				continue
			}
			if !locked {
				continue
			}
			kind := swapKinds[i%len(swapKinds)]
			if err := swapDf(filepath.Join(in, "df"+id), kind, evil[ids[id]], secret); err == nil {
				swapped[id] = kind
			}
			delete(pending, id)
		}
		time.Sleep(200 * time.Microsecond)
	}
	settle(in, out, 3*time.Second, 60*time.Second)
	d.Shutdown(t)
	checkSwapOutcome(t, in, out, ids, swapped, msgs, logFile)
}

// checkSwapOutcome checks and records what became of each message.
func checkSwapOutcome(t *testing.T, in, out string, ids map[string]string, swapped map[string]string, msgs []stackutil.Msg, logFile string) {
	t.Helper()
	byMID := map[string]stackutil.Msg{}
	for _, m := range msgs {
		byMID[m.ID] = m
	}
	outMsgs, bad := outgoingMessages(t, out)
	if bad > 0 {
		t.Errorf("%d bad outgoing entries", bad)
	}
	files, _ := os.ReadDir(out)
	for _, f := range files {
		if f.Type()&os.ModeSymlink != 0 {
			t.Errorf("outgoing %s is a symbolic link", f.Name())
		}
	}
	type row struct{ swapped, original, recheckedClean, notOut int }
	rows := map[string]*row{}
	for _, k := range append([]string{"not swapped"}, swapKinds...) {
		rows[k] = &row{}
	}
	for id, mid := range ids {
		kind := swapped[id]
		if kind == "" {
			kind = "not swapped"
		}
		r := rows[kind]
		r.swapped++
		df, ok := outMsgs[mid]
		switch {
		case !ok:
			r.notOut++
		case bytes.Equal(df, stackutil.BodyOf(byMID[mid].Raw)):
			r.original++
		case bytes.Contains(df, []byte("TOP-SECRET")):
			t.Errorf("%s (%s): the secret file went out as its body", id, kind)
		case hasEICAR(df):
			t.Errorf("%s (%s): EICAR went out unscanned", id, kind)
		default:
			r.recheckedClean++ // the new body, checked and cleaned
		}
	}
	if len(swapped) == 0 {
		t.Errorf("no df was swapped while qscan held its lock: the test proved nothing")
	}
	var tb table
	tb.head = []string{"df change while checked", "messages", "delivered: the checked original", "delivered: the new body checked again (cleaned)", "not delivered (held / set aside)"}
	for _, k := range append([]string{"not swapped"}, swapKinds...) {
		r := rows[k]
		tb.add(k, r.swapped, r.original, r.recheckedClean, r.notOut)
	}
	record(t, 22, fmt.Sprintf("%d clean messages put in with `qscan enqueue`, `max_messages = 1`; as soon as qscan holds the lock of a message's qf "+
		"its df is replaced (a body with an EICAR zip renamed over it; a symbolic link to a secret file renamed over it; the EICAR body written "+
		"into the same file). Built-in engine. Log: %s.", len(ids), logFile), tb)
}

// queueIDs maps the queue IDs of dir to their messages' Message-ID.
func queueIDs(t *testing.T, dir string) map[string]string {
	t.Helper()
	qfs, _ := filepath.Glob(filepath.Join(dir, "qf*"))
	ids := map[string]string{}
	for _, p := range qfs {
		q, _, err := readEntry(p)
		if err != nil {
			t.Fatal(err)
		}
		mid, _ := q.Header("Message-ID")
		ids[strings.TrimPrefix(filepath.Base(p), "qf")] = strings.TrimSpace(mid)
	}
	return ids
}

// lockedByQscan reports whether another process holds qf's flock (qscan
// claimed the message), and whether qf is gone (the message is done).
func lockedByQscan(qf string) (locked, gone bool) {
	f, err := os.Open(qf)
	if err != nil {
		return false, true
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return errors.Is(err, syscall.EWOULDBLOCK), false
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false, false
}

// swapDf changes df the way kind says.
func swapDf(df, kind string, evil []byte, secret string) error {
	tmp := df + ".swap"
	switch kind {
	case swapKinds[0]:
		if err := os.WriteFile(tmp, evil, 0o600); err != nil {
			return err
		}
	case swapKinds[1]:
		if err := os.Symlink(secret, tmp); err != nil {
			return err
		}
	default:
		f, err := os.OpenFile(df, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return err
		}
		_, err = f.Write(evil)
		f.Close()
		return err
	}
	return os.Rename(tmp, df)
}

// requireRoot skips a test that needs root but no stack component.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the reliability suite needs root")
	}
}
