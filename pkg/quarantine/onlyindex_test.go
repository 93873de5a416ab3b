package quarantine

import (
	"errors"
	"fmt"
	"testing"
)

func TestOnlyIndex(t *testing.T) {
	disk := errors.New("disk full")
	idx := fmt.Errorf("quarantine index remove x: %w: %w", ErrIndex, errors.New("database locked"))
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{ErrIndex, true},
		{idx, true},
		{errors.Join(idx, idx), true},
		{errors.Join(idx, disk), false},
		{disk, false},
		{fmt.Errorf("release: %w", disk), false},
	} {
		if got := OnlyIndex(tc.err); got != tc.want {
			t.Errorf("OnlyIndex(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
