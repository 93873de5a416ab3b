package spamcheck

import (
	"bytes"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/spam"
	"github.com/qscan/qscan/pkg/spam/spamd"
)

// TestRealClientTimeout runs the real spamd client against a server that
// accepts and never answers: each message times out, the engine is paused
// after MaxTimeouts and then no longer dialled.
func TestRealClientTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
	})
	client, err := spamd.New(spamd.Options{Address: ln.Addr().String(), Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Spam: spam.DefaultOptions()}
	opts.Spam.MaxTimeouts = 2
	f := newFixture(t, opts, Engines{Spamd: client})
	for i, want := range []string{"deadline exceeded", "deadline exceeded", "paused"} {
		got := f.check(t, testMessage("id", string(rune('a'+i))+"\n"))
		if got.Level != "ham" || !strings.Contains(got.Unchecked, want) {
			t.Errorf("message %d: Spam = %+v, want unchecked ham (%s)", i, got, want)
		}
	}
	if n := accepted.Load(); n != 2 {
		t.Errorf("spamd dialled %d times, want 2", n)
	}
	if st := f.Health()["spamd"]; st.Up || !st.Paused {
		t.Errorf("Health = %+v, want paused", st)
	}
}

// TestRealSpamd checks GTUBE and a ham against the spamd at $QSCAN_SPAMD
// (host:port), e.g. the one scripts/teststack starts.
func TestRealSpamd(t *testing.T) {
	addr := os.Getenv("QSCAN_SPAMD")
	if addr == "" {
		t.Skip("QSCAN_SPAMD not set")
	}
	client, err := spamd.New(spamd.Options{Address: addr, Timeout: 60 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Spam: spam.DefaultOptions(), HoldOnFailure: true}
	f := newFixture(t, opts, Engines{Spamd: client})
	for _, tt := range []struct {
		file  string
		level message.SpamLevel
	}{
		{"../spam/spamd/testdata/gtube.eml", "high"},
		{"../spam/spamd/testdata/ham.eml", "ham"},
	} {
		data, err := os.ReadFile(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		header, body, ok := bytes.Cut(data, []byte("\n\n"))
		if !ok {
			t.Fatalf("%s: no blank line", tt.file)
		}
		m := testMessage(tt.file, "")
		m.Header, m.Body = append(header, '\n'), body
		got := f.check(t, m)
		if got.Level != tt.level || got.Unchecked != "" {
			t.Errorf("%s: Spam = %+v, want level %s", tt.file, got, tt.level)
		}
		edits, err := Headers(got, m.Header, "Example", DefaultHeaderOptions())
		if err != nil {
			t.Fatal(err)
		}
		out := string(message.EditHeader(m.Header, edits))
		if tt.level == "high" && (!strings.Contains(out, "GTUBE 1000.00") || !strings.Contains(out, "Subject: {Spam?}")) {
			t.Errorf("%s: headers lack the GTUBE rule or the tag:\n%s", tt.file, out)
		}
		t.Logf("%s:\n%s", tt.file, out)
	}
}

// TestRealClientRefused: with nothing listening, the message is held when
// hold_on_failure is set, and delivered unchecked otherwise.
func TestRealClientRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	client, err := spamd.New(spamd.Options{Address: addr, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, Options{HoldOnFailure: true}, Engines{Spamd: client})
	if err := f.Check(t.Context(), testMessage("id1", "x\n")); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "refused") {
		t.Errorf("Check = %v, want ErrUnavailable: connection refused", err)
	}
	f = newFixture(t, Options{}, Engines{Spamd: client})
	got := f.check(t, testMessage("id2", "x\n"))
	if got.Level != "ham" || !strings.HasPrefix(got.Unchecked, "spamd REPORT "+addr) {
		t.Errorf("Spam = %+v, want unchecked ham", got)
	}
	if st := f.Health()["spamd"]; st.Up || !strings.Contains(st.LastError, "refused") {
		t.Errorf("Health = %+v, want down with the cause", st)
	}
}
