package main

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/qscan/qscan/pkg/exim"
	"github.com/qscan/qscan/pkg/postfix"
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
	mta := fs.String("mta", "sendmail", "the queue's format: sendmail, postfix (-q is the hold queue) or exim (-q is the spool directory)")
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
	if *mta != "sendmail" && *mta != "postfix" && *mta != "exim" {
		fmt.Fprintf(os.Stderr, "qscan enqueue: --mta %q: use sendmail, postfix or exim\n", *mta)
		return exitUsage
	}
	ids := sendmail.NewIDGen(time.Now, os.Getpid(), rand.IntN(3600))
	eids := exim.NewIDGen(time.Now, os.Getpid(), 0)
	sender := strings.Trim(*from, "<>")
	failed := 0
	for _, file := range fs.Args() {
		o := sendmail.NewOpts{ClientIP: addr, ClientHost: *helo, Helo: *helo, Protocol: "ESMTP", Time: time.Now()}
		var id string
		var err error
		switch *mta {
		case "exim":
			id, err = enqueueExim(*dir, file, eids, sender, rcpts, o)
		case "postfix":
			id, err = enqueuePostfix(*dir, file, sender, rcpts, o)
		default:
			id, err = enqueueFile(*dir, file, ids, sender, rcpts, o)
		}
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

// enqueueExim queues a file in the Exim spool dir as Exim would.
func enqueueExim(dir, file string, ids *exim.IDGen, sender string, rcpts []string, o sendmail.NewOpts) (string, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	q := exim.Queue{Dir: dir, UID: -1, GID: -1}
	return q.Enqueue(ids, raw, sender, exim.Rcpts(rcpts...), exim.NewOpts{Time: o.Time,
		Client: netip.AddrPortFrom(o.ClientIP, 25), Helo: o.Helo, Protocol: "esmtp"})
}

// enqueuePostfix queues a file in the Postfix queue dir (e.g. .../hold)
// as Postfix's cleanup would.
func enqueuePostfix(dir, file, sender string, rcpts []string, o sendmail.NewOpts) (string, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	header, body := sendmail.SplitMessage(raw)
	po := postfix.NewOpts{Time: o.Time, Sender: sender, ClientAddr: o.ClientIP.String(), ClientName: o.ClientHost, Helo: o.Helo, Protocol: o.Protocol}
	for _, r := range rcpts {
		po.Recipients = append(po.Recipients, postfix.NewRcpt{Addr: r})
	}
	f, err := postfix.NewFile(header, body, po)
	if err != nil {
		return "", err
	}
	dir = filepath.Clean(dir)
	return postfix.Queue{Dir: filepath.Dir(dir)}.PublishTo(filepath.Base(dir), f.Bytes(), nil)
}
