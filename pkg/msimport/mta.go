package msimport

import (
	"fmt"
	"path/filepath"
	"strings"
)

// The MTA and its queues: MailScanner's sendmail, Postfix and Exim
// layouts are qscan's [queue] mta = "sendmail", "postfix", "exim"
// (etc/qscan.toml [queue]).

// MailScanner's Postfix layout: header_checks HOLD park every message in
// the hold queue, the scanner writes it into the incoming queue.
const (
	postfixHold     = "/var/spool/postfix/hold"
	postfixIncoming = "/var/spool/postfix/incoming"
)

var mtaTable = map[string]mapper{
	"mta":                       mtaOpt,
	"incomingqueuedir":          queueDir("queue.incoming"),
	"outgoingqueuedir":          queueDir("queue.outgoing"),
	"sendmail2":                 sendmail2,
	"eximcommand":               eximCommand,
	"spliteximspool":            direct("queue.split_spool", kBool, false, ""),
	"deliverymethod":            deliveryMethod,
	"deliverinbackground":       same("the kick (queue.kick) never waits for the deliveries"),
	"clamdport":                 clamdPort,
	"attachmentwarningfilename": Changed.note("qscan names the text that replaces an attachment <name>.txt"),
	"noticesignature":           Changed.note("qscan's report templates end with their own signature (yours under notify.reports)"),
	"localpostmaster":           Changed.note("notices to senders come from postmaster of the host, with a null envelope sender"),
	"quarantineinfections":      sameIfYes("qscan quarantines what it removes or keeps back, always"),
	"quarantinedenialofservice": sameIfYes("qscan quarantines what it removes or keeps back, always"),
}

// fixedValue is an option whose value qscan has built in: the same
// value is mapped, another is not supported.
func fixedValue(v, note string) mapper {
	return func(r *Result, o *Option) Row {
		if strings.EqualFold(strings.TrimSpace(o.Value), v) {
			return Row{Status: Mapped, Note: note}
		}
		return Row{Status: Unsupported, Note: note}
	}
}

// sameIfYes is an option qscan always has on.
func sameIfYes(note string) mapper {
	return func(r *Result, o *Option) Row {
		if b, err := yes(o.Value); err == nil && b {
			return Row{Status: Mapped, Note: note}
		}
		return Row{Status: Unsupported, Note: "no: " + note}
	}
}

var clamdPort mapper = func(r *Result, o *Option) Row {
	if s, _ := r.conf.Get("clamdsocket"); strings.HasPrefix(strings.TrimSpace(s), "/") {
		return Row{Status: NotNeeded, Note: "Clamd Socket names a socket file (virus.clamd.socket); the port is for clamd on another host"}
	}
	return Row{Status: Mapped, Key: "virus.clamd.address", Note: "with Clamd Socket's host"}
}

// isRulesetFile says whether a value names a ruleset and not a program
// or a directory: it ends in .rules or its first rule line is one.
func (r *Result) isRulesetFile(v string) bool {
	path, ok := r.conf.isRuleset(v)
	if !ok {
		return false
	}
	return strings.HasSuffix(path, ".rules") || !isRuleFile(path) && looksText(path)
}

// looksText says whether a file starts as text (a program does not).
func looksText(path string) bool {
	b, err := readSmall(path)
	if err != nil {
		return false
	}
	if len(b) > 512 {
		b = b[:512]
	}
	return !strings.ContainsRune(string(b), 0) && !strings.HasPrefix(string(b), "#!")
}

// mta is MailScanner's MTA, lower case: "sendmail" when not set.
func (r *Result) mta() string {
	v, ok := r.conf.Get("mta")
	if !ok || strings.TrimSpace(v) == "" {
		return "sendmail"
	}
	return strings.ToLower(strings.TrimSpace(v))
}

var mtaOpt mapper = func(r *Result, o *Option) Row {
	switch m := r.mta(); m {
	case "sendmail":
		r.set("queue.mta", m)
		return Row{Status: Mapped, Key: "queue.mta", Note: "qscan reads sendmail #1's queue and writes sendmail #2's, as MailScanner did"}
	case "postfix":
		r.set("queue.mta", m)
		if _, ok := r.conf.Get("incomingqueuedir"); !ok {
			r.set("queue.incoming", []string{postfixHold})
		}
		if _, ok := r.conf.Get("outgoingqueuedir"); !ok {
			r.set("queue.outgoing", postfixIncoming)
		}
		return Row{Status: Mapped, Key: "queue.mta", Note: "MailScanner's Postfix layout (header_checks /^Received:/ HOLD; hold -> incoming) as it is; it edits Postfix's queue files, which Postfix does not offer as an interface: the SMTP content filter ([smtp]) is the supported way (README \"Postfix\")"}
	case "exim":
		r.set("queue.mta", m)
		return Row{Status: Mapped, Key: "queue.mta", Note: "MailScanner's Exim layout (a queue-only Exim, a delivering Exim) as it is"}
	}
	return Row{Status: Unsupported, Key: "queue.mta", Note: fmt.Sprintf("%s: qscan reads sendmail, Postfix and Exim queues; for a milter set-up (msmail) use Postfix with qscan as its SMTP content filter ([smtp], README)", o.Value)}
}

// queueDir maps Incoming Queue Dir (key queue.incoming, a list) and
// Outgoing Queue Dir (queue.outgoing) for the MTA: Postfix's are the hold
// and incoming queues, Exim's the spool directories (the parents of the
// input/ directories MailScanner names).
func queueDir(key string) mapper {
	in := key == "queue.incoming"
	return func(r *Result, o *Option) Row {
		if r.isRulesetFile(o.Value) && !in {
			return Row{Status: Unsupported, Key: key, Note: "a ruleset: qscan has one outgoing queue; set it by hand"}
		}
		dirs := strings.Fields(o.Value)
		if len(dirs) == 0 {
			return Row{Status: Unsupported, Key: key, Note: "empty: qscan's default kept"}
		}
		var notes []string
		st := Mapped
		for i, d := range dirs {
			if strings.ContainsAny(d, "*?[") || !filepath.IsAbs(d) {
				notes = append(notes, d+": qscan takes directory names, not wildcards or list files: write them out by hand")
				st = Changed
				continue
			}
			switch r.mta() {
			case "postfix":
				want, name := postfixHold, "hold"
				if !in {
					want, name = postfixIncoming, "incoming"
				}
				if filepath.Base(filepath.Clean(d)) != name {
					notes = append(notes, fmt.Sprintf("%s is not a Postfix %s queue: %s used, as MailScanner's Postfix layout has it", d, name, want))
					dirs[i], st = want, Changed
				}
			case "exim":
				if c := filepath.Clean(d); filepath.Base(c) == "input" {
					dirs[i] = filepath.Dir(c)
					notes = append(notes, fmt.Sprintf("qscan names Exim's spool directory, %s (MailScanner named its input/ directory)", dirs[i]))
					st = Changed
				} else {
					notes = append(notes, "qscan reads and writes "+filepath.Join(d, "input")+"/")
				}
			}
		}
		if in {
			r.set(key, dirs)
		} else {
			if len(dirs) > 1 {
				notes = append(notes, "qscan has one outgoing queue: "+dirs[0])
				st = Changed
			}
			r.set(key, dirs[0])
		}
		return Row{Status: st, Key: key, Note: strings.Join(notes, "; ")}
	}
}

// sendmail2 maps Sendmail2, MailScanner's delivering command ("Sendmail2
// = /usr/sbin/exim -C /etc/exim/exim_out.conf"): the binary and its
// arguments of qscan's kick.
var sendmail2 mapper = func(r *Result, o *Option) Row {
	if r.isRulesetFile(o.Value) {
		return Row{Status: Unsupported, Note: "a ruleset: qscan's kick runs one command; set queue.sendmail (or queue.exim) by hand"}
	}
	words := strings.Fields(o.Value)
	if len(words) == 0 {
		return Row{Status: Mapped, Note: "empty: qscan's default kept"}
	}
	args := words[1:]
	if args == nil {
		args = []string{}
	}
	switch r.mta() {
	case "exim":
		r.set("queue.exim", words[0])
		r.set("queue.exim_args", args)
		return Row{Status: Mapped, Key: "queue.exim, queue.exim_args", Note: "the kick (queue.kick) runs " + strings.Join(append(words, "-M", "<ID>..."), " ")}
	case "postfix":
		return Row{Status: Changed, Note: "qscan wakes Postfix's queue manager with postkick (queue.postkick) instead"}
	}
	r.set("queue.sendmail", words[0])
	r.set("queue.sendmail_args", args)
	return Row{Status: Mapped, Key: "queue.sendmail, queue.sendmail_args", Note: "the kick (queue.kick) runs it with -OQueueDirectory=<outgoing> -qI<ID>... as MailScanner did"}
}

var eximCommand mapper = func(r *Result, o *Option) Row {
	v := strings.TrimSpace(o.Value)
	if v == "" {
		return Row{Status: Mapped, Note: "empty: qscan reads Exim's spool files without asking Exim's version"}
	}
	if s2, _ := r.conf.Get("sendmail2"); r.mta() == "exim" && strings.TrimSpace(s2) == "" {
		r.set("queue.exim", v)
		return Row{Status: Changed, Key: "queue.exim", Note: "the binary of the kick (MailScanner asked it for its version only)"}
	}
	return Row{Status: Mapped, Note: "qscan reads Exim's spool files without asking Exim's version; the kick runs queue.exim (from Sendmail2)"}
}

// deliveryMethod maps Delivery Method: batch (deliver at once) is
// queue.kick, queue leaves the mail to the queue runner.
var deliveryMethod mapper = func(r *Result, o *Option) Row {
	v := strings.TrimSpace(o.Value)
	if path, ok := r.conf.isRuleset(v); ok {
		b, err := readSmall(path)
		d, ok := rulesetDefault(string(b))
		if err != nil || !ok {
			return Row{Status: Unsupported, Key: "queue.kick", Note: "a ruleset without a default: qscan kicks for every batch or none; set queue.kick by hand"}
		}
		v = d
	}
	switch strings.ToLower(v) {
	case "batch":
		r.set("queue.kick", true)
		return Row{Status: Mapped, Key: "queue.kick", Note: "each batch's messages are delivered at once (the kick), as with MailScanner's batch"}
	case "queue":
		r.set("queue.kick", false)
		return Row{Status: Mapped, Key: "queue.kick", Note: "the outgoing MTA's queue runner delivers"}
	}
	return Row{Status: Unsupported, Key: "queue.kick", Note: fmt.Sprintf("%q: use batch or queue; qscan's default (no kick) kept", o.Value)}
}

// needless are MailScanner's settings of its own machinery that qscan
// does without, by name prefix.
var needless = []struct{ prefix, note string }{
	{"sendmail", "qscan writes its notices into the outgoing queue itself (MailScanner ran Sendmail for them)"},
	{"restartevery", "qscan needs no periodic restarts; it reads changed phishing lists again by itself (phishing.sites_refresh)"},
	{"processingattemptsdatabase", "qscan keeps the attempts in its own store (store.path); `qscan queue attempts` shows them"},
	{"virusscannerdefinitions", "qscan's engines are clamd, the built-in engine and virus.command (clamscan, clamdscan presets): virus.scanners"},
	{"tnef", "qscan decodes TNEF itself, within its limits ([limits])"},
	{"filecommand", "qscan detects file types itself (no file(1))"},
	{"filetimeout", "qscan detects file types itself (no file(1))"},
	{"gunzip", "qscan unpacks gzip itself"},
	{"unrar", "qscan unpacks rar itself"},
	{"un7zip", "qscan unpacks 7z itself, and other archives with 7-Zip ([archives] sevenzip)"},
	{"incomingwork", "qscan creates its work files 0600 under queue.work_dir, as the user it runs as"},
	{"lockfiledir", "qscan locks queue files as the MTA does"},
	{"locktype", "qscan locks queue files as the MTA does"},
	{"mailscannerversionnumber", "qscan has no minimum version to check"},
	{"minimumcodestatus", "qscan's engines have no code status to choose"},
	{"automaticsyntaxcheck", "qscan checks its configuration at every start and reload (`qscan lint` by hand)"},
	{"disinfectedheadervalue", "qscan never disinfects: infected parts are replaced and quarantined"},
	{"runinforeground", "qscan run stays in the foreground; the service file runs it"},
}
