package pipeline

import (
	"encoding/json"
	"github.com/qscan/qscan/pkg/sendmail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// crashAt simulates a crash in the middle of the commit protocol by doing
// its first steps by hand, then checks that a new pipeline (start-up
// recovery) delivers the message exactly once.
func TestRecovery(t *testing.T) {
	for _, tc := range []struct {
		name      string
		committed bool // commit record written
		published bool // tf already renamed to qf
		released  bool // incoming already unlinked
	}{
		{name: "prepared only"},
		{name: "committed, tf not renamed", committed: true},
		{name: "committed, published, not released", committed: true, published: true},
		{name: "committed, released, no done record", committed: true, published: true, released: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			id := "6AM876nc000050"
			e.enqueue(id, "body\n", 0)
			qfIn, dfIn := filepath.Join(e.in, "qf"+id), filepath.Join(e.in, "df"+id)
			os.MkdirAll(e.work, 0o700)
			ent := entry{In: []string{qfIn, dfIn}, InInode: inode(t, qfIn), OutID: id, Out: sendmailOut{sendmail.Queue{Dir: e.out}}.Files(id)}
			var j strings.Builder
			writeRec(&j, record{Batch: 1, Op: opPrepare, Entries: []entry{ent}})
			os.Link(dfIn, filepath.Join(e.out, "df"+id))
			tf := strings.Replace(readFile(t, qfIn), "\n.\n", "\nH??X-test-QScan: Found to be clean\n.\n", 1)
			os.WriteFile(filepath.Join(e.out, "tf"+id), []byte(tf), 0o600)
			if tc.committed {
				writeRec(&j, record{Batch: 1, Op: opCommit})
			}
			if tc.published {
				os.Rename(filepath.Join(e.out, "tf"+id), filepath.Join(e.out, "qf"+id))
			}
			if tc.released {
				os.Remove(qfIn)
				os.Remove(dfIn)
			}
			j.WriteString(`{"b":2,"op":"comm`) // a torn last line
			os.WriteFile(filepath.Join(e.work, "journal"), []byte(j.String()), 0o600)

			p := e.pipeline(e.options())
			if tc.committed {
				if got := names(t, e.out); strings.Join(got, " ") != "df"+id+" qf"+id {
					t.Errorf("after recovery outgoing = %v, want df+qf", got)
				}
				if got := names(t, e.in); len(got) != 0 {
					t.Errorf("after recovery incoming = %v, want released", got)
				}
			} else {
				if got := names(t, e.out); len(got) != 0 {
					t.Errorf("after recovery of an uncommitted batch outgoing = %v, want empty", got)
				}
			}
			p.Drain(ctx)
			if got := names(t, e.out); strings.Join(got, " ") != "df"+id+" qf"+id {
				t.Errorf("after drain outgoing = %v, want exactly one df+qf", got)
			}
			if got := names(t, e.in); len(got) != 0 {
				t.Errorf("after drain incoming = %v", got)
			}
			if n := strings.Count(readFile(t, filepath.Join(e.out, "qf"+id)), "X-test-QScan: "); n != 1 {
				t.Errorf("qf has %d qscan headers, want 1", n)
			}
			if j := readFile(t, filepath.Join(e.work, "journal")); strings.Contains(j, `"op":"prepare"`) && !strings.Contains(j, `"op":"done"`) {
				t.Errorf("journal left with an open batch: %s", j)
			}
		})
	}
}

func writeRec(b *strings.Builder, r record) {
	x, _ := json.Marshal(r)
	b.Write(x)
	b.WriteByte('\n')
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var ino uint64
	if st, err := os.Stat(path); err == nil {
		ino = statIno(st)
	}
	if ino == 0 {
		t.Fatalf("no inode for %s", path)
	}
	return ino
}

// TestCorruptQueueFiles: each bad queue entry is set aside into the
// quarantine with a reason; the good message beside them is delivered.
func TestCorruptQueueFiles(t *testing.T) {
	e := newEnv(t)
	e.enqueue("6AM876nc000060", "good\n", 0)
	good := readFile(t, filepath.Join(e.in, "qf6AM876nc000060"))
	old := 2 * time.Minute
	e.writeRaw("6AM876nc000061", []byte(good[:len(good)/2]), []byte("x\n"), 0)                                 // truncated
	e.writeRaw("6AM876nc000062", []byte(strings.Replace(good, "S<a@example.org>\n", "", 1)), []byte("x\n"), 0) // no S
	e.writeRaw("6AM876nc000063", []byte(strings.Replace(good, "RPFD:<b@example.test>\n", "", 1)), []byte("x\n"), 0)
	e.writeRaw("6AM876nc000064", []byte(good), nil, old) // df missing
	e.writeRaw("6AM876nc000065", []byte("V8\nH??Subject: "+strings.Repeat("x", 2<<20)+"\n.\n"), []byte("x\n"), 0)
	e.writeRaw("6AM876nc000066", []byte(strings.Replace(good, "H??Subject:", "H??Sub\x00ject:", 1)), []byte("x\n"), 0)
	e.writeRaw("6AM876nc000067", []byte(good), nil, 0)    // df missing but young: maybe still being written
	e.writeRaw("6AM876nc000068", nil, []byte("x\n"), old) // empty qf left behind
	e.writeRaw("6AM876nc000069", nil, []byte("x\n"), 0)   // empty qf, young: being created
	p := e.pipeline(e.options())
	st, _ := p.RunBatch(ctx)
	if st.Delivered != 1 {
		t.Errorf("RunBatch = %+v, want the good message delivered", st)
	}
	want := []string{"6AM876nc000061", "6AM876nc000062", "6AM876nc000063", "6AM876nc000064", "6AM876nc000065", "6AM876nc000066", "6AM876nc000068"}
	if got := quarantineEntries(t, e.quar); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("set aside = %v, want %v", got, want)
	}
	if got := names(t, e.in); strings.Join(got, " ") != "df6AM876nc000069 qf6AM876nc000067 qf6AM876nc000069" {
		t.Errorf("incoming = %v, want only the young df-less and empty messages", got)
	}
	if got := names(t, e.out); len(got) != 2 {
		t.Errorf("outgoing = %v", got)
	}
}
