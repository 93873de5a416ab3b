package clamd

import (
	"context"

	"github.com/qscan/qscan/pkg/virus"
)

// SelfTest asks clamd for PING and VERSION and scans EICAR and a few
// clean bytes through INSTREAM, as the daemon will (virus.SelfTest); it
// closes the client.
func (c *Client) SelfTest(ctx context.Context) (info []string, errs []error) {
	defer c.Close()
	if err := c.Ping(ctx); err != nil {
		return nil, []error{err} // nothing else can work
	}
	if v, err := c.Version(ctx); err != nil {
		errs = append(errs, err)
	} else {
		info = append(info, v)
	}
	i, e := virus.SelfTest(ctx, c)
	return append(info, i...), append(errs, e...)
}
