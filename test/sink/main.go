// Command sink is the SMTP server at the end of qscan's test stack: it accepts
// every message the outgoing sendmail delivers and stores it in a directory,
// one numbered file per message, for end-to-end tests to read.
//
// Each message becomes DIR/<n>.eml plus a JSON sidecar DIR/<n>.env holding
// the envelope. Both are written to a hidden temp file and renamed, the .env
// first, so a reader that sees <n>.eml also sees a complete <n>.env.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

const hostname = "sink.example.test"

// Envelope is the content of a <n>.env sidecar file.
type Envelope struct {
	Helo     string    `json:"helo"`
	MailFrom string    `json:"mail_from"`
	RcptTo   []string  `json:"rcpt_to"`
	Received time.Time `json:"received"`
}

// server holds the sink's settings and its message counter.
type server struct {
	dir      string
	maxSize  int64         // largest message body accepted (SIZE), in bytes
	maxRcpt  int           // most recipients per transaction
	idle     time.Duration // time allowed between two commands
	logger   *log.Logger
	lastFile atomic.Int64
}

func main() {
	listen := flag.String("listen", "127.0.0.2:2526", "address to listen on")
	dir := flag.String("dir", "", "directory that receives <n>.eml and <n>.env (required)")
	maxSize := flag.Int64("max-size", 64<<20, "largest message accepted, in bytes")
	flag.Parse()
	logger := log.New(os.Stderr, "sink: ", log.LstdFlags)
	if *dir == "" {
		logger.Fatal("-dir is required")
	}
	s, err := newServer(*dir, *maxSize, logger)
	if err != nil {
		logger.Fatal(err)
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		logger.Fatal(err)
	}
	logger.Printf("listening on %s, storing in %s", l.Addr(), *dir)
	logger.Fatal(s.serve(l))
}

// newServer prepares dir and numbers new messages after those already there,
// so that a restarted sink never overwrites a file a test may still read.
func newServer(dir string, maxSize int64, logger *log.Logger) (*server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("sink dir %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("sink dir %s: %w", dir, err)
	}
	s := &server{dir: dir, maxSize: maxSize, maxRcpt: 1000, idle: 5 * time.Minute, logger: logger}
	for _, e := range entries {
		num, ok := strings.CutSuffix(e.Name(), ".eml")
		if n, err := strconv.ParseInt(num, 10, 64); ok && err == nil && n > s.lastFile.Load() {
			s.lastFile.Store(n)
		}
	}
	return s, nil
}

// serve accepts connections until l fails; each one gets its own goroutine.
func (s *server) serve(l net.Listener) error {
	for {
		c, err := l.Accept()
		if err != nil {
			return fmt.Errorf("sink accept: %w", err)
		}
		go s.handle(c)
	}
}

// session is the state of one SMTP connection.
type session struct {
	*server
	conn net.Conn
	br   *bufio.Reader
	env  Envelope
	mail bool // MAIL FROM seen in this transaction
}

func (s *server) handle(c net.Conn) {
	defer c.Close()
	// The bufio buffer size bounds command lines: ReadSlice fails with
	// ErrBufferFull on a longer one instead of growing.
	ss := &session{server: s, conn: c, br: bufio.NewReaderSize(c, 4096)}
	ss.reply("220 %s ESMTP qscan test sink", hostname)
	for {
		c.SetDeadline(time.Now().Add(s.idle))
		line, err := ss.br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			ss.reply("500 5.5.2 line too long")
			return
		}
		if err != nil {
			return
		}
		if !ss.command(strings.TrimRight(string(line), "\r\n")) {
			return
		}
	}
}

// command runs one SMTP command and reports whether the session goes on.
func (ss *session) command(line string) bool {
	verb, arg, _ := strings.Cut(line, " ")
	switch strings.ToUpper(verb) {
	case "EHLO":
		ss.env = Envelope{Helo: arg}
		ss.mail = false
		ss.reply("250-%s\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE %d", hostname, ss.maxSize)
	case "HELO":
		ss.env = Envelope{Helo: arg}
		ss.mail = false
		ss.reply("250 %s", hostname)
	case "MAIL":
		ss.mailFrom(arg)
	case "RCPT":
		ss.rcptTo(arg)
	case "DATA":
		return ss.data()
	case "RSET":
		ss.env = Envelope{Helo: ss.env.Helo}
		ss.mail = false
		ss.reply("250 2.0.0 ok")
	case "NOOP":
		ss.reply("250 2.0.0 ok")
	case "QUIT":
		ss.reply("221 2.0.0 bye")
		return false
	default:
		ss.reply("500 5.5.1 unknown command")
	}
	return true
}

func (ss *session) mailFrom(arg string) {
	addr, params, ok := pathArg(arg, "FROM:")
	switch {
	case !ok:
		ss.reply("501 5.5.4 syntax: MAIL FROM:<address>")
	case ss.mail:
		ss.reply("503 5.5.1 nested MAIL command")
	case declaredSize(params) > ss.maxSize:
		ss.reply("552 5.3.4 message size exceeds %d", ss.maxSize)
	default:
		ss.env = Envelope{Helo: ss.env.Helo, MailFrom: addr}
		ss.mail = true
		ss.reply("250 2.1.0 ok")
	}
}

func (ss *session) rcptTo(arg string) {
	addr, _, ok := pathArg(arg, "TO:")
	switch {
	case !ok:
		ss.reply("501 5.5.4 syntax: RCPT TO:<address>")
	case !ss.mail:
		ss.reply("503 5.5.1 need MAIL first")
	case len(ss.env.RcptTo) >= ss.maxRcpt:
		ss.reply("452 4.5.3 too many recipients")
	default:
		ss.env.RcptTo = append(ss.env.RcptTo, addr)
		ss.reply("250 2.1.5 ok")
	}
}

// data reads the message. Lines are stored with LF endings (CRLF becomes LF)
// and dot-unstuffed, which is how sendmail keeps a body in its df file, so a
// test can compare what the sink got with what was queued.
func (ss *session) data() bool {
	if len(ss.env.RcptTo) == 0 {
		ss.reply("503 5.5.1 need RCPT first")
		return true
	}
	ss.reply("354 end data with <CR><LF>.<CR><LF>")
	body, err := readData(ss.br, ss.maxSize)
	if err != nil && !errors.Is(err, errTooBig) {
		return false
	}
	env := ss.env
	ss.env = Envelope{Helo: env.Helo}
	ss.mail = false
	if err != nil {
		ss.reply("552 5.3.4 message size exceeds %d", ss.maxSize)
		return true
	}
	env.Received = time.Now().UTC()
	n, err := ss.store(env, body)
	if err != nil {
		ss.logger.Print(err)
		ss.reply("451 4.3.0 cannot store message")
		return true
	}
	ss.logger.Printf("%d.eml from=<%s> to=%v size=%d", n, env.MailFrom, env.RcptTo, len(body))
	ss.reply("250 2.0.0 ok: stored as %d", n)
	return true
}

func (ss *session) reply(format string, args ...any) {
	fmt.Fprintf(ss.conn, format+"\r\n", args...)
}
