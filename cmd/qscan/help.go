package main

// usage is what `qscan help` prints.
const usage = `qscan is a MailScanner-style mail content scanner for sendmail queues.

usage: qscan <command> [options]

commands:
  run         scan the incoming queue (the daemon)
  lint        check the configuration and test the engines
  scan        check message files and print the verdict
  enqueue     queue RFC 822 files as sendmail would
  check       health check for cron: one line per problem
  quarantine  list, show, release, delete, purge quarantined mail
  web         the web desk: message log, quarantine, lists in a browser
  digest      mail each user the list of their quarantined messages
  log         search the message log
  user        add, delete, list the web desk's users; set a password
  migrate     bring the store's schema (SQLite, PostgreSQL) up to date
  version     print the version (also: qscan --version)
  queue       'queue attempts': the processing attempts of the messages
  import-mailscanner
              turn a MailScanner configuration into a qscan one
  help        this text; 'qscan help COMMAND' or 'qscan COMMAND --help'
              describes a command

Without -c FILE, qscan reads /etc/qscan/qscan.toml, or else its built-in
configuration (the demo layout of a checkout).
`

// helpTexts are the commands' --help texts: what the command does, its
// options, examples, and its exit codes.
var helpTexts = map[string]string{
	"queue": `usage: qscan queue attempts [-c FILE] [--min N] [--json]

Lists the messages qscan has tried to process, with how many attempts
each has had (MailScanner's Processing.db): a message that reaches
batch.max_attempts is quarantined whole and reported to the postmaster.
A message leaves the list when it leaves the incoming queue.

options:
  -c FILE    configuration file (for store.path and batch.max_attempts)
  --min N    only messages with at least N attempts (default 1)
  --json     print a JSON list

examples:
  qscan queue attempts --min 2

exit codes: 0 listed; 2 usage; 78 configuration error; 1 the store could
not be read.
`,
	"import-mailscanner": `usage: qscan import-mailscanner [-o OUTDIR] [DIR]

Reads the MailScanner configuration in DIR (default /etc/MailScanner):
MailScanner.conf with conf.d/ and its include files, the rulesets its
options name, spam.lists.conf, the phishing lists and the filename and
filetype rule files. Writes OUTDIR/qscan.toml (default: the current
directory) with the rule files in rules/, the rulesets in rulesets/ and
other lists in lists/, then prints a table of every option: mapped,
changed (mapped with another meaning: the note says how) or not supported
(the note says what to do instead). Nothing is overwritten.

options:
  -o OUTDIR   output directory (created if needed)

examples:
  qscan import-mailscanner -o /etc/qscan
  qscan import-mailscanner -o /tmp/q /etc/MailScanner && qscan lint -c /tmp/q/qscan.toml

exit codes: 0 written; 2 usage; 78 MailScanner.conf unreadable; 1 the
output could not be written (a file exists).
`,
	"run": `usage: qscan run [-c FILE] [--once]

Runs the scanner in the foreground: takes the messages sendmail parks in
the incoming queue, checks them, and writes them to the outgoing queue
(or the quarantine). SIGTERM or SIGINT finish the batches in progress and
exit; SIGHUP reloads the configuration between batches (a configuration
with errors is rejected and the running one kept).

options:
  -c FILE          configuration file
  --once           process until the incoming queue is empty, then exit
  --cpuprofile F   write a Go CPU profile to F (performance work)

examples:
  qscan run -c /etc/qscan/qscan.toml
  qscan run --once -c ./qscan.toml

exit codes: 0 stopped cleanly (--once: everything processed); 75 (--once)
messages were held back for a retry; 78 configuration error; 1 other error.
`,
	"lint": `usage: qscan lint [-c FILE] [--no-engines]
       qscan lint [-c FILE] --value OPTION [--from ADDR] [--to ADDR]... [--ip IP]

Checks the configuration as 'qscan run' would read it and lists every
problem as FILE:LINE: text (unknown keys, bad values, unusable
directories, rule files, rulesets, templates). Then it tests each engine
the configuration turns on, as MailScanner's --lint does: clamd (PING,
VERSION, a scan of EICAR and of clean text), the command scanner and the
built-in engine (EICAR and clean text), spamd (PING, GTUBE and a plain
message), rspamd (GTUBE), and each DNS block list (its test entry).

With --value it prints the value a per-message option takes for the
message described by --from, --to and --ip, and the rule that chose it.

options:
  -c FILE          configuration file
  --no-engines     do not test the engines (offline checking, packaging)
  --value OPTION   print this per-message option's value (e.g. spam.check)
  --from ADDR      envelope sender, for --value
  --to ADDR        envelope recipient, for --value (repeat for several)
  --ip IP          client IP address, for --value

examples:
  qscan lint -c /etc/qscan/qscan.toml
  qscan lint --no-engines -c ./qscan.toml
  qscan lint --value spam.check --from a@example.org --to b@example.com --ip 192.0.2.7

exit codes: 0 all is well; 78 the configuration has errors; 69 an engine
failed its test (mail would be held until it works); 64 bad arguments.
`,
	"scan": `usage: qscan scan [-c FILE] [--json] [-o OUT] FILE...

Runs the checks on message files (RFC 822, .eml) without any queue and
prints each file's verdict with its reports: the virus, filename, filetype,
content and spam checks the daemon would run, with the same configuration.

options:
  -c FILE          configuration file
  --json           print one JSON object per file
  -o OUT           write the message as it would be delivered to OUT (one
                   FILE only; nothing is written when it would be kept back)
  --cpuprofile F   write a Go CPU profile to F (performance work)

examples:
  qscan scan message.eml
  qscan scan --json -c /etc/qscan/qscan.toml *.eml
  qscan scan -o cleaned.eml infected.eml

exit codes (the most serious over all files, in this order):
  1   a virus was found or something was blocked (filename, filetype,
      size, dangerous content): the message would not go out as it is
  2   a file could not be read or checked (an engine down, an error)
  3   spam or high-scoring spam (and nothing worse)
  0   every file is clean
  64  bad arguments; 78 configuration error
`,
	"enqueue": `usage: qscan enqueue -q DIR -f SENDER -r RCPT [-r RCPT]... [--client-ip IP] [--helo NAME] [--mta M] FILE...

Writes each RFC 822 file into the queue directory DIR as a sendmail qf/df
pair, the way sendmail would (df first, then the qf as tf renamed into
place), and prints the queue IDs. With --mta postfix DIR is a Postfix
queue (e.g. /var/spool/postfix/hold) and each file becomes a queue file
as Postfix's cleanup writes it; with --mta exim DIR is an Exim spool
directory and each file becomes <ID>-D and <ID>-H in its input/. For tests
and demos: real mail comes in over SMTP.

options:
  -q DIR           queue directory (the incoming queue)
  -f SENDER        envelope sender ("" or <> for the null sender)
  -r RCPT          envelope recipient (repeat for several)
  --client-ip IP   client IP address recorded in the queue file (127.0.0.1)
  --helo NAME      client HELO name (localhost)
  --mta M          the queue's format: sendmail (default), postfix, exim

examples:
  qscan enqueue -q /var/spool/mqueue.in -f a@example.org -r b@example.com message.eml
  qscan enqueue -q queue/incoming -f '<>' -r postmaster@example.com --client-ip 2001:db8::5 bounce.eml

exit codes: 0 every file queued; 1 a file could not be queued; 64 bad arguments.
`,
	"check": `usage: qscan check [-c FILE] [--restart]

The health check cron runs (etc/cron.d/qscan, every 20 minutes): prints
nothing when all is well, else one line per problem: the daemon not
running or stuck, the oldest incoming message too old, an engine down too
long, a queue, work or quarantine filesystem nearly full.

options:
  -c FILE          configuration file
  --restart        start the daemon when it is not running (or stuck),
                   unless the off file says it was stopped on purpose

examples:
  qscan check -c /etc/qscan/qscan.toml
  qscan check --restart

exit codes: 0 healthy; 1 a problem was found; 78 configuration error.
`,
	"log":     logUsage,
	"user":    userUsage,
	"migrate": migrateUsage,
	"quarantine": quarantineUsage + `
Looks after the quarantine: the messages kept whole, the originals of
cleaned messages, and corrupt queue files set aside.

examples:
  qscan quarantine list --since 7d
  qscan quarantine show 20261124/6AM8Fa4W008391
  qscan quarantine release 20261124/6AM8Fa4W008391
  qscan quarantine release --to postmaster@example.com 20261124/6AM8Fa4W008391
  qscan quarantine purge --older-than 30d

exit codes: 0 done; 1 the operation failed; 64 bad arguments;
78 configuration error.
`,
	"web": `usage: qscan web [-c FILE] [--listen ADDR]

Serves the web desk: the message log (search, message pages), the
quarantine (release, delete), the white and black lists, the audit log and
a dashboard, for the users made with 'qscan user add'. With [web] listen
set, 'qscan run' serves it too. Plain HTTP only on a loopback address;
elsewhere set [web] tls_cert and tls_key. SIGTERM or SIGINT stop it.

options:
  -c FILE          configuration file
  --listen ADDR    host:port (default [web] listen, or 127.0.0.1:8025)

examples:
  qscan web -c /etc/qscan/qscan.toml
  qscan web --listen 127.0.0.1:8080    # then ssh -L 8080:127.0.0.1:8080 host

exit codes: 0 stopped by a signal, 1 failure, 64 usage, 78 configuration
`,
	"digest": `usage: qscan digest [-c FILE] [--since 24h] [-n]

Mails each user (the addresses of 'qscan user') a list of the messages to
them held in the quarantine since --since: date, sender, subject, reason
and a release link that works without logging in, once, until [web]
digest_link_ttl; it asks for confirmation before it releases. Needs [web]
digest_key and base_url. Run daily from cron (etc/cron.d/qscan).

options:
  -c FILE          configuration file
  --since WHEN     24h (default), 7d, 2026-11-01
  -n               print the mails instead of queueing them

exit codes: 0 done, 1 a digest could not be queued, 64 usage, 78 configuration
`,
	"version": `usage: qscan version (or qscan --version)

Prints qscan's version.
`,
}
