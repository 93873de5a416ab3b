package main

import (
	"flag"
	"fmt"
	"os"
)

func cmdLint(args []string) int {
	fs := flag.NewFlagSet("lint", flag.ContinueOnError)
	cfgPath := fs.String("c", "", "configuration file")
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
	fmt.Printf("%s: ok\n", c.File)
	return exitOK
}
