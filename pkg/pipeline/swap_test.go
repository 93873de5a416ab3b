package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/qscan/qscan/pkg/message"
)

// TestDfSwapAfterRead: whoever can write the incoming queue swaps df<ID>
// while the message is checked. What goes out must be the file that was
// read and checked, or nothing (invariant 7).
func TestDfSwapAfterRead(t *testing.T) {
	const body = "the checked body\n"
	const evil = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*\n"
	secret := filepath.Join(t.TempDir(), "shadow")
	if err := os.WriteFile(secret, []byte("root:secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		swap      func(t *testing.T, df string)
		delivered bool // false: held, the df is checked again later
	}{
		{"renamed over", func(t *testing.T, df string) {
			tmp := df + ".new"
			if err := os.WriteFile(tmp, []byte(evil), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, df); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"symlink", func(t *testing.T, df string) {
			if err := os.Remove(df); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(secret, df); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"written in place", func(t *testing.T, df string) {
			f, err := os.OpenFile(df, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(evil)
			f.Close()
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			id := "6AM876nc005800"
			e.enqueue(id, body, 0)
			df := filepath.Join(e.in, "df"+id)
			swapper := stageFunc{"swap", func(ctx context.Context, m *message.Message) error {
				tt.swap(t, df)
				return nil
			}}
			p := e.pipeline(e.options(), swapper)
			st, err := p.RunBatch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(e.out, "df"+id)
			got, rerr := os.ReadFile(out)
			if !tt.delivered {
				if st.Held != 1 || rerr == nil {
					t.Fatalf("RunBatch = %+v, outgoing df %q: want the message held, nothing out", st, got)
				}
				return
			}
			if rerr != nil || string(got) != body {
				t.Fatalf("outgoing df = %q (%v), want the checked body %q", got, rerr, body)
			}
			if fi, err := os.Lstat(out); err != nil || !fi.Mode().IsRegular() {
				t.Errorf("outgoing df is not a regular file: %v %v", fi, err)
			}
		})
	}
}
