package archive

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/message"
)

func TestStageWritesCopy(t *testing.T) {
	dir := t.TempDir()
	s := &Stage{Dirs: func(*message.Message) []string { return []string{dir} }}
	m := &message.Message{ID: "6AM876nc000001/../x", Header: []byte("From: a@b\nSubject: hi\n"), Body: []byte("body\n"),
		Received: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	for i := 0; i < 2; i++ { // a retry writes it again
		if err := s.Check(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(filepath.Join(dir, "20261122", "6AM876nc000001____x.eml"))
	if err != nil || string(got) != "From: a@b\nSubject: hi\n\nbody\n" {
		t.Errorf("archived copy = %q, %v", got, err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "20261122"))
	if len(entries) != 1 {
		t.Errorf("archive day holds %d files, want 1", len(entries))
	}
}

func TestStageErrorHolds(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o600)
	s := &Stage{Dirs: func(*message.Message) []string { return []string{file} }}
	if err := s.Check(context.Background(), &message.Message{ID: "X", Received: time.Unix(0, 0)}); err == nil {
		t.Error("an archive directory that is a file gave no error")
	}
}

func TestSplit(t *testing.T) {
	dirs, addrs, bad := Split("/var/archive archive@example.com relative /a/../b")
	if !reflect.DeepEqual(dirs, []string{"/var/archive", "/b"}) || !reflect.DeepEqual(addrs, []string{"archive@example.com"}) ||
		!reflect.DeepEqual(bad, []string{"relative"}) {
		t.Errorf("Split = %q %q %q", dirs, addrs, bad)
	}
}
