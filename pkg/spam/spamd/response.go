package spamd

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Bounds on what is read from spamd before the body; a response that breaks
// them is malformed, not something to buffer.
const (
	maxLineLen   = 8 << 10
	maxHeaderNum = 32
)

// Rule is one SpamAssassin rule that hit. Score is zero when the command did
// not report scores (SYMBOLS, CHECK).
type Rule struct {
	Name        string
	Score       float64
	Description string
}

// Result is spamd's verdict on one message.
type Result struct {
	Score     float64
	Required  float64
	IsSpam    bool
	Rules     []Rule // SYMBOLS: names only; REPORT: names with scores
	Report    string // REPORT body, as sent by spamd
	Truncated bool   // only the first Options.MaxSize bytes were sent
	Sent      int    // bytes of message sent
}

// RuleNames returns the names of the rules that hit, in spamd's order.
func (r *Result) RuleNames() []string {
	names := make([]string, len(r.Rules))
	for i, rule := range r.Rules {
		names[i] = rule.Name
	}
	return names
}

// ParseResponse reads one spamd response to cmd from r, reading at most
// maxBody bytes of body. It is exported for fuzzing and for tests of
// other packages; Client uses it.
func ParseResponse(r *bufio.Reader, cmd Command, maxBody int64) (*Result, error) {
	if err := readStatus(r); err != nil {
		return nil, err
	}
	hdr, err := readHeaders(r)
	if err != nil {
		return nil, err
	}
	spam, ok := hdr["spam"]
	if !ok {
		return nil, fmt.Errorf("%w: no Spam header", ErrMalformed)
	}
	res := &Result{}
	if res.IsSpam, res.Score, res.Required, err = parseSpamHeader(spam); err != nil {
		return nil, err
	}
	if cmd == Check {
		return res, nil
	}
	body, err := readBody(r, hdr, maxBody)
	if err != nil {
		return nil, err
	}
	switch cmd {
	case Symbols:
		res.Rules = parseSymbols(body)
	case Report:
		res.Report = string(body)
		res.Rules = ParseReport(res.Report)
	}
	return res, nil
}

// readStatus reads "SPAMD/1.1 0 EX_OK" and turns a non-zero code into an
// *ExitError.
func readStatus(r *bufio.Reader) error {
	line, err := readLine(r)
	if err != nil {
		return err
	}
	proto, rest, _ := strings.Cut(line, " ")
	if !strings.HasPrefix(proto, "SPAMD/") {
		return fmt.Errorf("%w: status line %.40q", ErrMalformed, line)
	}
	codeStr, msg, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
	code, err := strconv.Atoi(codeStr)
	if err != nil || code < 0 || code > 255 {
		return fmt.Errorf("%w: status line %.40q", ErrMalformed, line)
	}
	if code != 0 {
		return &ExitError{Code: code, Message: strings.TrimSpace(msg)}
	}
	return nil
}

// readHeaders reads "Name: value" lines up to the blank line; names are
// folded to lower case.
func readHeaders(r *bufio.Reader) (map[string]string, error) {
	hdr := make(map[string]string)
	for range maxHeaderNum {
		line, err := readLine(r)
		if err != nil {
			return nil, err
		}
		if line == "" {
			return hdr, nil
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%w: header line %.40q", ErrMalformed, line)
		}
		hdr[strings.ToLower(strings.TrimSpace(name))] = strings.TrimSpace(value)
	}
	return nil, fmt.Errorf("%w: more than %d header lines", ErrMalformed, maxHeaderNum)
}

// readLine reads one CRLF (or LF) terminated line of at most maxLineLen bytes.
func readLine(r *bufio.Reader) (string, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxLineLen {
			return "", fmt.Errorf("%w: line longer than %d bytes", ErrMalformed, maxLineLen)
		}
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("%w: connection closed mid-response", ErrMalformed)
		}
		return "", err
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

// parseSpamHeader parses "True ; 7.3 / 5.0".
func parseSpamHeader(v string) (spam bool, score, required float64, err error) {
	flag, nums, ok := strings.Cut(v, ";")
	if !ok {
		return false, 0, 0, fmt.Errorf("%w: Spam header %.40q", ErrMalformed, v)
	}
	switch strings.ToLower(strings.TrimSpace(flag)) {
	case "true", "yes":
		spam = true
	case "false", "no":
	default:
		return false, 0, 0, fmt.Errorf("%w: Spam header %.40q", ErrMalformed, v)
	}
	s, req, ok := strings.Cut(nums, "/")
	if !ok {
		return false, 0, 0, fmt.Errorf("%w: Spam header %.40q", ErrMalformed, v)
	}
	if score, err = parseScore(s); err == nil {
		required, err = parseScore(req)
	}
	if err != nil {
		return false, 0, 0, fmt.Errorf("%w: Spam header %.40q", ErrMalformed, v)
	}
	return spam, score, required, nil
}

// parseScore accepts finite decimal numbers only ("NaN" and "Inf" are not
// scores).
func parseScore(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, errors.New("bad score")
	}
	return f, nil
}

// readBody reads the body announced by Content-length, or up to EOF when
// there is none, refusing more than maxBody bytes.
func readBody(r *bufio.Reader, hdr map[string]string, maxBody int64) ([]byte, error) {
	cl, ok := hdr["content-length"]
	if !ok {
		body, err := io.ReadAll(io.LimitReader(r, maxBody+1))
		if err != nil {
			return nil, err
		}
		if int64(len(body)) > maxBody {
			return nil, fmt.Errorf("%w: body over %d bytes", ErrTooLarge, maxBody)
		}
		return body, nil
	}
	n, err := strconv.ParseInt(cl, 10, 64)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("%w: Content-length %.40q", ErrMalformed, cl)
	}
	if n > maxBody {
		return nil, fmt.Errorf("%w: Content-length %d over %d", ErrTooLarge, n, maxBody)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: body shorter than Content-length %d", ErrMalformed, n)
		}
		return nil, err
	}
	return body, nil
}

// parseSymbols splits "RULE_A,RULE_B\r\n" into rules without scores.
func parseSymbols(body []byte) []Rule {
	var rules []Rule
	for _, f := range bytes.Split(bytes.TrimSpace(body), []byte(",")) {
		name := string(bytes.TrimSpace(f))
		if validRuleName(name) {
			rules = append(rules, Rule{Name: name})
		}
	}
	return rules
}

// validRuleName reports whether s looks like a SpamAssassin rule name
// ([A-Za-z0-9_], at most 128 bytes), so garbage never reaches headers.
func validRuleName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// ParseReport extracts the rule table from a SpamAssassin report: the
// lines after the "---- ----" ruler that read " 1.2 RULE_NAME  description".
// Indented lines without a score continue the previous description.
func ParseReport(report string) []Rule {
	var rules []Rule
	inTable := false
	for line := range strings.Lines(report) {
		line = strings.TrimRight(line, "\r\n")
		if !inTable {
			inTable = strings.HasPrefix(line, "----")
			continue
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		score, err := parseScore(fields[0])
		if err != nil || len(fields) < 2 || !validRuleName(fields[1]) {
			if len(rules) > 0 && (line[0] == ' ' || line[0] == '\t') {
				appendDesc(&rules[len(rules)-1], strings.Join(fields, " "))
			}
			continue
		}
		rules = append(rules, Rule{Name: fields[1], Score: score, Description: strings.Join(fields[2:], " ")})
	}
	return rules
}

func appendDesc(r *Rule, more string) {
	if r.Description == "" {
		r.Description = more
		return
	}
	r.Description += " " + more
}
