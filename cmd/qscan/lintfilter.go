package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/health"
	"github.com/qscan/qscan/pkg/reinject"
	"github.com/qscan/qscan/pkg/smtpfilter"
)

// filterProblems checks the SMTP filter's addresses against each other:
// errors (a set-up that loops mail) and warnings.
func filterProblems(c *config.Config) (errs, warns []string) {
	if !c.SMTP.On() {
		return nil, nil
	}
	rnet, raddr, err := reinject.ParseAddr(c.SMTP.Reinject)
	if err != nil {
		return nil, nil // the configuration check says why
	}
	for _, l := range c.SMTP.Listen {
		a, err := smtpfilter.ParseListen(l)
		if err != nil {
			continue
		}
		if a.Network == rnet && sameAddr(a.Address, raddr) {
			errs = append(errs, fmt.Sprintf("smtp.reinject: %s is also in smtp.listen: qscan would re-inject mail into itself for ever", c.SMTP.Reinject))
		}
		if a.Network == "tcp" {
			host, _, _ := net.SplitHostPort(a.Address)
			if ip, err := netip.ParseAddr(host); host == "" || err == nil && !ip.IsLoopback() {
				warns = append(warns, fmt.Sprintf("smtp.listen: %s is reachable from other hosts: only smtp.clients may send (keep the filter on loopback unless the MTA is elsewhere)", l))
			}
		}
	}
	if rnet == "tcp" {
		if _, port, _ := net.SplitHostPort(raddr); port == "25" || port == "587" || port == "465" {
			warns = append(warns, fmt.Sprintf("smtp.reinject: %s is the MTA's public port: unless its smtpd there has content_filter empty, mail goes through qscan again (Postfix: the 10025 listener of scripts/postfix-filter)", c.SMTP.Reinject))
		}
	}
	return errs, warns
}

// sameAddr compares two TCP or unix addresses, "127.0.0.1:10025" and
// "localhost:10025" as different (no lookups).
func sameAddr(a, b string) bool {
	ah, ap, err1 := net.SplitHostPort(a)
	bh, bp, err2 := net.SplitHostPort(b)
	if err1 != nil || err2 != nil {
		return a == b
	}
	if ap != bp {
		return false
	}
	if ah == "" || bh == "" || ah == "0.0.0.0" || bh == "0.0.0.0" || ah == "::" || bh == "::" {
		return true // a wildcard listener takes the other too
	}
	x, e1 := netip.ParseAddr(ah)
	y, e2 := netip.ParseAddr(bh)
	if e1 != nil || e2 != nil {
		return ah == bh
	}
	return x.Unmap() == y.Unmap()
}

// reinjectProbe says whether the re-injection listener answers SMTP: its
// greeting and EHLO, then QUIT (no mail is sent).
func reinjectProbe(c *config.Config) health.Probe {
	addr := c.SMTP.Reinject
	return health.Probe{Name: "smtp reinject " + addr, Timeout: 10 * time.Second, Run: func(ctx context.Context) ([]string, []error) {
		network, a, err := reinject.ParseAddr(addr)
		if err != nil {
			return nil, []error{err}
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, network, a)
		if err != nil {
			return nil, []error{fmt.Errorf("%w: is the MTA's re-injection listener running?", err)}
		}
		defer conn.Close()
		if dl, ok := ctx.Deadline(); ok {
			conn.SetDeadline(dl)
		}
		r := bufio.NewReader(conn)
		greet, err := readReply(r)
		if err != nil || !strings.HasPrefix(greet, "220") {
			return nil, []error{fmt.Errorf("greeting %q: %v", greet, err)}
		}
		fmt.Fprintf(conn, "EHLO qscan-lint\r\n")
		ehlo, err := readReply(r)
		fmt.Fprintf(conn, "QUIT\r\n")
		if err != nil || !strings.HasPrefix(ehlo, "250") {
			return nil, []error{fmt.Errorf("EHLO answered %q: %v", ehlo, err)}
		}
		return []string{firstLine(greet)}, nil
	}}
}

// readReply reads one SMTP reply (all its lines), at most 100 lines.
func readReply(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for range 100 {
		line, err := r.ReadString('\n')
		b.WriteString(line)
		if err != nil {
			return b.String(), err
		}
		if len(line) < 4 || line[3] != '-' {
			return b.String(), nil
		}
	}
	return b.String(), fmt.Errorf("reply too long")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}
