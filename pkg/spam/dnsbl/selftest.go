package dnsbl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
)

// TestZone looks up the test entry of a list (RFC 5782: 127.0.0.2 for IP
// lists; "test" for domain lists) with lookup (net.DefaultResolver's
// LookupHost). An answer, listed or not, shows the zone resolves; a
// time-out or a server failure is a problem.
func TestZone(ctx context.Context, zone string, kind Kind, lookup func(ctx context.Context, host string) ([]string, error)) (info []string, errs []error) {
	name := "2.0.0.127." + strings.TrimSuffix(zone, ".")
	if kind == KindDomain {
		name = "test." + strings.TrimSuffix(zone, ".")
	}
	addrs, err := lookup(ctx, name)
	var de *net.DNSError
	switch {
	case err == nil:
		return []string{fmt.Sprintf("test entry %s listed (%s)", name, strings.Join(addrs, ","))}, nil
	case errors.As(err, &de) && de.IsNotFound:
		return []string{fmt.Sprintf("zone answers (test entry %s not listed)", name)}, nil
	default:
		return nil, []error{fmt.Errorf("lookup %s: %w", name, err)}
	}
}
