//go:build reliability

package reliability

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// TestTimeoutCPUStops feeds qscan a message whose check takes far longer
// than message_timeout (1 s): a zip of zips holding 400,000 tiny
// members, within every limit. The message is held at the timeout; the
// abandoned check must stop, so qscan's CPU time (from /proc/<pid>/stat)
// stops growing soon after: over the next few seconds it uses less than
// half of one core (issue 16.8: 10 s -> 53 s of CPU over 40 s with
// nothing queued). Retries are a minute apart, so none starts meanwhile.
func TestTimeoutCPUStops(t *testing.T) {
	requireRoot(t)
	bin := stackutil.Binary(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "mqueue.in"), filepath.Join(dir, "mqueue")
	for _, d := range []string{in, out} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	heavy := stackutil.Msg{ID: "<heavy@rel.example>", Rcpt: "rcpt@example.test",
		Raw: attachZip("heavy", zipOfZips(400, 1000))}
	enqueue(t, bin, in, []stackutil.Msg{heavy})
	cfgPath := writeConfig(t, cfg{incoming: in, outgoing: out, messageTimeout: "1s", retry: "1m"})
	logFile := logPath(t, "qscan")
	os.Remove(logFile)
	d := stackutil.StartDaemon(t, bin, cfgPath, stackutil.DaemonOpts{LogFile: logFile})
	defer func() {
		if d.Alive() {
			d.Shutdown(t)
		}
	}()
	pid := d.Pid()
	if !stackutil.WaitUntil(60*time.Second, func() bool { return len(stackutil.GrepLog(stackutil.ReadLog(logFile), "timed out")) > 0 }) {
		t.Fatalf("the message was not held at its timeout; log %s", logFile)
	}
	atTimeout := cpuTime(t, pid)
	const grace, window = time.Second, 4 * time.Second
	time.Sleep(grace)
	start := cpuTime(t, pid)
	time.Sleep(window)
	used := cpuTime(t, pid) - start
	if used > window/2 {
		t.Errorf("qscan used %s of CPU in the %s after the timeout (+%s): the timed-out check goes on", used, window, grace)
	}
	if count(in, "qf*") != 1 {
		t.Errorf("the timed-out message left the incoming queue")
	}
	var tb table
	tb.head = []string{"CPU when the timeout was logged", "CPU in the first second after", "CPU in the next 4 s", "bound"}
	tb.add(atTimeout, start-atTimeout, used, window/2)
	record(t, 41, fmt.Sprintf("One message: a zip of 400 zips of 1,000 one-byte members (%d KB), `message_timeout = \"1s\"`, retries a minute apart, "+
		"built-in engine. qscan's CPU time (utime + stime of /proc/<pid>/stat) after the log says the check timed out. Log: %s.",
		len(heavy.Raw)>>10, logFile), tb)
}

// zipOfZips builds a zip of n zips, each of members one-byte files.
func zipOfZips(n, members int) []byte {
	var ib bytes.Buffer
	iw := zip.NewWriter(&ib)
	for i := range members {
		w, _ := iw.CreateHeader(&zip.FileHeader{Name: strconv.Itoa(i), Method: zip.Store})
		w.Write([]byte("x"))
	}
	iw.Close()
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	for i := range n {
		w, _ := zw.Create(fmt.Sprintf("z%d.zip", i))
		w.Write(ib.Bytes())
	}
	zw.Close()
	return zb.Bytes()
}

// attachZip is a message with data attached as a zip.
func attachZip(tag string, data []byte) []byte {
	return []byte("From: a@example.org\nTo: rcpt@example.test\nSubject: " + tag + "\nMessage-ID: <" + tag + "@rel.example>\n" +
		"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee\n--b\n" +
		"Content-Type: application/zip; name=\"" + tag + ".zip\"\nContent-Transfer-Encoding: base64\n\n" + stackutil.Base64Lines(data) + "--b--\n")
}

// cpuTime returns the user and system CPU time of process pid so far.
func cpuTime(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name (which may hold spaces): state is the
	// first, utime the 12th, stime the 13th; in clock ticks (USER_HZ 100).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
