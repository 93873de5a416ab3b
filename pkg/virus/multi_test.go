package virus

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// fakeEngine is a Scanner for tests: it reads up to stop bytes (all when 0)
// and reports each word of want found in what it read.
type fakeEngine struct {
	name string
	want []string
	stop int64
	fail error
}

func (f fakeEngine) Scan(ctx context.Context, r io.Reader) (Result, error) {
	if f.stop > 0 {
		r = io.LimitReader(r, f.stop)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return Result{}, Errorf(f.name, "read: %w", err)
	}
	if f.fail != nil {
		return Result{}, f.fail
	}
	res := Result{Engine: f.name, LimitExceeded: f.stop > 0}
	for _, w := range f.want {
		if bytes.Contains(b, []byte(w)) {
			res.Findings = append(res.Findings, NewFinding(f.name, w))
		}
	}
	return res, nil
}

func TestMulti(t *testing.T) {
	big := strings.Repeat("x", 1<<20) + "EVIL" + strings.Repeat("y", 100<<10)
	down := Errorf("b", "dial: %w", errors.New("connection refused"))
	tests := []struct {
		name    string
		engines []Scanner
		input   string
		names   []string
		engine  string
		limit   bool
		err     error
	}{
		{"clean", []Scanner{fakeEngine{name: "a", want: []string{"EVIL"}}, fakeEngine{name: "b", want: []string{"BAD"}}},
			"hello", nil, "a+b", false, nil},
		{"one finds", []Scanner{fakeEngine{name: "a", want: []string{"EVIL"}}, fakeEngine{name: "b", want: []string{"BAD"}}},
			big, []string{"EVIL"}, "a+b", false, nil},
		{"both find", []Scanner{fakeEngine{name: "a", want: []string{"EVIL"}}, fakeEngine{name: "b", want: []string{"BAD", "EVIL"}}},
			"BAD EVIL", []string{"EVIL", "BAD"}, "a+b", false, nil},
		// b stops after 1 KiB: a must still get the whole stream.
		{"early stop", []Scanner{fakeEngine{name: "a", want: []string{"EVIL"}}, fakeEngine{name: "b", stop: 1024}},
			big, []string{"EVIL"}, "a+b", true, nil},
		// a found a virus, but b failed: still an error (nothing unscanned).
		{"failure wins", []Scanner{fakeEngine{name: "a", want: []string{"EVIL"}}, fakeEngine{name: "b", fail: down}},
			big, []string{"EVIL"}, "a", false, ErrUnavailable},
		{"single", []Scanner{fakeEngine{name: "a", want: []string{"EVIL"}}}, "EVIL", []string{"EVIL"}, "a", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := NewMulti(tt.engines...).Scan(context.Background(), strings.NewReader(tt.input))
			if !errors.Is(err, tt.err) || (err != nil) != (tt.err != nil) {
				t.Fatalf("Scan() error = %v, want %v", err, tt.err)
			}
			if got := res.Names(); !slices.Equal(got, tt.names) {
				t.Errorf("Scan() names = %q, want %q", got, tt.names)
			}
			if res.Engine != tt.engine || res.LimitExceeded != tt.limit {
				t.Errorf("Scan() = %+v, want engine %q, limit %v", res, tt.engine, tt.limit)
			}
		})
	}
}

func TestMultiReadError(t *testing.T) {
	m := NewMulti(fakeEngine{name: "a"}, fakeEngine{name: "b"})
	r := io.MultiReader(strings.NewReader("start"), iotest.ErrReader(errors.New("disk on fire")))
	_, err := m.Scan(context.Background(), r)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("Scan(failing reader) error = %v, want ErrUnavailable mentioning the cause", err)
	}
}
