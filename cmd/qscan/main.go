// Command qscan is a MailScanner-style mail content scanner for sendmail
// queues. See README.md.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:]))
}

// Exit codes, sysexits style; `qscan scan` has its own (see scan.go).
const (
	exitOK          = 0
	exitFail        = 1
	exitUsage       = 64
	exitUnavailable = 69 // EX_UNAVAILABLE: an engine failed `qscan lint`'s test
	exitTempFail    = 75 // EX_TEMPFAIL: messages held back
	exitConfig      = 78 // EX_CONFIG
)

func run(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		return cmdHelp(os.Stdout, args[1:])
	case "-version", "--version", "-V":
		return cmdVersion(nil)
	}
	commands := map[string]func([]string) int{
		"run":        cmdRun,
		"lint":       cmdLint,
		"enqueue":    cmdEnqueue,
		"scan":       cmdScan,
		"check":      cmdCheck,
		"quarantine": cmdQuarantine,
		"web":        cmdWeb,
		"digest":     cmdDigest,
		"log":        cmdLog,
		"user":       cmdUser,
		"migrate":    cmdMigrate,
		"version":    cmdVersion,

		"import-mailscanner": cmdImportMailScanner,
		"queue":              cmdQueue,
	}
	f, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "qscan: unknown command %q: run 'qscan help' for the list of commands\n", args[0])
		return exitUsage
	}
	if wantsHelp(args[0], args[1:]) {
		return cmdHelp(os.Stdout, args[:1])
	}
	return f(args[1:])
}

func cmdVersion([]string) int {
	fmt.Println("qscan", version)
	return exitOK
}

// cmdHelp prints the overview, or the help of the command named.
func cmdHelp(w io.Writer, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(w, usage)
		return exitOK
	}
	text, ok := helpTexts[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "qscan help: no command %q: run 'qscan help' for the list of commands\n", args[0])
		return exitUsage
	}
	fmt.Fprint(w, text)
	return exitOK
}

// wantsHelp reports whether a command's arguments ask for its help:
// -h, --help anywhere before "--" (for quarantine, also its "help"
// subcommand).
func wantsHelp(cmd string, args []string) bool {
	if cmd == "quarantine" && len(args) > 0 && args[0] == "help" {
		return true
	}
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// newFlagSet is a subcommand's flag set: on a bad flag it prints the
// error and points at the command's help, instead of the raw flag list.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "run 'qscan %s --help' for its options and examples\n", name)
	}
	return fs
}
