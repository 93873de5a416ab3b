package spool

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ParseEnvelope reads an envelope file strictly: the magic line first,
// known keys only, each single-valued key at most once, "end" last and
// nothing after it, every value valid, within lim.
func ParseEnvelope(r io.Reader, lim Limits) (*Envelope, error) {
	lim = lim.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read spool envelope: %w", err)
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: envelope over %d bytes", ErrLimit, lim.MaxBytes)
	}
	p := parser{lim: lim, seen: map[string]bool{}, e: &Envelope{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, min(512, lim.MaxLine+1)), lim.MaxLine+1)
	sc.Split(scanLF)
	for sc.Scan() {
		p.n++
		if len(sc.Bytes()) > lim.MaxLine {
			return nil, fmt.Errorf("%w: line %d longer than %d bytes", ErrLimit, p.n, lim.MaxLine)
		}
		if p.done {
			return nil, p.errorf("data after end")
		}
		if err := p.line(sc.Text()); err != nil {
			return nil, err
		}
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return nil, fmt.Errorf("%w: line %d longer than %d bytes", ErrLimit, p.n+1, lim.MaxLine)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: line %d: %v", ErrSyntax, p.n+1, err)
	}
	if !p.done {
		return nil, fmt.Errorf("%w: no end line (truncated)", ErrSyntax)
	}
	if err := p.e.check(); err != nil {
		return nil, err
	}
	// One spelling per envelope: what Bytes would write, byte for byte
	// (line order, UTC time, canonical xtext).
	if out, err := p.e.Bytes(); err != nil || !bytes.Equal(out, data) {
		return nil, fmt.Errorf("%w: not in canonical form (order of lines, time zone)", ErrSyntax)
	}
	return p.e, nil
}

// ReadHead reads the envelope at the start of a one-file entry from r. With
// ok it returns that envelope in the form ParseEnvelope reads (format 1:
// the first line Magic) and the offset where the message starts. Without
// ok, r does not start with a format-2 envelope ended within lim.MaxBytes:
// head is then what was read, up to an end line if there is one, as it
// is (a format-1 envelope, or bytes ParseEnvelope refuses).
func ReadHead(r io.ReaderAt, lim Limits) (head []byte, start int64, ok bool, err error) {
	lim = lim.withDefaults()
	var buf []byte
	for step := 2 << 10; ; step *= 2 {
		want := min(int64(step), lim.MaxBytes+1-int64(len(buf)))
		if want <= 0 {
			return buf, 0, false, nil
		}
		old := len(buf)
		buf = append(buf, make([]byte, want)...)
		n, rerr := r.ReadAt(buf[old:], int64(old))
		buf = buf[:old+n]
		from := max(old-len("\nend"), 0)
		if i := bytes.Index(buf[from:], []byte("\nend\n")); i >= 0 {
			end := from + i + len("\nend\n")
			if int64(end) > lim.MaxBytes {
				return buf, 0, false, nil
			}
			if !bytes.HasPrefix(buf, []byte(MagicEntry+"\n")) {
				return buf[:end:end], 0, false, nil
			}
			head = append([]byte(Magic), buf[len(MagicEntry):end]...)
			return head, int64(end), true, nil
		}
		if rerr == io.EOF {
			return buf, 0, false, nil
		}
		if rerr != nil {
			return nil, 0, false, fmt.Errorf("read spool entry: %w", rerr)
		}
	}
}

// scanLF splits at "\n" and insists every line has one.
func scanLF(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return 0, nil, errors.New("last line has no newline")
	}
	return 0, nil, nil
}

type parser struct {
	lim  Limits
	e    *Envelope
	n    int
	seen map[string]bool
	done bool
}

func (p *parser) errorf(format string, a ...any) error {
	return fmt.Errorf("%w: line %d: %s", ErrSyntax, p.n, fmt.Sprintf(format, a...))
}

func (p *parser) line(s string) error {
	if p.n == 1 {
		if s != Magic {
			return p.errorf("not a qscan spool envelope (want %q)", Magic)
		}
		return nil
	}
	key, val, hasVal := strings.Cut(s, " ")
	if hasVal && val == "" {
		return p.errorf("trailing space")
	}
	if key != "rcpt" && key != "xforward" {
		if p.seen[key] {
			return p.errorf("%s given twice", key)
		}
		p.seen[key] = true
	}
	needVal := key != "smtputf8" && key != "end" && key != "sender"
	if needVal && !hasVal || (key == "smtputf8" || key == "end") && hasVal {
		return p.errorf("%s: wrong number of values", key)
	}
	return p.field(key, val)
}

func (p *parser) field(key, val string) error {
	e := p.e
	var err error
	switch key {
	case "received":
		e.Received, err = time.Parse(time.RFC3339Nano, val)
	case "protocol":
		e.Protocol, err = p.enum(val, protocols)
	case "listener":
		e.Listener, err = p.xtext(val)
	case "client":
		e.Client, err = p.xtext(val)
	case "helo":
		e.Helo, err = p.xtext(val)
	case "sender":
		e.Sender, err = p.xtext(val)
	case "ret":
		e.Return, err = p.enum(val, returns)
	case "envid":
		e.EnvID, err = p.xtext(val)
	case "size":
		e.Size, err = strconv.ParseInt(val, 10, 64)
		if err == nil && (e.Size <= 0 || val[0] == '0' || val[0] == '+') {
			err = errors.New("not a positive number")
		}
	case "body":
		e.Body, err = p.enum(val, bodies)
	case "smtputf8":
		e.SMTPUTF8 = true
	case "xforward":
		err = p.xforward(val)
	case "rcpt":
		err = p.rcpt(val)
	case "end":
		p.done = true
	default:
		return p.errorf("unknown key %q", key)
	}
	if errors.Is(err, ErrLimit) {
		return fmt.Errorf("line %d: %s: %w", p.n, key, err)
	}
	if err != nil {
		return p.errorf("%s: %v", key, err)
	}
	return nil
}

func (p *parser) enum(v string, set []string) (string, error) {
	if !oneOf(v, set) {
		return "", fmt.Errorf("%q is not one of %s", v, strings.Join(set, ", "))
	}
	return v, nil
}

func (p *parser) xtext(v string) (string, error) {
	s, err := unxtext(v)
	if err != nil {
		return "", err
	}
	return s, checkValue(s)
}

func (p *parser) xforward(val string) error {
	name, v, ok := strings.Cut(val, "=")
	f := p.e.XForward.Field(name)
	if !ok || f == nil || v == "" {
		return fmt.Errorf("want NAME=value with a known name, got %q", val)
	}
	if p.seen["xforward "+name] {
		return fmt.Errorf("%s given twice", name)
	}
	p.seen["xforward "+name] = true
	var err error
	*f, err = p.xtext(v)
	return err
}

func (p *parser) rcpt(val string) error {
	if len(p.e.Recipients) >= p.lim.MaxRecipients {
		return fmt.Errorf("%w: more than %d recipients", ErrLimit, p.lim.MaxRecipients)
	}
	fields := strings.Split(val, " ")
	addr, err := p.xtext(fields[0])
	if err != nil {
		return err
	}
	if addr == "" {
		return errors.New("empty address")
	}
	r := Recipient{Addr: addr}
	for i, f := range fields[1:] {
		k, v, _ := strings.Cut(f, "=")
		switch {
		case k == "notify" && r.Notify == nil && i == 0:
			r.Notify = strings.Split(v, ",")
			if err := checkNotify(r.Notify); err != nil {
				return err
			}
		case k == "orcpt" && r.ORcptType == "":
			t, a, ok := strings.Cut(v, ";")
			if !ok || !oneOf(t, orcptType) || a == "" {
				return fmt.Errorf("orcpt %q", v)
			}
			if r.ORcpt, err = p.xtext(a); err != nil {
				return err
			}
			if r.ORcpt == "" {
				return fmt.Errorf("orcpt %q", v)
			}
			r.ORcptType = t
		default:
			return fmt.Errorf("unexpected %q", f)
		}
	}
	p.e.Recipients = append(p.e.Recipients, r)
	return nil
}

// unxtext decodes xtext strictly: only the canonical form xtext writes is
// accepted (upper-case hex, and only for the bytes that need it), so that
// every file has one spelling.
func unxtext(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '+' {
			if i+2 >= len(s) {
				return "", errors.New("truncated +HH")
			}
			hi, lo := strings.IndexByte(hexUpper, s[i+1]), strings.IndexByte(hexUpper, s[i+2])
			if hi < 0 || lo < 0 {
				return "", fmt.Errorf("bad +HH %q", s[i:i+3])
			}
			d := byte(hi<<4 | lo)
			if d >= '!' && d <= '~' && d != '+' && d != '=' {
				return "", fmt.Errorf("needless +HH %q", s[i:i+3])
			}
			b.WriteByte(d)
			i += 2
			continue
		}
		if c < '!' || c > '~' || c == '=' {
			return "", fmt.Errorf("byte %#x not allowed in xtext", c)
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}
