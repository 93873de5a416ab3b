package clamd

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/virus"
)

func TestParseScanReply(t *testing.T) {
	long := "Qscan.Long." + strings.Repeat("A", 400)
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
		// Names are whatever the signature databases hold: long ones are
		// cut with a marker, odd bytes replaced, never an error (which
		// would take clamd for down and hold all mail).
		{in: "stream: " + long + ".UNOFFICIAL FOUND\x00", names: []string{long[:virus.MaxNameLen-len(virus.CutMark)] + virus.CutMark}},
		{in: "stream: Qscan Spaced Name.UNOFFICIAL FOUND\x00", names: []string{"Qscan Spaced Name.UNOFFICIAL"}},
		{in: "stream: Qscan:Colon: Name FOUND\x00", names: []string{"Qscan:Colon: Name"}},
		{in: "stream: Named OK FOUND\x00", names: []string{"Named OK"}},
		{in: "stream: Named ERROR FOUND\x00", names: []string{"Named ERROR"}},
		{in: "stream: Eicar-Test-Signature(44d88612fea8a8f36de82e1278abb02f:68) FOUND\x00", names: []string{"Eicar-Test-Signature"}}, // ExtendedDetectionInfo
		{in: "stream:  FOUND\x00", names: []string{virus.NoName}},
		{in: "stream: a\x01b FOUND\x00", names: []string{"a?b"}},
		{in: "stream:  padded FOUND", names: []string{"padded"}},
		{in: "stream: \xff FOUND", names: []string{"\uFFFD"}},
		// Several FOUND lines (all-match scanning): every name, and an
		// infection wins over an error or an OK beside it.
		{in: "stream: A FOUND\nstream: B FOUND\n", names: []string{"A", "B"}},
		{in: "stream: A FOUND\x00stream: B FOUND\x00", names: []string{"A", "B"}},
		{in: "stream: A FOUND\nstream: Can't allocate memory ERROR\n", names: []string{"A"}},
		{in: "stream: OK\nstream: A FOUND\n", names: []string{"A"}},
		{in: "stream: A FOUND\ngarbage\n", names: []string{"A"}},
		{in: "INSTREAM size limit exceeded. ERROR\n", limit: true},
		{in: "Error processing command. ERROR\x00", err: true},
		{in: "COMMAND READ TIMED OUT\n", err: true},
		{in: "stream: read timeout ERROR\x00", err: true},
		{in: "stream: OK\nstream: OK\n", err: true},
		{in: "stream: OK\ngarbage\n", err: true},
		{in: "\x00", err: true},
		{in: "\n\n", err: true},
		{in: "stream: OK\x00\x00", err: true},
		{in: "stream: FOUND", err: true},
		{in: "UNKNOWN COMMAND\x00", err: true},
		{in: "", err: true},
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
// exactly an OK answer; that names are bounded; and that a FOUND answer is
// a verdict whatever name clamd gives (a signature database may hold any
// name of one line).
func FuzzParseScanReply(f *testing.F) {
	for _, s := range []string{"stream: OK\x00", "stream: Eicar-Test-Signature FOUND\x00", "INSTREAM size limit exceeded. ERROR\x00", "stream: x ERROR\n",
		"stream: A FOUND\nstream: B FOUND\n", "stream: Sig(44d88612fea8a8f36de82e1278abb02f:68) FOUND\x00", "Error processing command. ERROR\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		res, err := ParseScanReply(s)
		if err != nil {
			if !errors.Is(err, virus.ErrUnavailable) {
				t.Fatalf("ParseScanReply(%q) error %v does not wrap ErrUnavailable", s, err)
			}
		} else {
			if res.Engine != Name {
				t.Fatalf("ParseScanReply(%q) engine = %q", s, res.Engine)
			}
			if !res.Infected() && !res.LimitExceeded && trimTerminator(s) != "stream: OK" {
				t.Fatalf("ParseScanReply(%q) = clean", s)
			}
			if len(res.Findings) > maxFindings {
				t.Fatalf("ParseScanReply(%q): %d findings", s, len(res.Findings))
			}
			for _, n := range res.Names() {
				if n == "" || len(n) > virus.MaxNameLen || !printable(n) {
					t.Fatalf("ParseScanReply(%q) name %q", s, n)
				}
			}
		}
		if strings.ContainsAny(s, "\x00\n") {
			return
		}
		found := "stream: " + s + " FOUND\x00"
		if res, err := ParseScanReply(found); err != nil || !res.Infected() {
			t.Fatalf("ParseScanReply(%q) = %+v, %v; want infected", found, res, err)
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
