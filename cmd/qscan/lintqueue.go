package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/sendmail"
)

// lintQueues prints the problems of the queues' layouts (queueProblems)
// and reports whether there were none.
func lintQueues(c *config.Config) bool {
	probs := queueProblems(c.Queue.Incoming, c.Queue.Outgoing)
	for _, p := range probs {
		fmt.Fprintf(os.Stderr, "%s: %s\n", c.File, p)
	}
	return len(probs) == 0
}

// queueProblems checks that the queues are laid out so that the files
// qscan writes are where sendmail reads them. Each queue may be flat or
// nested (qf/, df/ sub-directories, or one of them), independently of the
// others: qscan follows each one's layout as sendmail does. What it
// reports: queue files at the top of a queue that has the sub-directory
// for them (sendmail reads only the sub-directory, so they are never
// delivered, or never scanned: left by a program, or an older qscan, that
// ignored the layout), and an outgoing df directory on another filesystem
// than an incoming one (no hard link of an unchanged body).
func queueProblems(incoming []string, outgoing string) []string {
	var probs []string
	out, err := sendmail.OpenQueue(outgoing)
	if err != nil {
		return nil // the configuration check says why
	}
	probs = append(probs, strayFiles("queue.outgoing", out)...)
	for _, dir := range incoming {
		in, err := sendmail.OpenQueue(dir)
		if err != nil {
			continue
		}
		probs = append(probs, strayFiles("queue.incoming", in)...)
		inDf, outDf := filepath.Dir(in.DfPath("x")), filepath.Dir(out.DfPath("x"))
		if !sameDevice(inDf, outDf) {
			probs = append(probs, fmt.Sprintf("queue.outgoing: %s is not on the same filesystem as %s: unchanged bodies are copied, not hard-linked", outDf, inDf))
		}
	}
	return probs
}

// strayFiles reports qf, tf and df files at the top of q when q keeps them
// in a sub-directory.
func strayFiles(key string, q sendmail.Queue) []string {
	des, err := os.ReadDir(q.Dir)
	if err != nil {
		return nil
	}
	var probs []string
	for _, kind := range []struct {
		prefix []string
		sub    bool
		in     string
	}{{[]string{"qf", "tf"}, q.SubQf, "qf"}, {[]string{"df"}, q.SubDf, "df"}} {
		if !kind.sub {
			continue
		}
		var stray []string
		for _, de := range des {
			for _, pre := range kind.prefix {
				if id, ok := strings.CutPrefix(de.Name(), pre); ok && sendmail.ValidID(id) && de.Type().IsRegular() {
					stray = append(stray, de.Name())
				}
			}
		}
		if len(stray) > 0 {
			probs = append(probs, fmt.Sprintf("%s: %d %s files at the top of %s (%s), which has a %s/ sub-directory: sendmail reads only %s/, so they are never delivered; move them into %s",
				key, len(stray), strings.Join(kind.prefix, "/"), q.Dir, shortList(stray, 5), kind.in, kind.in, filepath.Join(q.Dir, kind.in)))
		}
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

// sameDevice reports whether a and b are on the same filesystem (true when
// either cannot be looked at: reported elsewhere).
func sameDevice(a, b string) bool {
	var sa, sb syscall.Stat_t
	if syscall.Stat(a, &sa) != nil || syscall.Stat(b, &sb) != nil {
		return true
	}
	return sa.Dev == sb.Dev
}
