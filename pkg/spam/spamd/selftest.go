package spamd

import (
	"context"
	"fmt"
	"strings"

	"github.com/qscan/qscan/pkg/spam"
)

// SelfTest pings spamd, then has it check GTUBE (spam, whatever the
// rules) and a short plain message (an answer is all it must give). It
// returns what it learnt and every problem found.
func (c *Client) SelfTest(ctx context.Context) (info []string, errs []error) {
	if err := c.Ping(ctx); err != nil {
		return nil, []error{err} // nothing else can work
	}
	if r, err := c.Check(ctx, strings.NewReader(spam.TestMessage(spam.GTUBE))); err != nil {
		errs = append(errs, fmt.Errorf("check of GTUBE: %w", err))
	} else if !r.IsSpam {
		errs = append(errs, fmt.Errorf("check of GTUBE: not spam (score %.1f)", r.Score))
	} else {
		info = append(info, fmt.Sprintf("GTUBE scored %.1f", r.Score))
	}
	if r, err := c.Check(ctx, strings.NewReader(spam.TestMessage("Hello, this is qscan lint."))); err != nil {
		errs = append(errs, fmt.Errorf("check of a plain message: %w", err))
	} else {
		info = append(info, fmt.Sprintf("a plain message scored %.1f", r.Score))
	}
	return info, errs
}
