package main

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/qscan/qscan/pkg/sendmail"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// enqueueMissing says which required arguments are missing, in a
// sentence, or "".
func enqueueMissing(dir string, rcpts []string, files int) string {
	var m []string
	if dir == "" {
		m = append(m, "the queue directory (-q DIR)")
	}
	if len(rcpts) == 0 {
		m = append(m, "at least one recipient (-r RCPT)")
	}
	if files == 0 {
		m = append(m, "the message files to queue")
	}
	if len(m) == 0 {
		return ""
	}
	return "name " + strings.Join(m, ", ")
}

// cmdEnqueue writes RFC 822 files into a queue directory as sendmail
// would (sendmail.Queue.Enqueue). A file that cannot
// be queued is reported and the others are still queued; the exit status
// is exitFail if any failed.
func cmdEnqueue(args []string) int {
	fs := newFlagSet("enqueue")
	dir := fs.String("q", "", "queue directory")
	from := fs.String("f", "", "envelope sender (\"\" or <> for the null sender)")
	ip := fs.String("client-ip", "127.0.0.1", "client IP address recorded in the queue file")
	helo := fs.String("helo", "localhost", "client HELO name")
	var rcpts listFlag
	fs.Var(&rcpts, "r", "envelope recipient (repeat for several)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if missing := enqueueMissing(*dir, rcpts, fs.NArg()); missing != "" {
		fmt.Fprintf(os.Stderr, "qscan enqueue: %s (see qscan enqueue --help)\n", missing)
		return exitUsage
	}
	addr, err := netip.ParseAddr(*ip)
	if err != nil {
		fmt.Fprintf(os.Stderr, "qscan enqueue: --client-ip %q: %v\n", *ip, err)
		return exitUsage
	}
	ids := sendmail.NewIDGen(time.Now, os.Getpid(), rand.IntN(3600))
	sender := strings.Trim(*from, "<>")
	failed := 0
	for _, file := range fs.Args() {
		id, err := enqueueFile(*dir, file, ids, sender, rcpts, sendmail.NewOpts{
			ClientIP: addr, ClientHost: *helo, Helo: *helo, Protocol: "ESMTP", Time: time.Now(),
		})
		if err != nil {
			// One bad file does not stop the others: each is reported
			// and the exit status tells that some failed.
			fmt.Fprintf(os.Stderr, "qscan enqueue %s: %v\n", file, err)
			failed++
			continue
		}
		fmt.Println(id)
	}
	if failed > 0 {
		fmt.Fprintf(os.Stderr, "qscan enqueue: %d of %d files not queued\n", failed, fs.NArg())
		return exitFail
	}
	return exitOK
}

func enqueueFile(dir, file string, ids *sendmail.IDGen, sender string, rcpts []string, o sendmail.NewOpts) (string, error) {
	q, err := sendmail.OpenQueue(dir) // where sendmail reads: qf/ and df/ when there
	if err != nil {
		return "", err
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	return q.Enqueue(ids, raw, sender, rcpts, o)
}
