package stackutil

import (
	"fmt"
	"net"
	"net/smtp"
	"time"
)

// SubmitAll sends each of msgs by SMTP to addr as Submit does, but as
// several mail transactions over one connection (a new one after a
// transaction fails, and after perConnection messages: Exim takes at most
// 1000 by default): a batch then costs the server one connection, and
// sendmail one fork, instead of one per message. It returns one error per
// message, nil where the server took it.
func SubmitAll(addr, from string, to []string, msgs [][]byte) []error {
	errs := make([]error, len(msgs))
	var conn net.Conn
	var c *smtp.Client
	for i, msg := range msgs {
		if c != nil && i%perConnection == 0 {
			c.Quit()
			c.Close()
			c = nil
		}
		if c == nil {
			var err error
			if conn, c, err = dialSMTP(addr); err != nil {
				errs[i] = fmt.Errorf("stackutil submit %s: %w", addr, err)
				continue
			}
		}
		// A hung server must fail the test, not hang it.
		conn.SetDeadline(time.Now().Add(2 * time.Minute))
		if err := transaction(c, from, to, msg); err != nil {
			errs[i] = fmt.Errorf("stackutil submit %s: %w", addr, err)
			c.Close()
			c = nil
		}
	}
	if c != nil {
		c.Quit()
		c.Close()
	}
	return errs
}

// perConnection is how many messages SubmitAll sends over one connection.
const perConnection = 500

// dialSMTP connects to addr and greets it.
func dialSMTP(addr string) (net.Conn, *smtp.Client, error) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, nil, err
	}
	conn.SetDeadline(time.Now().Add(2 * time.Minute))
	host, _, _ := net.SplitHostPort(addr)
	c, err := smtp.NewClient(conn, host)
	if err == nil {
		err = c.Hello("stackutil.example.test")
	}
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, c, nil
}

// transaction sends one message: MAIL, RCPT per recipient, DATA.
func transaction(c *smtp.Client, from string, to []string, msg []byte) error {
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	return w.Close()
}
