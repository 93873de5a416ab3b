package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/health"
	"github.com/qscan/qscan/pkg/store"
	"github.com/qscan/qscan/pkg/web"
)

const logUsage = `usage: qscan log [-c FILE] [options] [WORD...]

Searches the message log: one row per message qscan finished (delivered,
cleaned, quarantined, set aside), newest first. WORDs must each appear
(case-insensitive) in the sender, a recipient or the subject.

options:
  -c FILE            configuration file
  --sender S         sender contains S
  --recipient R      a recipient contains R
  --subject S        subject contains S
  --id ID            queue ID (exact)
  --verdict V        clean, infected, blocked, spam, high-spam, silent,
                     poison, corrupt
  --host H           written by scanner H ([store] host)
  --since T          at or after T: RFC 3339 ("2026-12-01T08:00:00Z"), a
                     date ("2026-12-01"), or an age ("24h", "7d")
  --until T          before T (same forms)
  --limit N          at most N rows (default 50; 0: all)
  --json             one JSON object per line instead of the table

examples:
  qscan log --since 24h --verdict infected
  qscan log --recipient bob@example.org invoice
  qscan log --json --since 2026-12-01 --until 2026-12-02 > day.jsonl

exit codes: 0 done (also when nothing matched); 64 usage; 78 configuration
error; 1 other error.
`

func cmdLog(args []string) int {
	fs := flag.NewFlagSet("log", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(os.Stderr, logUsage) }
	cfg := fs.String("c", "", "configuration file")
	var q store.LogQuery
	fs.StringVar(&q.Sender, "sender", "", "")
	fs.StringVar(&q.Recipient, "recipient", "", "")
	fs.StringVar(&q.Subject, "subject", "", "")
	fs.StringVar(&q.QueueID, "id", "", "")
	fs.StringVar(&q.Verdict, "verdict", "", "")
	fs.StringVar(&q.Host, "host", "", "")
	since := fs.String("since", "", "")
	until := fs.String("until", "", "")
	limit := fs.Int("limit", store.DefaultLogLimit, "")
	asJSON := fs.Bool("json", false, "")
	words, err := quarParse(fs, args)
	if err != nil || *limit < 0 {
		fmt.Fprint(os.Stderr, logUsage)
		return exitUsage
	}
	q.Text = strings.Join(words, " ")
	now := time.Now()
	for _, t := range []struct {
		flag, v string
		to      *time.Time
	}{{"since", *since, &q.Since}, {"until", *until, &q.Until}} {
		if t.v == "" {
			continue
		}
		if *t.to, err = parseLogTime(t.v, now); err != nil {
			fmt.Fprintf(os.Stderr, "qscan log: --%s: %v\n", t.flag, err)
			return exitUsage
		}
	}
	st, code := openStoreAsOwner("log", *cfg)
	if code != exitOK {
		return code
	}
	defer st.Close()
	out := logTable(os.Stdout)
	if *asJSON {
		out = logJSON(os.Stdout)
	}
	if err := searchAll(context.Background(), st, q, *limit, out); err != nil {
		fmt.Fprintln(os.Stderr, "qscan log:", err)
		return exitFail
	}
	return exitOK
}

// openStoreAsOwner loads the configuration and opens its store as the
// owner of the work dir (started by root, a command must not leave the
// daemon a database file, or its journal, that it cannot write).
// With [store] driver = "postgres" it is the PostgreSQL store.
func openStoreAsOwner(cmd, cfgPath string) (sharedStore, int) {
	c, err := loadConfig(cfgPath)
	if err != nil {
		printConfigErrors(os.Stderr, err)
		return nil, exitConfig
	}
	if _, err := health.BecomeOwner(c.Queue.WorkDir); err != nil {
		fmt.Fprintf(os.Stderr, "qscan %s: %v\n", cmd, err)
		return nil, exitFail
	}
	if shared(c) {
		pg, err := openShared(c)
		if err != nil {
			fmt.Fprintf(os.Stderr, "qscan %s: %v\n", cmd, err)
			return nil, exitFail
		}
		return pg, exitOK
	}
	st, err := store.Open(c.Store.Path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "qscan %s: %v\n", cmd, err)
		return nil, exitFail
	}
	return st, exitOK
}

// searchAll hands the rows q selects to out, a page at a time, up to
// limit rows (0: all).
func searchAll(ctx context.Context, st web.Store, q store.LogQuery, limit int, out func([]store.LogRecord) error) error {
	left := limit
	for {
		q.Limit = store.MaxLogLimit
		if limit > 0 {
			q.Limit = min(left, store.MaxLogLimit)
		}
		rs, err := st.SearchLog(ctx, q)
		if err != nil {
			return err
		}
		if err := out(rs); err != nil {
			return err
		}
		left -= len(rs)
		if len(rs) < q.Limit || limit > 0 && left <= 0 {
			return nil
		}
		last := rs[len(rs)-1]
		q.Before = store.LogKey{Time: last.Time, Row: last.Row}
	}
}

// parseLogTime reads RFC 3339, a date (local midnight) or an age before
// now ("24h", "7d").
func parseLogTime(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return t, nil
	}
	if d, err := config.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, errors.New("want RFC 3339 (2026-12-01T08:00:00Z), a date (2026-12-01) or an age (24h, 7d): " + s)
}

// logJSON writes each row as one line of JSON.
func logJSON(w io.Writer) func([]store.LogRecord) error {
	enc := json.NewEncoder(w)
	return func(rs []store.LogRecord) error {
		for _, r := range rs {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
}

// logTable writes rows as an aligned table (each page aligned on its
// own), the header line first.
func logTable(w io.Writer) func([]store.LogRecord) error {
	header := true
	return func(rs []store.LogRecord) error {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		if header {
			fmt.Fprintln(tw, "TIME\tID\tVERDICT\tSENDER\tRECIPIENTS\tSUBJECT\tACTION\tSPAM")
			header = false
		}
		logRows(tw, rs)
		return tw.Flush()
	}
}

func logRows(tw io.Writer, rs []store.LogRecord) {
	for _, r := range rs {
		rcpt := "-"
		if len(r.Recipients) > 0 {
			rcpt = quarClean(r.Recipients[0], 40)
			if len(r.Recipients) > 1 {
				rcpt += fmt.Sprintf(" +%d", len(r.Recipients)-1)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\n", r.Time.Local().Format("2006-01-02 15:04:05"), quarClean(r.QueueID, 40),
			quarOr(quarClean(r.Verdict, 20), "-"), quarOr(quarClean(r.Sender, 40), "<>"), rcpt,
			quarOr(quarClean(r.Subject, 50), "-"), quarOr(quarClean(strings.Join(r.Actions, ","), 40), "-"), r.SpamScore)
	}
}
