package rspamd

import (
	"context"
	"fmt"
	"strings"

	"github.com/qscan/qscan/pkg/spam"
)

// SelfTest has rspamd check GTUBE, which it rejects out of the box.
func (c *Client) SelfTest(ctx context.Context) (info []string, errs []error) {
	r, err := c.Check(ctx, Request{QueueID: "qscan-lint"}, strings.NewReader(spam.TestMessage(spam.GTUBE)))
	if err != nil {
		return nil, []error{fmt.Errorf("check of GTUBE: %w", err)}
	}
	if !r.IsSpam {
		return nil, []error{fmt.Errorf("check of GTUBE: not spam (action %q, score %.1f)", r.Action, r.Score)}
	}
	return []string{fmt.Sprintf("GTUBE: %s, score %.1f", r.Action, r.Score)}, nil
}
