package smtpfilter

import (
	"net"
	"net/netip"
	"time"
)

// listener admits the configured clients, up to MaxConnections at once,
// and wraps each connection (see conn). The others get a one-line refusal
// and are closed without reaching go-smtp.
type listener struct {
	net.Listener
	s *Server
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if ip, ok := l.s.allowed(nc.RemoteAddr()); !ok {
			l.s.o.Log.WithField("client", ip).Warn("smtp filter: connection refused: client not in smtp.clients")
			go refuse(nc, "554 5.7.1 Access denied: not a configured client of this filter\r\n")
			continue
		}
		select {
		case l.s.slots <- struct{}{}:
		default:
			l.s.o.Log.WithField("client", nc.RemoteAddr().String()).Warnf("smtp filter: connection refused: %d connections open (smtp.max_connections)", cap(l.s.slots))
			go refuse(nc, "421 4.7.0 Too many connections, try again later\r\n")
			continue
		}
		return &conn{
			Conn:        nc,
			st:          &connState{},
			cmdTimeout:  l.s.o.CommandTimeout,
			dataTimeout: l.s.o.DataTimeout,
			release:     func() { <-l.s.slots },
		}, nil
	}
}

// refuse writes reply (bounded in time) and closes nc.
func refuse(nc net.Conn, reply string) {
	nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	nc.Write([]byte(reply))
	nc.Close()
}

// allowed reports whether a connection from addr may go on: over TCP its
// IP must be in Clients; unix sockets always (file permissions decide).
func (s *Server) allowed(addr net.Addr) (string, bool) {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String(), addr.Network() == "unix"
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return ta.String(), false
	}
	ip = ip.Unmap()
	for _, p := range s.o.Clients {
		if p.Contains(ip) {
			return ip.String(), true
		}
	}
	return ip.String(), false
}
