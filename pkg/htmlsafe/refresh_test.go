package htmlsafe

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Refresh reads the lists again when a file changed, not before the
// refresh interval has passed since it last looked, and keeps the lists
// when a file cannot be read.
func TestSitesRefresh(t *testing.T) {
	dir := t.TempDir()
	safe, bad := filepath.Join(dir, "safe.conf"), filepath.Join(dir, "bad.conf")
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	write := func(p, s string, mod time.Time) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	write(safe, "*.safe.example\n", t0)
	write(bad, "bad.example\n", t0)
	s, err := LoadSites([]string{safe}, []string{bad})
	if err != nil {
		t.Fatal(err)
	}
	s.SetRefresh(time.Minute)
	refresh := func(now time.Time, want bool) {
		t.Helper()
		got, err := s.Refresh(now)
		if err != nil || got != want {
			t.Fatalf("Refresh(%v) = %v, %v; want %v", now.Sub(t0), got, err, want)
		}
	}
	refresh(t0, false) // looked at, unchanged
	if !s.Bad("bad.example") || s.Bad("worse.example") {
		t.Fatal("initial lists wrong")
	}
	write(bad, "bad.example\nworse.example\n", t0.Add(time.Second))
	refresh(t0.Add(59*time.Second), false) // inside the interval: not looked at
	if s.Bad("worse.example") {
		t.Error("reloaded before the interval passed")
	}
	refresh(t0.Add(60*time.Second), true)
	if !s.Bad("worse.example") || !s.Safe("www.safe.example") {
		t.Error("changed list not read again")
	}
	refresh(t0.Add(121*time.Second), false) // unchanged since
	// Same size, new modification time: read again.
	write(safe, "*.safe.exampl2\n", t0.Add(2*time.Second))
	refresh(t0.Add(190*time.Second), true)
	if s.Safe("www.safe.example") || !s.Safe("a.safe.exampl2") {
		t.Error("same-size change not read")
	}
	// A file that cannot be read: the lists stay, the error is returned,
	// and the next look reads again.
	if err := os.Remove(bad); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Refresh(t0.Add(260 * time.Second)); got || err == nil {
		t.Fatalf("Refresh with a missing file = %v, %v; want an error", got, err)
	}
	if !s.Bad("worse.example") {
		t.Error("lists lost on a failed reload")
	}
	write(bad, "other.example\n", t0.Add(3*time.Second))
	refresh(t0.Add(330*time.Second), true)
	if !s.Bad("other.example") || s.Bad("worse.example") {
		t.Error("list not read after the file came back")
	}
	// A clock that went back looks again.
	write(bad, "back.example\n", t0.Add(4*time.Second))
	refresh(t0, true)
	// Off: never looks.
	s.SetRefresh(-1)
	write(bad, "off.example\n", t0.Add(5*time.Second))
	refresh(t0.Add(time.Hour), false)
	if s.Bad("off.example") {
		t.Error("Refresh read the files while off")
	}
	// Lists made in memory have no files to look at.
	if got, err := NewSites([]string{"a"}, nil).Refresh(t0); got || err != nil {
		t.Errorf("NewSites Refresh = %v, %v", got, err)
	}
	var none *Sites
	if got, err := none.Refresh(t0); got || err != nil {
		t.Errorf("nil Refresh = %v, %v", got, err)
	}
}
