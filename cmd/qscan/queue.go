package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/qscan/qscan/pkg/store"
)

// cmdQueue runs `qscan queue SUBCOMMAND`: today `attempts`, the
// processing attempts qscan counts per message (MailScanner's
// Processing.db).
func cmdQueue(args []string) int {
	if len(args) == 0 || args[0] != "attempts" {
		fmt.Fprintln(os.Stderr, "qscan queue: use 'qscan queue attempts' (see qscan queue --help)")
		return exitUsage
	}
	fs := newFlagSet("queue attempts")
	cfgPath := fs.String("c", "", "configuration file")
	min := fs.Int("min", 1, "list messages with at least this many attempts")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	c, err := loadConfig(*cfgPath)
	if err != nil {
		printConfigErrors(os.Stderr, err)
		return exitConfig
	}
	if _, err := os.Stat(c.Store.Path); err != nil {
		// No store yet: nothing was ever attempted; creating one here
		// would only leave a file behind.
		if *asJSON {
			fmt.Println("[]")
		} else {
			fmt.Println("no processing attempts recorded")
		}
		return exitOK
	}
	st, err := store.Open(c.Store.Path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "qscan queue attempts:", err)
		return 1
	}
	defer st.Close()
	as, err := st.Attempts(context.Background(), *min)
	if err != nil {
		fmt.Fprintln(os.Stderr, "qscan queue attempts:", err)
		return 1
	}
	if *asJSON {
		if as == nil {
			as = []store.Attempt{}
		}
		b, _ := json.Marshal(as)
		fmt.Println(string(b))
		return exitOK
	}
	if len(as) == 0 {
		fmt.Println("no processing attempts recorded")
		return exitOK
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "ID\tATTEMPTS\tMAX\tFIRST\tLAST\n")
	for _, a := range as {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", quarClean(a.ID, 40), a.Count, c.Batch.MaxAttempts,
			a.First.Format(time.RFC3339), a.Last.Format(time.RFC3339))
	}
	tw.Flush()
	return exitOK
}
