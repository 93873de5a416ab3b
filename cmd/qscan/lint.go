package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sort"
	"strings"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/health"
	"github.com/qscan/qscan/pkg/ruleset"
)

// cmdLint checks the configuration, its rule files, rulesets and
// templates, then tests every engine it turns on (as MailScanner's --lint
// does); with --value it prints what a message would get.
func cmdLint(args []string) int {
	fs := newFlagSet("lint")
	cfgPath := fs.String("c", "", "configuration file")
	noEngines := fs.Bool("no-engines", false, "do not test the engines (offline checking)")
	value := fs.String("value", "", "print this per-message option's value for the message given by --from, --to, --ip")
	from := fs.String("from", "", "envelope sender")
	ip := fs.String("ip", "", "client IP address")
	var to listFlag
	fs.Var(&to, "to", "envelope recipient (repeat for several)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "qscan lint: unexpected argument %q: the configuration file goes after -c (see qscan lint --help)\n", fs.Arg(0))
		return exitUsage
	}
	c, err := loadConfig(*cfgPath)
	if err != nil {
		printConfigErrors(os.Stderr, err)
		return exitConfig
	}
	// Both are built, so that every problem shows at once.
	_, errOpts := pipelineOptions(c, quietIfNil(nil))
	_, errStages := buildStages(c, nil)
	if errOpts != nil || errStages != nil {
		for _, err := range []error{errOpts, errStages} {
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", c.File, err)
			}
		}
		return exitConfig
	}
	if c.Queue.Kick {
		// A refused kick only delays delivery to the next queue run: a
		// warning, which must not stop the init scripts' lint from
		// starting the scanner.
		if err := checkKick(c); err != nil {
			fmt.Fprintf(os.Stderr, "%s: warning: %v\n", c.File, err)
		}
	}
	if _, missing := c.Archives.SevenZipPath(); missing {
		// Those archives are then taken out as "could not be opened".
		fmt.Fprintf(os.Stderr, "%s: warning: archives.sevenzip: %s is not an executable file: 7-Zip is off (apt-get install 7zip)\n", c.File, c.Archives.SevenZip)
	}
	ferrs, fwarns := filterProblems(c) // lintfilter.go
	for _, w := range fwarns {
		fmt.Fprintf(os.Stderr, "%s: warning: %s\n", c.File, w)
	}
	for _, e := range ferrs {
		fmt.Fprintf(os.Stderr, "%s: %s\n", c.File, e)
	}
	if len(ferrs) > 0 {
		return exitConfig
	}
	if !c.SMTP.On() && !lintQueues(c) { // lintqueue.go
		return exitConfig
	}
	if !lintStore(c) { // migrate.go
		return exitConfig
	}
	if *value != "" {
		return explainValue(c, *value, ruleset.Msg{From: *from, To: to}, *ip)
	}
	fmt.Printf("%s: configuration ok\n", c.File)
	if *noEngines {
		fmt.Println("engines not tested (--no-engines)")
		return exitOK
	}
	return lintEngines(c, net.DefaultResolver.LookupHost)
}

// lintEngines tests every configured engine and prints what each said:
// "ok" lines on standard output, every problem on standard error.
func lintEngines(c *config.Config, lookup lookupHost) int {
	ts, err := engineTests(c, lookup)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", c.File, err)
		return exitConfig
	}
	failed := 0
	for _, r := range health.RunProbes(context.Background(), ts) {
		if len(r.Errs) == 0 {
			fmt.Printf("%s: ok (%s)\n", r.Name, strings.Join(r.Info, "; "))
			continue
		}
		failed++
		for _, err := range r.Errs {
			fmt.Fprintf(os.Stderr, "%s: %v\n", r.Name, err)
		}
	}
	if failed > 0 {
		fmt.Fprintf(os.Stderr, "qscan lint: %d of %d engines failed their test: mail would be held until they work (--no-engines skips these tests)\n", failed, len(ts))
		return exitUnavailable
	}
	fmt.Printf("%s: ok\n", c.File)
	return exitOK
}

func explainValue(c *config.Config, key string, m ruleset.Msg, ip string) int {
	st, ok := c.Settings()[key]
	if !ok {
		var keys []string
		for k := range c.Settings() {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(os.Stderr, "qscan lint: %q is not a per-message option; these are: %s\n", key, strings.Join(keys, ", "))
		return exitUsage
	}
	if ip != "" {
		a, err := netip.ParseAddr(ip)
		if err != nil {
			fmt.Fprintf(os.Stderr, "qscan lint: --ip %q: %v\n", ip, err)
			return exitUsage
		}
		m.ClientIP = a
	}
	v, at := st.Explain(m)
	switch {
	case at != "":
		fmt.Printf("%s = %s (%s)\n", key, v, at)
	case st.Rules != nil:
		fmt.Printf("%s = %s (no rule matched: default)\n", key, v)
	default:
		fmt.Printf("%s = %s\n", key, v)
	}
	return exitOK
}
