package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/qscan/qscan/pkg/msimport"
)

// cmdImportMailScanner turns a MailScanner configuration into a qscan
// one (pkg/msimport) and prints the option table.
func cmdImportMailScanner(args []string) int {
	fs := newFlagSet("import-mailscanner")
	out := fs.String("o", ".", "output directory for qscan.toml, rules/, rulesets/ and lists/")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	dir := "/etc/MailScanner"
	switch fs.NArg() {
	case 0:
	case 1:
		dir = fs.Arg(0)
	default:
		fmt.Fprintln(os.Stderr, "qscan import-mailscanner: give one MailScanner configuration directory (see qscan import-mailscanner --help)")
		return exitUsage
	}
	res, err := msimport.Import(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "qscan import-mailscanner:", err)
		return exitConfig
	}
	for _, p := range res.Problems {
		fmt.Fprintln(os.Stderr, "qscan import-mailscanner: warning:", p)
	}
	if err := res.Write(*out); err != nil {
		fmt.Fprintln(os.Stderr, "qscan import-mailscanner:", err)
		return 1
	}
	if err := res.PrintTable(os.Stdout); err != nil {
		return 1
	}
	beside := ""
	if n := len(res.Files); n > 0 {
		beside = fmt.Sprintf(" and %d files beside it (rules/, rulesets/, lists/, signature/)", n)
	}
	fmt.Printf("\nwrote %s%s.\n\nStill to do:\n", filepath.Join(*out, "qscan.toml"), beside)
	for i, t := range res.ToDo(*out) {
		fmt.Printf("%3d. %s\n", i+1, t)
	}
	return exitOK
}
