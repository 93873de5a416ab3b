package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/pipeline"
	"github.com/qscan/qscan/pkg/sendmail"
)

// lintQueues prints the problems of the queues' layouts (queueProblems)
// and reports whether there were none.
func lintQueues(c *config.Config) bool {
	var probs []string
	switch c.Queue.MTA {
	case "exim", "postfix":
		probs = mtaProblems(c)
	default:
		probs = queueProblems(c.Queue.Incoming, c.Queue.Outgoing)
	}
	for _, p := range probs {
		fmt.Fprintf(os.Stderr, "%s: %s\n", c.File, p)
	}
	return len(probs) == 0
}

// queueProblems says whether the queues are laid out so that the files
// qscan writes are where sendmail reads them. Each queue may be flat or
// nested (qf/, df/ sub-directories, or one of them), independently of the
// others: qscan follows each one's layout as sendmail does. It reports
// queue files at the top of a queue that has the sub-directory for them
// (sendmail.Queue.Stray), and an outgoing df directory on another
// filesystem than an incoming one (no hard link of an unchanged body).
func queueProblems(incoming []string, outgoing string) []string {
	var probs []string
	out, err := sendmail.OpenQueue(outgoing)
	if err != nil {
		return nil // the configuration check says why
	}
	probs = append(probs, strayProblems("queue.outgoing", out)...)
	for _, dir := range incoming {
		in, err := sendmail.OpenQueue(dir)
		if err != nil {
			continue
		}
		probs = append(probs, strayProblems("queue.incoming", in)...)
		if same, inDf, outDf := sendmail.SameFilesystem(in, out); !same {
			probs = append(probs, fmt.Sprintf("queue.outgoing: %s is not on the same filesystem as %s: unchanged bodies are copied, not hard-linked", outDf, inDf))
		}
	}
	return probs
}

// strayProblems words the stray files of q for the option key.
func strayProblems(key string, q sendmail.Queue) []string {
	var probs []string
	for _, s := range q.Stray() {
		probs = append(probs, fmt.Sprintf("%s: %d %s files at the top of %s (%s), which has a %s/ sub-directory: sendmail reads only %s/, so they are never delivered; move them into %s",
			key, len(s.Names), strings.Join(s.Prefixes, "/"), q.Dir, shortList(s.Names, 5), s.Sub, s.Sub, filepath.Join(q.Dir, s.Sub)))
	}
	return probs
}

// shortList joins the first n names, with the count of the others.
func shortList(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, " ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], " "), len(names)-n)
}

// mtaProblems checks the queues of [queue] mta exim or postfix: Exim
// spools hold an input/ directory; Postfix's are the hold queue (in) and
// the incoming queue (out) of one queue_directory, whose settings postconf
// reads.
func mtaProblems(c *config.Config) []string {
	var probs []string
	q := c.Queue
	switch q.MTA {
	case "exim":
		for key, dirs := range map[string][]string{"queue.incoming": q.Incoming, "queue.outgoing": {q.Outgoing}} {
			for _, d := range dirs {
				if st, err := os.Stat(filepath.Join(d, "input")); err != nil || !st.IsDir() {
					probs = append(probs, fmt.Sprintf("%s: %s has no input/ directory: with mta = \"exim\" it is an Exim spool directory (spool_directory), e.g. /var/spool/exim4.in", key, d))
				}
			}
		}
	case "postfix":
		top := filepath.Dir(filepath.Clean(q.Outgoing))
		if filepath.Base(filepath.Clean(q.Outgoing)) != "incoming" {
			probs = append(probs, fmt.Sprintf("queue.outgoing: %s: with mta = \"postfix\" it is Postfix's incoming queue (queue_directory/incoming)", q.Outgoing))
		}
		for _, d := range q.Incoming {
			if filepath.Base(filepath.Clean(d)) != "hold" || filepath.Dir(filepath.Clean(d)) != top {
				probs = append(probs, fmt.Sprintf("queue.incoming: %s: with mta = \"postfix\" it is the hold queue of the same Postfix (%s)", d, filepath.Join(top, "hold")))
			}
		}
		if m, err := queueMTA(c, nil); err != nil {
			probs = append(probs, err.Error())
		} else if dir := m.(*pipeline.Postfix).Queue.Dir; filepath.Clean(dir) != top {
			probs = append(probs, fmt.Sprintf("queue.outgoing: %s is not in Postfix's queue_directory %s (postconf -c %q)", q.Outgoing, dir, q.PostfixConfig))
		}
	}
	return probs
}
