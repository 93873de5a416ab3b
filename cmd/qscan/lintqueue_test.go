package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLintQueueLayout: any mix of flat and nested queues is fine, but queue
// files at the top of a queue with the sub-directory for them (what qscan
// used to write into a nested outgoing queue) are never read by sendmail,
// and lint says so.
func TestLintQueueLayout(t *testing.T) {
	tests := []struct {
		name       string
		in, out    []string // sub-directories
		strayOut   []string // files at the top of the outgoing queue
		strayIn    []string
		want       int
		wantOutput []string
	}{
		{name: "flat"},
		{name: "nested outgoing", out: []string{"qf", "df", "xf"}},
		{name: "nested incoming, flat outgoing", in: []string{"qf", "df", "xf"}},
		{name: "only df/ outgoing", out: []string{"df"}, strayOut: []string{"qf6AM876nc000001"}},
		{name: "flat files in a nested outgoing queue", out: []string{"qf", "df", "xf"}, strayOut: []string{"qf6AM876nc000001", "df6AM876nc000001", "tf6AM876nc000002"},
			want: exitConfig, wantOutput: []string{"queue.outgoing: 2 qf/tf files at the top of", "queue.outgoing: 1 df files at the top of", "never delivered"}},
		{name: "flat files in a nested incoming queue", in: []string{"qf", "df"}, strayIn: []string{"qf6AM876nc000001", "df6AM876nc000001"},
			want: exitConfig, wantOutput: []string{"queue.incoming: 1 qf/tf files", "queue.incoming: 1 df files"}},
		{name: "other files at the top", out: []string{"qf", "df"}, strayOut: []string{"README", "qf.not-an-id", "xf6AM876nc000001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, cfg := demo(t, "")
			for dir, subs := range map[string][]string{"in": tt.in, "out": tt.out} {
				for _, s := range subs {
					os.Mkdir(filepath.Join(root, dir, s), 0o700)
				}
			}
			for dir, files := range map[string][]string{"in": tt.strayIn, "out": tt.strayOut} {
				for _, f := range files {
					os.WriteFile(filepath.Join(root, dir, f), []byte("x"), 0o600)
				}
			}
			// The layout is what is tested here; the engines have their own tests.
			out, code := qscan(t, "lint", "--no-engines", "-c", cfg)
			if code != tt.want {
				t.Errorf("lint = %d, want %d:\n%s", code, tt.want, out)
			}
			for _, w := range tt.wantOutput {
				if !strings.Contains(out, w) {
					t.Errorf("lint output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
