package reinject

import (
	"fmt"
	"io"
	"strings"

	"github.com/emersion/go-smtp"

	"github.com/qscan/qscan/pkg/spool"
)

// transaction sends m on pc. early reports a network failure before the
// reply to MAIL (safe to try again on a new connection). pc goes back to
// the pool when the session is in a clean state, else it is closed.
func (c *Client) transaction(pc *pconn, m Message) (res *Result, early bool, err error) {
	clean := false
	defer func() {
		if clean {
			c.put(pc)
		} else {
			c.drop(pc)
		}
	}()
	env := m.Env
	if has, names := pc.c.Extension("XFORWARD"); has && !env.XForward.IsZero() {
		for _, l := range xforwardLines(env.XForward, names) {
			r, err := pc.w.command(l)
			if err != nil {
				return nil, true, &TempError{Stage: "XFORWARD", Err: err}
			}
			if r.Code/100 == 4 {
				clean = c.reset(pc)
				return nil, false, &TempError{Stage: "XFORWARD", Reply: r}
			}
			// A 5xx: the attributes are information only; go on without.
		}
	}
	pc.w.setBody(env.Body)
	size := m.Size
	if size <= 0 {
		size = env.Size
	}
	opts := &smtp.MailOptions{Size: size, UTF8: env.SMTPUTF8, Return: smtp.DSNReturn(env.Return), EnvelopeID: env.EnvID}
	if err := pc.c.Mail(env.Sender, opts); err != nil {
		if r, ok := replyOf(err); ok {
			clean = c.reset(pc)
			if r.Code/100 == 5 {
				return nil, false, &PermError{Stage: "MAIL", Reply: r, Rejected: all(env, nil, r), Err: err}
			}
			return nil, false, &TempError{Stage: "MAIL", Reply: r, Err: err}
		}
		if env.SMTPUTF8 && strings.Contains(err.Error(), "SMTPUTF8") {
			// go-smtp refused before sending anything.
			clean = true
			r := Reply{Code: 550, Enhanced: "5.6.7", Text: "SMTPUTF8 is required, but was not offered by the host " + c.addr}
			return nil, false, &PermError{Stage: "MAIL", Reply: r, Rejected: all(env, nil, r), Err: err}
		}
		return nil, true, &TempError{Stage: "MAIL", Err: err}
	}
	res = &Result{}
	var accepted []spool.Recipient
	for _, r := range env.Recipients {
		err := pc.c.Rcpt(r.Addr, rcptOptions(r))
		if err == nil {
			accepted = append(accepted, r)
			continue
		}
		rep, ok := replyOf(err)
		switch {
		case !ok:
			return nil, false, &TempError{Stage: "RCPT", Err: err}
		case rep.Code/100 == 5:
			res.Rejected = append(res.Rejected, RcptResult{r, rep})
		default:
			res.Deferred = append(res.Deferred, RcptResult{r, rep})
		}
	}
	if len(accepted) == 0 {
		clean = c.reset(pc)
		if len(res.Rejected) == 0 {
			return nil, false, &TempError{Stage: "RCPT", Reply: res.Deferred[0].Reply}
		}
		return res, false, nil
	}
	reply, afterDot, err := c.data(pc, m.Data)
	if err != nil {
		r, ok := replyOf(err)
		if !ok {
			return nil, false, &TempError{Stage: "DATA", Err: err}
		}
		// A reply to the final dot ends the transaction; a refused DATA
		// command leaves it open.
		clean = afterDot || c.reset(pc)
		if r.Code/100 == 5 {
			return nil, false, &PermError{Stage: "DATA", Reply: r, Rejected: all(env, res.Rejected, r), Err: err}
		}
		return nil, false, &TempError{Stage: "DATA", Reply: r, Err: err}
	}
	clean = true
	res.Data = reply
	for _, r := range accepted {
		res.Accepted = append(res.Accepted, RcptResult{r, reply})
	}
	return res, false, nil
}

// data sends DATA, the message and the final dot, and returns the reply;
// afterDot says whether the reply (or error) came after the final dot.
// An error that is not a server reply leaves the connection unusable (a
// message cut short must not be ended with a dot).
func (c *Client) data(pc *pconn, r io.Reader) (reply Reply, afterDot bool, err error) {
	w, err := pc.c.Data()
	if err != nil {
		return Reply{}, false, err
	}
	if _, err := io.Copy(w, r); err != nil {
		return Reply{}, false, fmt.Errorf("reading the message: %w", err)
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return Reply{}, true, err
	}
	return parseReply(250, resp.StatusText), true, nil
}

// reset sends RSET after a refused step; it reports whether the
// connection can be reused.
func (c *Client) reset(pc *pconn) bool {
	return pc.c.Reset() == nil
}

// all gives every recipient of env a result: the one in known, else r.
func all(env *spool.Envelope, known []RcptResult, r Reply) []RcptResult {
	out := make([]RcptResult, 0, len(env.Recipients))
	for _, rc := range env.Recipients {
		res := RcptResult{rc, r}
		for _, k := range known {
			if k.Recipient.Addr == rc.Addr {
				res = k
				break
			}
		}
		out = append(out, res)
	}
	return out
}

func rcptOptions(r spool.Recipient) *smtp.RcptOptions {
	o := &smtp.RcptOptions{}
	for _, n := range r.Notify {
		o.Notify = append(o.Notify, smtp.DSNNotify(n))
	}
	if r.ORcpt != "" {
		o.OriginalRecipientType, o.OriginalRecipient = smtp.DSNAddressType(r.ORcptType), r.ORcpt
		if o.OriginalRecipientType == smtp.DSNAddressTypeRFC822 && !printableASCII(r.ORcpt) {
			o.OriginalRecipientType = smtp.DSNAddressTypeUTF8
		}
	}
	return o
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
