package watch

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

func quietLog() *logrus.Logger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}

func drain(w *Watcher) {
	for {
		select {
		case <-w.C():
		default:
			return
		}
	}
}

func waitSignal(t *testing.T, w *Watcher, d time.Duration) bool {
	t.Helper()
	select {
	case <-w.C():
		return true
	case <-time.After(d):
		return false
	}
}

func TestRenameIntoPlaceSignals(t *testing.T) {
	dir := t.TempDir()
	w, err := New([]string{dir}, time.Hour, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	if !waitSignal(t, w, time.Second) {
		t.Fatal("no start-up signal")
	}
	// A df alone is not a new message.
	os.WriteFile(filepath.Join(dir, "dfA"), []byte("x"), 0o600)
	if waitSignal(t, w, 200*time.Millisecond) {
		t.Error("signal for a df file")
	}
	// sendmail writes tf then renames it to qf: that is the new message.
	os.WriteFile(filepath.Join(dir, "tfA"), []byte("x"), 0o600)
	drain(w)
	os.Rename(filepath.Join(dir, "tfA"), filepath.Join(dir, "qfA"))
	if !waitSignal(t, w, 2*time.Second) {
		t.Error("no signal for tf -> qf rename")
	}
}

func TestNestedLayoutAndRescan(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"qf", "df", "xf"} {
		os.Mkdir(filepath.Join(dir, d), 0o700)
	}
	w, err := New([]string{dir}, 100*time.Millisecond, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	waitSignal(t, w, time.Second)
	os.WriteFile(filepath.Join(dir, "qf", "qfB"), []byte("x"), 0o600)
	if !waitSignal(t, w, 2*time.Second) {
		t.Error("no signal for qf/qfB")
	}
	// With no events at all, the rescan interval still signals.
	drain(w)
	if !waitSignal(t, w, 2*time.Second) {
		t.Error("no rescan signal")
	}
}

func TestMissingDir(t *testing.T) {
	if _, err := New([]string{filepath.Join(t.TempDir(), "nope")}, time.Second, quietLog()); err == nil {
		t.Error("New on a missing dir: no error")
	}
}
