package rspamd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/qscan/qscan/pkg/spam"
)

// DefaultController is the base URL of rspamd's controller worker, which
// serves /learnspam and /learnham.
const DefaultController = "http://127.0.0.1:11334"

// statusAlreadyLearned is rspamd's answer to a message its classifier has
// learned as that class before ("... has been already learned as spam,
// ignore it").
const statusAlreadyLearned = 208

// LearnMessage teaches rspamd's classifier (Bayes) that the head of msg
// (as Check sends it) is spam or ham: POST /learnspam or /learnham to
// Options.Controller, as `rspamc learn_spam` does. learned is false when
// rspamd had learned it as that class before. Errors read "rspamd
// learnspam URL: cause".
func (c *Client) LearnMessage(ctx context.Context, isSpam bool, msg io.Reader) (learned bool, err error) {
	endpoint := c.controller + "/learnham"
	if isSpam {
		endpoint = c.controller + "/learnspam"
	}
	what := "rspamd " + endpoint[len(c.controller)+1:] + " " + endpoint
	body, _, err := spam.ReadHead(msg, c.opts.MaxSize)
	if err != nil {
		return false, fmt.Errorf("%s: read message: %w", what, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	if c.opts.Password != "" {
		hreq.Header.Set("Password", c.opts.Password)
	}
	resp, err := c.http.Do(hreq)
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, ctxErr(ctx, err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.opts.MaxResponse+1))
	if err != nil {
		return false, fmt.Errorf("%s: read answer: %w", what, ctxErr(ctx, err))
	}
	if int64(len(data)) > c.opts.MaxResponse {
		return false, fmt.Errorf("%s: %w: over %d bytes", what, ErrTooLarge, c.opts.MaxResponse)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case statusAlreadyLearned:
		return false, nil
	}
	return false, fmt.Errorf("%s: %w", what, statusError(resp.StatusCode, data))
}

// Learn is LearnMessage for the web desk's learn buttons: a message
// learned before is not an error.
func (c *Client) Learn(ctx context.Context, isSpam bool, msg io.Reader) error {
	_, err := c.LearnMessage(ctx, isSpam, msg)
	return err
}

// controllerURL checks the controller's base URL and the password.
func controllerURL(o Options) (string, error) {
	u, err := url.Parse(o.Controller)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("rspamd options: controller url %q is not an http(s) URL", o.Controller)
	}
	if !safeValue(o.Password) {
		return "", fmt.Errorf("rspamd options: the controller password has control characters")
	}
	return strings.TrimRight(o.Controller, "/"), nil
}
