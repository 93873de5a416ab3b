package stackutil

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseEnv(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]string
		wantErr bool
	}{
		{"export A=plain\n# comment\n\nexport B_2=/x/y\n", map[string]string{"A": "plain", "B_2": "/x/y"}, false},
		{`export A=with\ space\'s`, map[string]string{"A": "with space's"}, false},
		{`export A='single '\''quoted'\'''`, map[string]string{"A": "single 'quoted'"}, false},
		{`export A="double \"q\" \\ \x"`, map[string]string{"A": `double "q" \ \x`}, false},
		{"export A=", map[string]string{"A": ""}, false},
		{"A=1", nil, true},
		{"export 1A=1", nil, true},
		{"export A=$HOME", nil, true},
		{"export A=two words", nil, true},
		{"export A='open", nil, true},
		{`export A="open`, nil, true},
		{`export A="$(x)"`, nil, true},
		{`export A=x\`, nil, true},
	}
	for _, tt := range tests {
		got, err := parseEnv([]byte(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("parseEnv(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("parseEnv(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestEnvFromScript runs the real `scripts/teststack env`, which needs no
// root and no running stack.
func TestEnvFromScript(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not found")
	}
	dir := filepath.Join(t.TempDir(), "stack dir's")
	t.Setenv("QSCAN_STACK", dir)
	// QSCAN_STACK_PORTS of the caller's stack (make e2e with an offset)
	// must not leak in: this is the default offset's layout.
	for _, name := range []string{"QSCAN_STACK_PORTS", "QSCAN_STACK_CF", "SMTP_IN", "SINK_ADDR", "SINK_DIR", "CLAMD_SOCKET", "CLAMD_ADDR", "INCOMING", "OUTGOING", "QSCAN_PG_DSN"} {
		t.Setenv(name, "")
		os.Unsetenv(name)
	}
	t.Setenv("SPAMD_ADDR", "127.0.0.9:1234") // the environment wins
	s, err := Env()
	if err != nil {
		t.Fatal(err)
	}
	want := Stack{
		Dir: dir, Ports: "0", CF: dir + "/test.cf", SMTPIn: "127.0.0.1:2525", SinkAddr: "127.0.0.2:2526",
		SinkDir: dir + "/sink", ClamdSocket: dir + "/run/clamd.sock", ClamdAddr: "127.0.0.1:3310",
		SpamdAddr: "127.0.0.9:1234", Incoming: dir + "/mqueue.in", Outgoing: dir + "/mqueue",
		PGDSN: "postgres://qscan:qscan@127.0.0.1:5432/qscan?sslmode=disable", // the postgresql plug-in's
	}
	if s != want {
		t.Errorf("Env() = %+v\nwant %+v", s, want)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("Env() created %s; env must not touch the disk", dir)
	}
}

func TestKickArgs(t *testing.T) {
	s := Stack{CF: "/s/test.cf", Outgoing: "/s/mqueue"}
	got := s.KickArgs("6AM8Fa4W008391", "6AM8Fa4W008392")
	want := []string{"sendmail", "-C", "/s/test.cf", "-OQueueDirectory=/s/mqueue", "-qI6AM8Fa4W008391", "-qI6AM8Fa4W008392"}
	if !slices.Equal(got, want) {
		t.Errorf("KickArgs = %q, want %q", got, want)
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadSinkOrderAndClear(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{10, 2, 1} {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("%d.env", n)),
			fmt.Sprintf(`{"mail_from":"a%d@x.test","rcpt_to":["b@y.test"],"received":"2026-11-22T08:07:06Z"}`, n))
		writeFile(t, filepath.Join(dir, fmt.Sprintf("%d.eml", n)), fmt.Sprintf("msg %d\n", n))
	}
	writeFile(t, filepath.Join(dir, ".3.eml.tmp123"), "partial")
	writeFile(t, filepath.Join(dir, "notes.eml"), "not numbered")
	msgs, err := ReadSink(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range msgs {
		got = append(got, fmt.Sprintf("%s|%s|%s|%v", filepath.Base(m.Path), m.Data, m.MailFrom, m.RcptTo))
	}
	want := []string{"1.eml|msg 1\n|a1@x.test|[b@y.test]", "2.eml|msg 2\n|a2@x.test|[b@y.test]", "10.eml|msg 10\n|a10@x.test|[b@y.test]"}
	if !slices.Equal(got, want) {
		t.Errorf("ReadSink = %q, want %q", got, want)
	}
	if err := ClearSink(dir); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	// The sink's temp file is not a stored message: ClearSink leaves it.
	var names []string
	for _, p := range left {
		names = append(names, filepath.Base(p))
	}
	if want := []string{".3.eml.tmp123", "notes.eml"}; !slices.Equal(names, want) {
		t.Errorf("after ClearSink: %q, want %q", names, want)
	}
}

func TestReadSinkMissingEnvelope(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "1.eml"), "x\n")
	if _, err := ReadSink(dir); err == nil {
		t.Error("ReadSink with 1.eml but no 1.env: no error")
	}
}

func TestWaitSinkTimeout(t *testing.T) {
	msgs, err := WaitSink(t.TempDir(), 1, 150*time.Millisecond)
	if !errors.Is(err, errTimeout) || len(msgs) != 0 {
		t.Errorf("WaitSink on empty dir = %d msgs, %v; want 0, timeout", len(msgs), err)
	}
}

func TestWaitQueue(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "qfA1"), "V8\n")
	writeFile(t, filepath.Join(dir, "dfA1"), "body\n")
	writeFile(t, filepath.Join(dir, "tfB2"), "V8\n")
	done := make(chan error)
	go func() {
		time.Sleep(100 * time.Millisecond)
		done <- os.Rename(filepath.Join(dir, "tfB2"), filepath.Join(dir, "qfB2"))
	}()
	ids, err := WaitQueue(dir, 2, 10*time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err != nil || !slices.Equal(ids, []string{"A1", "B2"}) {
		t.Errorf("WaitQueue = %q, %v; want [A1 B2]", ids, err)
	}
	if _, err := WaitQueue(dir, 3, 100*time.Millisecond); !errors.Is(err, errTimeout) {
		t.Errorf("WaitQueue for 3 of 2: err = %v, want timeout", err)
	}
}

// startRealSink builds test/sink and runs it on a free loopback port.
func startRealSink(t *testing.T, dir string, flags ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs test/sink")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not found")
	}
	bin := filepath.Join(t.TempDir(), "sink")
	if out, err := exec.Command(goBin, "build", "-o", bin, "../sink").CombinedOutput(); err != nil {
		t.Fatalf("go build ../sink: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, append([]string{"-listen", addr, "-dir", dir}, flags...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for range 100 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("sink did not listen on %s", addr)
	return ""
}

func TestSubmitToRealSink(t *testing.T) {
	dir := t.TempDir()
	addr := startRealSink(t, dir)
	msg := "Subject: one\n\n.dot line\nbody\n"
	if err := Submit(addr, "alice@sender.example", []string{"bob@example.test", "carol@example.test"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	if err := Submit(addr, "", []string{"dave@example.test"}, []byte("Subject: two\n\nbounce\n")); err != nil {
		t.Fatal(err)
	}
	msgs, err := WaitSink(dir, 2, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if string(msgs[0].Data) != msg || msgs[0].MailFrom != "alice@sender.example" ||
		!slices.Equal(msgs[0].RcptTo, []string{"bob@example.test", "carol@example.test"}) {
		t.Errorf("first message = %q from %q to %q", msgs[0].Data, msgs[0].MailFrom, msgs[0].RcptTo)
	}
	if !strings.Contains(string(msgs[1].Data), "bounce") || msgs[1].MailFrom != "" || msgs[1].Received.IsZero() {
		t.Errorf("second message = %+v", msgs[1])
	}
	if err := Submit(addr, "a@x.test", []string{"bad\r\nRCPT TO:<x@y>"}, []byte("x\n")); err == nil {
		t.Error("Submit with CRLF in a recipient: no error")
	}
}

func FuzzParseEnv(f *testing.F) {
	f.Add([]byte("export A='x'\\''y'\nexport B=\"q\\\"\"\n# c\n"))
	f.Add([]byte("export QSCAN_STACK=/tmp/stack\\ dir\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		vars, err := parseEnv(in)
		if err != nil {
			return
		}
		// Whatever parsed must survive a round trip through single quotes.
		var b strings.Builder
		for name, v := range vars {
			if !isName(name) {
				t.Fatalf("parseEnv(%q) accepted name %q", in, name)
			}
			if strings.Contains(v, "\n") {
				t.Fatalf("parseEnv(%q) value %q has a newline", in, v)
			}
			fmt.Fprintf(&b, "export %s='%s'\n", name, strings.ReplaceAll(v, "'", `'\''`))
		}
		again, err := parseEnv([]byte(b.String()))
		if err != nil || fmt.Sprint(again) != fmt.Sprint(vars) {
			t.Errorf("round trip of %v = %v, %v", vars, again, err)
		}
	})
}
