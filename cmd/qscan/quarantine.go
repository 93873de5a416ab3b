package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/quarantine"
	"github.com/qscan/qscan/pkg/sendmail"
	"github.com/qscan/qscan/pkg/store"
)

const quarantineUsage = `usage: qscan quarantine <command> [options]

commands:
  list    [-c FILE] [--since 24h|7d|2026-11-01] [--json] [--index]
                                  list entries, newest first
  show    [-c FILE] [--json] ID   print an entry's metadata and files
  release [-c FILE] [--to ADDR]... ID
                                  put the message into the outgoing queue
                                  (to ADDR instead of its recipients); prints
                                  the new queue id
  delete  [-c FILE] ID            remove an entry
  purge   [-c FILE] --older-than 30d
                                  remove the entries older than that (d, h, m)

ID is YYYYMMDD/QUEUEID[.N], as list prints it.
`

// quarKickTimeout bounds the sendmail run that delivers a released message.
const quarKickTimeout = time.Minute

// cmdQuarantine runs `qscan quarantine <command>`.
func cmdQuarantine(args []string) int {
	cmds := map[string]func([]string) int{
		"list": quarList, "show": quarShow, "release": quarRelease, "delete": quarDelete, "purge": quarPurge,
	}
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, quarantineUsage)
		return exitUsage
	}
	f, ok := cmds[args[0]]
	if !ok {
		if args[0] != "help" && args[0] != "-h" && args[0] != "--help" {
			fmt.Fprintf(os.Stderr, "qscan quarantine: unknown command %q\n", args[0])
		}
		fmt.Fprint(os.Stderr, quarantineUsage)
		return exitUsage
	}
	return f(args[1:])
}

// quarFlags is a subcommand's flag set with -c.
func quarFlags(name string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("quarantine "+name, flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(os.Stderr, quarantineUsage) }
	return fs, fs.String("c", "", "configuration file")
}

// quarParse parses flags placed before or after the positional
// arguments ("release ID --to a@b") and returns the positional ones.
func quarParse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// quarOpen loads the configuration and returns the quarantine it names.
// withIndex also opens the store, when its database exists, for the index
// (a missing one is not created: an admin command run as root must not
// leave a root-owned database for the daemon).
func quarOpen(cfgPath string, withIndex bool) (*config.Config, *quarantine.Quarantine, func(), int) {
	c, err := loadConfig(cfgPath)
	if err != nil {
		printConfigErrors(os.Stderr, err)
		return nil, nil, nil, exitConfig
	}
	q := &quarantine.Quarantine{Dir: c.Quarantine.Dir}
	closer := func() {}
	if withIndex {
		if _, err := os.Stat(c.Store.Path); err == nil {
			st, err := store.Open(c.Store.Path)
			if err != nil {
				fmt.Fprintf(os.Stderr, "qscan quarantine: the index will not be updated: %v\n", err)
			} else {
				q.Index, closer = st.QuarantineIndex(), func() { st.Close() }
			}
		}
	}
	return c, q, closer, exitOK
}

// quarAge parses "30d", "12h", "90m" or any Go duration.
func quarAge(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 || days > 100000 {
			return 0, fmt.Errorf("invalid age %q (use e.g. 30d, 12h, 90m)", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("invalid age %q (use e.g. 30d, 12h, 90m)", s)
	}
	return d, nil
}

// quarSince parses --since: an age back from now, a date (local
// midnight) or an RFC 3339 time.
func quarSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := quarAge(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid --since %q (use e.g. 24h, 7d, 2026-11-01)", s)
	}
	return now.Add(-d), nil
}

// quarJSON is an entry as list and show print it in JSON.
type quarJSON struct {
	quarantine.Entry
	Dir   string            `json:"dir"`
	Files []quarantine.File `json:"file_sizes,omitempty"`
}

func quarList(args []string) int {
	fs, cfg := quarFlags("list")
	since := fs.String("since", "", "only entries since then: 24h, 7d, 2026-11-01")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	fromIndex := fs.Bool("index", false, "read the database index instead of the files")
	pos, err := quarParse(fs, args)
	if err != nil || len(pos) != 0 {
		return exitUsage
	}
	from, err := quarSince(*since, time.Now())
	if err != nil {
		fmt.Fprintln(os.Stderr, "qscan quarantine list:", err)
		return exitUsage
	}
	c, q, closeIndex, code := quarOpen(*cfg, false)
	if code != exitOK {
		return code
	}
	defer closeIndex()
	var es []quarantine.Entry
	if *fromIndex {
		es, err = quarListIndex(c.Store.Path, from)
	} else {
		es, err = q.List(from)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "qscan quarantine list:", err)
		if !errors.Is(err, quarantine.ErrTruncated) {
			return exitFail
		}
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		for _, e := range es {
			enc.Encode(quarJSON{Entry: e, Dir: e.Dir})
		}
		return exitOK
	}
	quarTable(os.Stdout, es)
	return exitOK
}

// quarListIndex reads the index of the store at path, which must exist.
func quarListIndex(path string, since time.Time) ([]quarantine.Entry, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	st, err := store.Open(path)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return st.QuarantineIndex().List(context.Background(), since, quarantine.DefaultMaxList)
}

// quarTable prints entries as an aligned table, one line each.
func quarTable(w io.Writer, es []quarantine.Entry) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tSENDER\tRECIPIENTS\tSUBJECT\tREASON\tKIND\tRELEASED")
	for _, e := range es {
		rcpt := "-"
		if len(e.Recipients) > 0 {
			rcpt = quarClean(e.Recipients[0], 40)
			if len(e.Recipients) > 1 {
				rcpt += fmt.Sprintf(" +%d", len(e.Recipients)-1)
			}
		}
		sender, reason, kind := quarOr(quarClean(e.Sender, 40), "<>"), e.Reason, "parts"
		switch {
		case e.Incomplete:
			sender, reason, kind = "-", e.Warning, "incomplete"
		case e.Whole:
			kind = "whole"
		}
		released := "-"
		if n := len(e.Released); n > 0 {
			released = e.Released[n-1].Time.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", quarClean(e.ID, 80), e.Time.Local().Format("2006-01-02 15:04"),
			sender, rcpt, quarOr(quarClean(quarDecode(e.Subject), 40), "-"),
			quarOr(quarClean(reason, 50), "-"), kind, released)
	}
	tw.Flush()
}

func quarShow(args []string) int {
	fs, cfg := quarFlags("show")
	asJSON := fs.Bool("json", false, "print the entry as JSON")
	pos, err := quarParse(fs, args)
	if err != nil || len(pos) != 1 {
		fmt.Fprint(os.Stderr, quarantineUsage)
		return exitUsage
	}
	_, q, closeIndex, code := quarOpen(*cfg, false)
	if code != exitOK {
		return code
	}
	defer closeIndex()
	e, err := q.Get(pos[0])
	if err != nil {
		return quarFail("show", err)
	}
	files, err := q.Files(e.ID)
	if err != nil {
		return quarFail("show", err)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(quarJSON{Entry: e, Dir: e.Dir, Files: files})
		return exitOK
	}
	quarPrint(os.Stdout, e, files)
	return exitOK
}

// quarPrint writes an entry for a human.
func quarPrint(w io.Writer, e quarantine.Entry, files []quarantine.File) {
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%-12s %s\n", k+":", v)
		}
	}
	line("id", e.ID)
	line("directory", quarClean(e.Dir, 4096))
	if e.Incomplete {
		line("warning", quarClean(e.Warning, 500)+" (cannot be released)")
	}
	line("queue id", quarClean(e.QueueID, 80))
	line("time", e.Time.Local().Format(time.RFC1123Z))
	line("sender", "<"+quarClean(e.Sender, 300)+">")
	var rcpts []string
	for _, r := range e.Recipients {
		rcpts = append(rcpts, "<"+quarClean(r, 300)+">")
	}
	line("recipients", strings.Join(rcpts, ", "))
	line("client ip", quarClean(e.ClientIP, 60))
	line("subject", quarClean(quarDecode(e.Subject), 500))
	line("reason", quarClean(e.Reason, 500))
	if e.Whole {
		line("kept", "the whole message")
	} else if !e.Incomplete {
		line("kept", "the original of a message delivered cleaned")
	}
	for _, r := range e.Reports {
		line("report", quarClean(r, 500))
	}
	for _, p := range e.Parts {
		line("part", fmt.Sprintf("%s %q: %s", quarClean(p.File, 40), quarClean(p.Filename, 200), quarClean(p.Report, 300)))
	}
	for _, r := range e.Released {
		line("released", fmt.Sprintf("%s as %s to %s", r.Time.Local().Format(time.RFC1123Z), quarClean(r.QueueID, 80), quarClean(strings.Join(r.To, ", "), 500)))
	}
	fmt.Fprintln(w, "files:")
	for _, f := range files {
		fmt.Fprintf(w, "  %10d  %s\n", f.Size, quarClean(f.Name, 200))
	}
}

// quarFail prints err and returns the exit code it calls for.
func quarFail(cmd string, err error) int {
	fmt.Fprintf(os.Stderr, "qscan quarantine %s: %v\n", cmd, err)
	if errors.Is(err, quarantine.ErrBadID) || errors.Is(err, sendmail.ErrBadAddress) {
		return exitUsage
	}
	return exitFail
}

func quarRelease(args []string) int {
	fs, cfg := quarFlags("release")
	var to listFlag
	fs.Var(&to, "to", "recipient of the released copy instead of the original ones (repeat for several)")
	pos, err := quarParse(fs, args)
	if err != nil || len(pos) != 1 {
		fmt.Fprint(os.Stderr, quarantineUsage)
		return exitUsage
	}
	// Every address is checked before anything is opened or written.
	bad := false
	for _, a := range to {
		if err := quarantine.CheckAddress(a); err != nil {
			fmt.Fprintln(os.Stderr, "qscan quarantine release: --to", err)
			bad = true
		}
	}
	if bad {
		return exitUsage
	}
	c, q, closeIndex, code := quarOpen(*cfg, true)
	if code != exitOK {
		return code
	}
	defer closeIndex()
	publish, err := releasePublish(c)
	if err != nil {
		return quarFail("release", err)
	}
	ro := quarantine.ReleaseOptions{
		Outgoing: c.Queue.Outgoing, To: to, OrgName: c.Headers.OrgName, Now: time.Now(),
		IDGen: sendmail.NewIDGen(time.Now, os.Getpid(), rand.IntN(3600)), Publish: publish,
	}
	if c.SMTP.On() {
		// The filter has no outgoing queue: re-injected (filter.go).
		pub, closeSend, err := filterReleaser(c)
		if err != nil {
			return quarFail("release", err)
		}
		defer closeSend()
		ro.Publish = pub
	}
	id, err := q.Release(pos[0], ro)
	if id != "" {
		fmt.Println(id)
		logRelease(c, q, pos[0], id)
	}
	if err != nil && !quarantine.OnlyIndex(err) {
		return quarFail("release", err)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "qscan quarantine release: warning:", err)
	}
	if c.Queue.Kick && !c.SMTP.On() {
		quarKick(c.Queue, id)
	}
	return exitOK
}

// quarKick asks the outgoing sendmail to deliver id now, with an argument
// vector (no shell). A failure only delays delivery to the next queue run.
func quarKick(qc config.Queue, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), quarKickTimeout)
	defer cancel()
	k := queueKicker(qc)
	if out, err := k.Kick(ctx, qc.Outgoing, id); err != nil {
		fmt.Fprintf(os.Stderr, "qscan quarantine release: kick %s: %v: %s (the queue runner will deliver it)\n",
			k.Program(), err, quarClean(string(out), 300))
	}
}

func quarDelete(args []string) int {
	fs, cfg := quarFlags("delete")
	pos, err := quarParse(fs, args)
	if err != nil || len(pos) != 1 {
		fmt.Fprint(os.Stderr, quarantineUsage)
		return exitUsage
	}
	_, q, closeIndex, code := quarOpen(*cfg, true)
	if code != exitOK {
		return code
	}
	defer closeIndex()
	if err := q.Delete(pos[0]); err != nil {
		if !quarantine.OnlyIndex(err) {
			return quarFail("delete", err)
		}
		fmt.Fprintln(os.Stderr, "qscan quarantine delete: warning:", err)
	}
	fmt.Println("deleted", pos[0])
	return exitOK
}

func quarPurge(args []string) int {
	fs, cfg := quarFlags("purge")
	olderThan := fs.String("older-than", "", "age of the entries to remove: 30d, 12h, 90m")
	pos, err := quarParse(fs, args)
	if err != nil || len(pos) != 0 || *olderThan == "" {
		fmt.Fprint(os.Stderr, quarantineUsage)
		return exitUsage
	}
	age, err := quarAge(*olderThan)
	if err != nil {
		fmt.Fprintln(os.Stderr, "qscan quarantine purge: --older-than:", err)
		return exitUsage
	}
	_, q, closeIndex, code := quarOpen(*cfg, true)
	if code != exitOK {
		return code
	}
	defer closeIndex()
	n, err := q.Purge(age, time.Now())
	fmt.Printf("purged %d entries\n", n)
	if err != nil {
		if !quarantine.OnlyIndex(err) {
			return quarFail("purge", err)
		}
		fmt.Fprintln(os.Stderr, "qscan quarantine purge: warning:", err)
	}
	return exitOK
}
