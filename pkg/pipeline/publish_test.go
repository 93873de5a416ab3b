package pipeline

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/sendmail"
)

// TestReleaserSendmail: a quarantined qf released through the queue seam
// arrives in the outgoing queue as qf+df under a fresh ID (no tf left),
// with the new recipients only, the release header, and the body as it was.
func TestReleaserSendmail(t *testing.T) {
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	m := NewSendmail(sendmail.Limits{}, func() time.Time { return now })
	ctl, err := m.New([]string{"bob@example.test", "carol@example.test"}, []byte("From: a@sender.example\nSubject: held\n"), now, []byte("body\n"))
	if err != nil {
		t.Fatal(err)
	}
	raw := ctl.(sendmailControl).Bytes()
	out := t.TempDir()
	r := Releaser{MTA: m, Dir: out}
	id, to, err := r.Release(raw, []byte("body\n"), []string{"admin@example.test"}, "X-Org-QScan-Released", "now")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(to, []string{"admin@example.test"}) {
		t.Errorf("released to %v", to)
	}
	names, _ := os.ReadDir(out)
	var got []string
	for _, n := range names {
		got = append(got, n.Name())
	}
	if want := []string{"df" + id, "qf" + id}; !slices.Equal(got, want) {
		t.Fatalf("outgoing queue = %v, want %v", got, want)
	}
	qfb, _ := os.ReadFile(filepath.Join(out, "qf"+id))
	qf, err := sendmail.ParseQf(bytes.NewReader(qfb), sendmail.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := qf.Header("X-Org-QScan-Released"); !ok || v != "now" {
		t.Errorf("release header = %q, %v", v, ok)
	}
	if strings.Contains(string(qfb), "bob@example.test") {
		t.Errorf("old recipient kept:\n%s", qfb)
	}
	if df, _ := os.ReadFile(filepath.Join(out, "df"+id)); string(df) != "body\n" {
		t.Errorf("df = %q", df)
	}
	// A second release takes another ID, never the first one's files.
	id2, _, err := r.Release(raw, []byte("body\n"), nil, "X-Org-QScan-Released", "again")
	if err != nil || id2 == id {
		t.Fatalf("second release = %s, %v (first %s)", id2, err, id)
	}
}
