package virus_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/virus"
	"github.com/qscan/qscan/pkg/virus/builtin"
)

// TestSelfTest: an engine that finds EICAR and passes clean text passes;
// one without signatures is reported.
func TestSelfTest(t *testing.T) {
	e, err := builtin.New(builtin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	info, errs := virus.SelfTest(context.Background(), e)
	if len(errs) != 0 || len(info) != 2 || !strings.Contains(info[0], builtin.EICARName) {
		t.Errorf("SelfTest(builtin) = %q, %v; want EICAR found and clean text passed", info, errs)
	}
	_, errs = virus.SelfTest(context.Background(), blind{})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "not detected") {
		t.Errorf("SelfTest(an engine that finds nothing) errors = %v, want EICAR not detected", errs)
	}
}

type blind struct{}

func (blind) Scan(context.Context, io.Reader) (virus.Result, error) {
	return virus.Result{Engine: "blind"}, nil
}
