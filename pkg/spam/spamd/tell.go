package spamd

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/qscan/qscan/pkg/spam"
)

// Tell is the SPAMC request that teaches spamd's learner (Bayes) a
// message's class, as `spamc -L spam|ham` does. spamd answers it only when
// started with --allow-tell; otherwise it answers EX_UNAVAILABLE.
const Tell Command = "TELL"

// Tell teaches spamd's local database (Set: local) that msg is spam or
// ham. It sends the head of msg as Do does. learned is false when spamd
// answered without "DidSet: local": it had learned the message as that
// class before, or its learner is off (use_bayes 0). Errors read
// "spamd TELL ADDR: cause"; a spamd without --allow-tell gives an
// *ExitError with EX_UNAVAILABLE.
func (c *Client) Tell(ctx context.Context, isSpam bool, msg io.Reader) (learned bool, err error) {
	body, _, err := spam.ReadHead(msg, c.opts.MaxSize)
	if err != nil {
		return false, fmt.Errorf("spamd TELL %s: read message: %w", c.addr, err)
	}
	class := "ham"
	if isSpam {
		class = "spam"
	}
	var req bytes.Buffer
	req.Grow(len(body) + 128)
	fmt.Fprintf(&req, "TELL SPAMC/1.5\r\nMessage-class: %s\r\nSet: local\r\nContent-length: %d\r\n", class, len(body))
	if c.opts.User != "" {
		fmt.Fprintf(&req, "User: %s\r\n", c.opts.User)
	}
	req.WriteString("\r\n")
	req.Write(body)
	err = c.exchange(ctx, req.Bytes(), func(r *bufio.Reader) error {
		var err error
		learned, err = ParseTell(r)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("spamd TELL %s: %w", c.addr, err)
	}
	return learned, nil
}

// Learn is Tell for the web desk's learn buttons: a message learned before
// is not an error.
func (c *Client) Learn(ctx context.Context, isSpam bool, msg io.Reader) error {
	_, err := c.Tell(ctx, isSpam, msg)
	return err
}

// ParseTell reads spamd's answer to TELL ("SPAMD/1.1 0 EX_OK", headers,
// a blank line) and reports whether its DidSet header names "local". It is
// exported for fuzzing.
func ParseTell(r *bufio.Reader) (learned bool, err error) {
	if err := readStatus(r); err != nil {
		return false, err
	}
	hdr, err := readHeaders(r)
	if err != nil {
		return false, err
	}
	for _, set := range strings.Split(hdr["didset"], ",") {
		if strings.EqualFold(strings.TrimSpace(set), "local") {
			return true, nil
		}
	}
	return false, nil
}
