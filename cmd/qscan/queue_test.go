package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/store"
)

// TestQueueAttempts: `qscan queue attempts` lists the counts the store
// keeps, --min filters them; before any store exists it says so.
func TestQueueAttempts(t *testing.T) {
	root, cfg := demo(t, "")
	if out, code := qscan(t, "queue", "attempts", "-c", cfg); code != 0 || !strings.Contains(out, "no processing attempts") {
		t.Errorf("without a store: %d %q", code, out)
	}
	st, err := store.Open(filepath.Join(root, "work", "qscan.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	ctx := context.Background()
	st.BumpAttempts(ctx, []string{"6AM876nc000001", "6AM876nc000002"}, now)
	st.BumpAttempts(ctx, []string{"6AM876nc000002"}, now.Add(time.Minute))
	st.Close()
	out, code := qscan(t, "queue", "attempts", "-c", cfg)
	if code != 0 || !strings.Contains(out, "6AM876nc000001") || !strings.Contains(out, "6AM876nc000002  2") {
		t.Errorf("queue attempts = %d:\n%s", code, out)
	}
	out, _ = qscan(t, "queue", "attempts", "-c", cfg, "--min", "2", "--json")
	if strings.Contains(out, "6AM876nc000001") || !strings.Contains(out, `"Count":2`) {
		t.Errorf("queue attempts --min 2 --json = %s", out)
	}
	if _, code := qscan(t, "queue", "bogus"); code != exitUsage {
		t.Errorf("queue bogus exit = %d, want %d", code, exitUsage)
	}
}
