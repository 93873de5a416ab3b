// Package rspamd is a client for rspamd's HTTP scan protocol (POST
// /checkv2) and its controller's learning (POST /learnspam, /learnham).
package rspamd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/qscan/qscan/pkg/spam"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Defaults for Options fields left zero.
const (
	DefaultURL         = "http://127.0.0.1:11333"
	DefaultTimeout     = 30 * time.Second
	DefaultMaxSize     = 1 << 20
	DefaultMaxResponse = 1 << 20
)

// Options configures a Client; it mirrors the [spam.rspamd] config section.
type Options struct {
	// URL is the base URL of rspamd's normal worker (config "url");
	// default "http://127.0.0.1:11333".
	URL string
	// Timeout bounds one whole request (config "timeout"); default 30s.
	Timeout time.Duration
	// MaxSize is how many bytes of a message are sent; default 1 MiB. A
	// longer message is cut after the last line break before the limit, as
	// the spamd client does, rather than skipped.
	MaxSize int64
	// MaxResponse bounds the JSON answer; default 1 MiB.
	MaxResponse int64
	// Controller is the base URL of rspamd's controller worker, where
	// messages are learned (config "controller_url"); default
	// "http://127.0.0.1:11334".
	Controller string
	// Password is sent to the controller in the Password header (its
	// "password" or "enable_password"); empty sends none, which rspamd
	// accepts from its secure_ip addresses (loopback by default).
	Password string
	// HTTPClient is used when set (tests, custom transports); otherwise a
	// client with Timeout is used.
	HTTPClient *http.Client
}

// Request is what rspamd is told about the message besides its bytes.
// Empty fields are not sent.
type Request struct {
	IP      netip.Addr
	Helo    string
	From    string   // envelope sender, "" for the null sender
	Rcpt    []string // envelope recipients, one header each
	QueueID string
	User    string // authenticated user (SMTP AUTH)
}

// Client talks to one rspamd. It is safe for concurrent use.
type Client struct {
	opts       Options
	endpoint   string
	controller string // the controller's base URL, no trailing slash
	http       *http.Client
}

// New returns a client for the rspamd that opts describes, with defaults
// filled in.
func New(opts Options) (*Client, error) {
	if opts.URL == "" {
		opts.URL = DefaultURL
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxSize == 0 {
		opts.MaxSize = DefaultMaxSize
	}
	if opts.MaxResponse == 0 {
		opts.MaxResponse = DefaultMaxResponse
	}
	if opts.Controller == "" {
		opts.Controller = DefaultController
	}
	if opts.Timeout < 0 || opts.MaxSize < 0 || opts.MaxResponse < 0 {
		return nil, errors.New("rspamd options: negative timeout or size")
	}
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("rspamd options: url %q is not an http(s) URL", opts.URL)
	}
	controller, err := controllerURL(opts)
	if err != nil {
		return nil, err
	}
	c := &Client{opts: opts, endpoint: strings.TrimRight(opts.URL, "/") + "/checkv2", controller: controller, http: opts.HTTPClient}
	if c.http == nil {
		c.http = &http.Client{Timeout: opts.Timeout}
	}
	return c, nil
}

// Endpoint returns the URL the client posts to.
func (c *Client) Endpoint() string { return c.endpoint }

// Check posts the head of msg to rspamd and parses its verdict. Errors read
// "rspamd checkv2 URL: cause"; IsPermanent classifies them.
func (c *Client) Check(ctx context.Context, req Request, msg io.Reader) (*Result, error) {
	body, truncated, err := spam.ReadHead(msg, c.opts.MaxSize)
	if err != nil {
		return nil, fmt.Errorf("rspamd checkv2 %s: read message: %w", c.endpoint, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("rspamd checkv2 %s: %w", c.endpoint, err)
	}
	setHeaders(hreq.Header, req)
	resp, err := c.http.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("rspamd checkv2 %s: %w", c.endpoint, ctxErr(ctx, err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.opts.MaxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("rspamd checkv2 %s: read answer: %w", c.endpoint, ctxErr(ctx, err))
	}
	if int64(len(data)) > c.opts.MaxResponse {
		return nil, fmt.Errorf("rspamd checkv2 %s: %w: over %d bytes", c.endpoint, ErrTooLarge, c.opts.MaxResponse)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("rspamd checkv2 %s: %w", c.endpoint, statusError(resp.StatusCode, data))
	}
	res, err := ParseResult(data)
	if err != nil {
		return nil, fmt.Errorf("rspamd checkv2 %s: %w", c.endpoint, err)
	}
	res.Truncated, res.Sent = truncated, len(body)
	return res, nil
}

// setHeaders sets rspamd's per-message headers. A value that could not be
// sent as an HTTP header (control characters, from a hostile HELO or
// address) is left out rather than failing the check.
func setHeaders(h http.Header, req Request) {
	set := func(name, v string) {
		if v != "" && safeValue(v) {
			h.Add(name, v)
		}
	}
	if req.IP.IsValid() {
		set("IP", req.IP.Unmap().String())
	}
	set("Helo", req.Helo)
	set("From", req.From)
	for _, r := range req.Rcpt {
		set("Rcpt", r)
	}
	set("Queue-Id", req.QueueID)
	set("User", req.User)
}

// safeValue reports whether v is at most 998 bytes of printable ASCII or
// UTF-8 without control characters.
func safeValue(v string) bool {
	return len(v) <= 998 && !strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// ctxErr puts the context's error in front when the context ended, and
// context.DeadlineExceeded in front of a network timeout (the HTTP
// client's own timeout can fire a moment before the context's), so that
// errors.Is(err, context.DeadlineExceeded) holds for every timeout.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		if errors.Is(err, cerr) {
			return err
		}
		return fmt.Errorf("%w: %w", cerr, err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	return err
}
