package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func TestAttempts(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "q.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	for i := 1; i <= 3; i++ {
		got, err := s.BumpAttempts(ctx, []string{"A", "B"}, now)
		if err != nil {
			t.Fatal(err)
		}
		if got["A"] != i || got["B"] != i {
			t.Fatalf("BumpAttempts round %d = %v, want %d each", i, got, i)
		}
	}
	if err := s.UndoAttempt(ctx, "A"); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearAttempts(ctx, []string{"B"}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// The counts survive a reopen: they exist to count crashes.
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.Attempts(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].ID != "A" || rows[0].Count != 2 {
		t.Fatalf("Attempts after reopen = %+v, want A with 2", rows)
	}
}
