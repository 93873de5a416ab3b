// Command qscan is a MailScanner-style mail content scanner for sendmail
// queues. See README.md.
package main

import (
	"fmt"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage: qscan <command> [options]

commands:
  run       [-c FILE] [--once]            scan the incoming queue (daemon)
  lint      [-c FILE]                     check the configuration
  enqueue   -q DIR -f SENDER -r RCPT... [--client-ip IP] FILE...
                                          queue RFC 822 files as sendmail would
  scan      [-c FILE] [--json] [-o OUT] FILE...
                                          check .eml files, print the verdict
  check     [-c FILE] [--restart]         health check for cron: one line per problem
  quarantine list|show|release|delete|purge [-c FILE] ...
                                          look after the quarantine
  version                                 print the version
`

func main() {
	os.Exit(run(os.Args[1:]))
}

// Exit codes, sysexits style.
const (
	exitOK       = 0
	exitFail     = 1
	exitUsage    = 64
	exitConfig   = 78 // EX_CONFIG
	exitTempFail = 75 // EX_TEMPFAIL: messages held back
)

func run(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return exitUsage
	}
	cmds := map[string]func([]string) int{
		"run":        cmdRun,
		"lint":       cmdLint,
		"enqueue":    cmdEnqueue,
		"scan":       cmdScan,
		"check":      cmdCheck,
		"quarantine": cmdQuarantine,
		"version":    func([]string) int { fmt.Println("qscan", version); return exitOK },
	}
	f, ok := cmds[args[0]]
	if !ok {
		if args[0] != "help" && args[0] != "-h" && args[0] != "--help" {
			fmt.Fprintf(os.Stderr, "qscan: unknown command %q\n", args[0])
		}
		fmt.Fprint(os.Stderr, usage)
		return exitUsage
	}
	return f(args[1:])
}
