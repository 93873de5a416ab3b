package main

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strings"

	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/ruleset"
)

// cmdLint checks the configuration, its rule files, rulesets and
// templates; with --value it prints what a message would get.
func cmdLint(args []string) int {
	fs := flag.NewFlagSet("lint", flag.ContinueOnError)
	cfgPath := fs.String("c", "", "configuration file")
	value := fs.String("value", "", "print this per-message option's value for the message given by --from, --to, --ip")
	from := fs.String("from", "", "envelope sender")
	ip := fs.String("ip", "", "client IP address")
	var to listFlag
	fs.Var(&to, "to", "envelope recipient (repeat for several)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	c, err := loadConfig(*cfgPath)
	if err != nil {
		printConfigErrors(os.Stderr, err)
		return exitConfig
	}
	if _, err := pipelineOptions(c, quietIfNil(nil)); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", c.File, err)
		return exitConfig
	}
	if _, err := buildStages(c, nil); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", c.File, err)
		return exitConfig
	}
	if !lintQueues(c) { // lintqueue.go
		return exitConfig
	}
	if *value != "" {
		return explainValue(c, *value, ruleset.Msg{From: *from, To: to}, *ip)
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
