package explode

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/internal/golden"
	"github.com/qscan/qscan/pkg/message"
)

// dump renders a Result as stable text for golden files.
func dump(r *Result) string {
	var b strings.Builder
	for _, p := range r.Parts {
		fmt.Fprintf(&b, "part %d parent=%d path=%q mime=%s file=%q declared=%q detected=%q size=%d depth=%d",
			p.Index, p.Parent, p.Path, p.MIMEPath, p.Filename, p.DeclaredType, p.DetectedType, p.Size, p.Depth)
		if p.Archive {
			b.WriteString(" archive")
		}
		if p.Encrypted {
			b.WriteString(" encrypted")
		}
		b.WriteString("\n")
	}
	for _, rep := range r.Reports {
		fmt.Fprintf(&b, "report %s part=%d action=%q name=%s text=%q\n", rep.Kind, rep.Part, rep.Action, rep.Name, rep.Text)
	}
	return b.String()
}

// explodeFile explodes a fixture and fails the test on internal errors.
func explodeFile(t *testing.T, raw []byte, lim Limits) *Result {
	t.Helper()
	start := time.Now()
	res, err := Explode(raw, lim)
	if err != nil {
		t.Fatalf("Explode: %v", err)
	}
	t.Logf("explode %d bytes: %v, %d parts, %d reports", len(raw), time.Since(start), len(res.Parts), len(res.Reports))
	return res
}

func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.eml")
	if len(files) == 0 {
		t.Fatal("no testdata/*.eml")
	}
	for _, in := range files {
		t.Run(filepath.Base(in), func(t *testing.T) {
			raw, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got := dump(explodeFile(t, raw, DefaultLimits()))
			golden.Check(t, strings.TrimSuffix(in, ".eml")+".want", []byte(got))
		})
	}
}

// hasReport says whether res has a report whose text starts with prefix.
func hasReport(res *Result, prefix string) (message.Report, bool) {
	for _, r := range res.Reports {
		if strings.HasPrefix(r.Text, prefix) {
			return r, true
		}
	}
	return message.Report{}, false
}
