package clamd

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/virus"
)

func TestParseScanReply(t *testing.T) {
	tests := []struct {
		in    string
		names []string
		heur  bool
		limit bool
		err   bool
	}{
		{in: "stream: OK\x00"},
		{in: "stream: OK\n"},
		{in: "stream: OK"},
		{in: "stream: Eicar-Test-Signature FOUND\x00", names: []string{"Eicar-Test-Signature"}},
		{in: "stream: Eicar-Test-Signature.UNOFFICIAL FOUND\n", names: []string{"Eicar-Test-Signature.UNOFFICIAL"}},
		{in: "stream: Heuristics.Limits.Exceeded.MaxFileSize FOUND\x00", names: []string{"Heuristics.Limits.Exceeded.MaxFileSize"}, heur: true},
		{in: "stream: Heuristics.Encrypted.Zip FOUND", names: []string{"Heuristics.Encrypted.Zip"}, heur: true},
		{in: "INSTREAM size limit exceeded. ERROR\x00", limit: true},
		{in: "stream: Can't allocate memory ERROR\x00", err: true},
		{in: "stream:  FOUND\x00", err: true},
		{in: "stream: a\x01b FOUND\x00", err: true},
		{in: "stream:  padded FOUND", err: true},
		{in: "stream: " + strings.Repeat("A", 300) + " FOUND", err: true},
		{in: "stream: OK\x00\x00", err: true},
		{in: "stream: FOUND", err: true},
		{in: "UNKNOWN COMMAND\x00", err: true},
		{in: "", err: true},
		{in: "stream: \xff FOUND", err: true},
		{in: "1: stream: OK\x00", err: true}, // IDSESSION answers are not ours
	}
	for _, tt := range tests {
		res, err := ParseScanReply(tt.in)
		if tt.err {
			if !errors.Is(err, virus.ErrUnavailable) {
				t.Errorf("ParseScanReply(%q) = %+v, %v; want ErrUnavailable", tt.in, res, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseScanReply(%q) error = %v", tt.in, err)
			continue
		}
		if got := res.Names(); !slices.Equal(got, tt.names) || res.Heuristic() != tt.heur || res.LimitExceeded != tt.limit {
			t.Errorf("ParseScanReply(%q) = %+v, want names %q heuristic %v limit %v", tt.in, res, tt.names, tt.heur, tt.limit)
		}
	}
}

func TestParseStats(t *testing.T) {
	real := "POOLS: 1\n\nSTATE: VALID PRIMARY\nTHREADS: live 1  idle 0 max 4 idle-timeout 30\nQUEUE: 2 items\n\tSTATS 0.000002 \n\nMEMSTATS: heap N/A mmap N/A used N/A\nEND\x00"
	st, err := ParseStats(real)
	if want := (Stats{ThreadsLive: 1, ThreadsIdle: 0, ThreadsMax: 4, Queue: 2}); err != nil || st != want {
		t.Errorf("ParseStats(real) = %+v, %v; want %+v", st, err, want)
	}
	for _, bad := range []string{
		"", "END\x00", "THREADS: live 1 idle 0 max 0\n", "THREADS: live x max 4\n",
		"THREADS: live 1 max -4\n", "THREADS: max 4\nQUEUE: many items\n",
	} {
		if st, err := ParseStats(bad); !errors.Is(err, virus.ErrUnavailable) {
			t.Errorf("ParseStats(%q) = %+v, %v; want ErrUnavailable", bad, st, err)
		}
	}
}

// FuzzParseScanReply checks that any answer gives either an error or a
// consistent verdict, never a panic and never "clean" for text that is not
// exactly an OK answer.
func FuzzParseScanReply(f *testing.F) {
	for _, s := range []string{"stream: OK\x00", "stream: Eicar-Test-Signature FOUND\x00", "INSTREAM size limit exceeded. ERROR\x00", "stream: x ERROR\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		res, err := ParseScanReply(s)
		if err != nil {
			if !errors.Is(err, virus.ErrUnavailable) {
				t.Fatalf("ParseScanReply(%q) error %v does not wrap ErrUnavailable", s, err)
			}
			return
		}
		if res.Engine != Name {
			t.Fatalf("ParseScanReply(%q) engine = %q", s, res.Engine)
		}
		if !res.Infected() && !res.LimitExceeded && trimTerminator(s) != "stream: OK" {
			t.Fatalf("ParseScanReply(%q) = clean", s)
		}
		for _, n := range res.Names() {
			if n == "" || len(n) > maxNameLen || !printable(n) {
				t.Fatalf("ParseScanReply(%q) name %q", s, n)
			}
		}
	})
}

func FuzzParseStats(f *testing.F) {
	f.Add("POOLS: 1\n\nSTATE: VALID PRIMARY\nTHREADS: live 1  idle 0 max 4 idle-timeout 30\nQUEUE: 0 items\nEND\x00")
	f.Fuzz(func(t *testing.T, s string) {
		st, err := ParseStats(s)
		if err == nil && st.ThreadsMax <= 0 {
			t.Fatalf("ParseStats(%q) = %+v without error", s, st)
		}
	})
}
