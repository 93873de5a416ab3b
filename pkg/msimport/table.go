package msimport

import (
	"fmt"
	"strings"
)

// table maps MailScanner's options (by Norm) to qscan's.
var table = map[string]mapper{
	// Queues and batches.
	"incomingworkdir":                           direct("queue.work_dir", kPath, false, "qscan keeps its journal there: it must survive a reboot, so not a tmpfs as MailScanner's work directory often is"),
	"quarantinedir":                             direct("quarantine.dir", kPath, false, "qscan's quarantine layout is <dir>/<YYYYMMDD>/<ID>/ like MailScanner's, with a metadata.json; `qscan quarantine` lists and releases"),
	"pidfile":                                   direct("queue.pid_file", kPath, false, ""),
	"queuescaninterval":                         direct("queue.rescan_interval", kSec, false, "qscan is woken by new mail within milliseconds (inotify); this is only its safety-net rescan"),
	"maxunscannedmessagesperscan":               direct("batch.max_messages", kInt, false, ""),
	"maxunscannedbytesperscan":                  direct("batch.max_bytes", kSize, false, ""),
	"maxunsafemessagesperscan":                  unsup("qscan has one batch bound for all mail: batch.max_messages"),
	"maxunsafebytesperscan":                     unsup("qscan has one batch bound for all mail: batch.max_bytes"),
	"maxnormalqueuesize":                        unsup("qscan takes the oldest mail first whatever the queue size; `qscan check` alarms on queue age (check.queue_max_age)"),
	"maximumprocessingattempts":                 attempts,
	"maxchildren":                               direct("batch.workers", kInt, false, "parallel checks inside one process instead of child processes"),
	"runinforeground":                           unsup("qscan run stays in the foreground; the service file runs it"),
	"scanmessages":                              unsup("qscan scans every message; to let some through unscanned set virus.scan and spam.check (rulesets) to no for them"),
	"debug":                                     debugOpt,
	"stillscansilentviruses":                    unsup("a silent virus's message is not spam-checked unless virus.deliver_silent delivers it"),
	"stilldeliversilentvirusesunmodified":       unsup("qscan never delivers a virus: with virus.deliver_silent the message is cleaned"),
	"blockunencryptedmessages":                  unsup("not supported; content.block_encrypted covers the other direction"),
	"checkfilenamesinpasswordprotectedarchives": same("qscan checks the member names of encrypted archives"),
	"dangerouscontentscanning":                  same("qscan always runs the content checks; rule files and [content.html] tune them"),
	"converthtmltotext":                         unsup("the spam action striphtml turns HTML into text for spam"),
	"archivesare":                               same("qscan opens zip, rar, 7z, tar, gzip, bzip2, xz and more by their content"),
	"infectedheadervalue":                       fixedValue("Found to be infected", "qscan's header says \"Found to be infected\""),
	"markinfectedmessages":                      same("qscan always sets its header on infected messages"),
	"warningisattachment":                       unsup("replacement texts are attachments named <name>.txt; [notify] inline_warning adds one at the top"),
	"noticesfrom":                               unsup("reports come from postmaster of the host (null envelope sender)"),
	"nevernotifysendersofprecedence":            same("qscan never notifies senders of list or bulk mail"),
	"highscoringspammodifysubject":              unsup("high-scoring spam gets spam.subject_tag as well"),
	"highscoringspamsubjecttext":                unsup("high-scoring spam gets spam.subject_tag as well"),
	"spamheader":                                Changed.note("the spam header is X-<org_name>-QScan-SpamCheck"),
	"spamscoreheader":                           Changed.note("the score header is X-<org_name>-QScan-SpamScore"),
	"envelopefromheader":                        Changed.note("the header is X-<org_name>-QScan-From (headers.add_envelope_from)"),
	"envelopetoheader":                          Changed.note("the header is X-<org_name>-QScan-To (headers.add_envelope_to)"),
	"usedefaultruleswithmultiplerecipients":     unsup("qscan evaluates rulesets per recipient where it matters (yes if any recipient says yes)"),
	"rejectmessage":                             unsup("qscan never rejects: mail is accepted by the MTA before it is scanned"),
	"readipaddressfromreceivedheader":           receivedIP,

	// Virus scanning.
	"virusscanning":                   direct("virus.scan", kBool, true, ""),
	"virusscanners":                   scanners,
	"virusscannertimeout":             scannerTimeout,
	"deliverdisinfectedfiles":         unsup("qscan never disinfects: infected parts are replaced by a warning and quarantined"),
	"silentviruses":                   silentViruses,
	"stilldeliversilentviruses":       direct("virus.deliver_silent", kBool, true, ""),
	"nonforgingviruses":               nonForging,
	"virusnameswhicharespam":          direct("virus.spam_virus_names", kWords, false, ""),
	"spamvirusheader":                 unsup("qscan makes such a message spam (spam rule SPAM_VIRUS(name) in its spam headers) instead of adding a header of its own"),
	"blockencryptedmessages":          direct("content.block_encrypted", kBool, false, ""),
	"allowpasswordprotectedarchives":  direct("limits.allow_password_archives", kBool, false, ""),
	"stilldeliverunscannablemessages": direct("virus.deliver_unscannable", kBool, false, ""),
	"clamdsocket":                     clamdSocket,
	"clamdusethreads":                 same("qscan keeps a pool of clamd connections (virus.clamd.max_connections)"),
	"clamavfullmessagescan":           same("qscan scans each part and the whole message"),
	"virusscanattempts":               unsup("an engine failure leaves the message in the queue and it is retried with backoff (batch.retry_min, retry_max)"),
	"retrybatchonscannerfailure":      same("an engine failure leaves the message in the queue and it is retried with backoff"),
	"expandtnef":                      same("qscan always decodes TNEF (winmail.dat) and checks its attachments"),
	"usetnefcontents":                 tnefContents,
	"finduuencodedfiles":              Changed.note("qscan always decodes uuencoded, yEnc and BinHex files in text parts"),
	"findarchivesbycontent":           same("qscan recognises archives by their content"),
	"maximumarchivedepth":             archiveDepth,
	"unpackmicrosoftdocuments":        direct("limits.unpack_microsoft_documents", kBool, false, ""),
	"maximumattachmentspermessage":    direct("limits.max_mime_parts", kInt, false, "qscan counts MIME parts; beyond the limit the message is kept back"),
	"delivercleanedmessages":          direct("virus.deliver_cleaned", kBool, true, ""),

	// Content.
	"allowpartialmessages":           direct("content.block_partial", kNot, false, ""),
	"allowexternalmessagebodies":     direct("content.block_external_body", kNot, false, ""),
	"allowiframetags":                direct("content.html.iframe", kHTML, true, ""),
	"allowformtags":                  direct("content.html.form", kHTML, true, ""),
	"allowscripttags":                direct("content.html.script", kHTML, true, ""),
	"allowobjectcodebasetags":        direct("content.html.object_codebase", kHTML, true, ""),
	"filenamerules":                  ruleFiles("content.filename_rules"),
	"filetyperules":                  ruleFiles("content.filetype_rules"),
	"archivesfilenamerules":          ruleFiles("content.archive_filename_rules"),
	"archivesfiletyperules":          ruleFiles("content.archive_filetype_rules"),
	"defaultrenamepattern":           direct("content.rename_pattern", kStr, false, ""),
	"allowfilenames":                 allowDeny("content.filename_rules", "allow", false),
	"denyfilenames":                  allowDeny("content.filename_rules", "deny", false),
	"allowfiletypes":                 allowDeny("content.filetype_rules", "allow", false),
	"denyfiletypes":                  allowDeny("content.filetype_rules", "deny", false),
	"allowfilemimetypes":             allowDeny("content.filetype_rules", "allow", true),
	"denyfilemimetypes":              allowDeny("content.filetype_rules", "deny", true),
	"archivesallowfilenames":         allowDeny("content.archive_filename_rules", "allow", false),
	"archivesdenyfilenames":          allowDeny("content.archive_filename_rules", "deny", false),
	"archivesallowfiletypes":         allowDeny("content.archive_filetype_rules", "allow", false),
	"archivesdenyfiletypes":          allowDeny("content.archive_filetype_rules", "deny", false),
	"archivesallowfilemimetypes":     allowDeny("content.archive_filetype_rules", "allow", true),
	"archivesdenyfilemimetypes":      allowDeny("content.archive_filetype_rules", "deny", true),
	"maximummessagesize":             direct("content.max_message_size", kSize, false, ""),
	"maximumattachmentsize":          direct("content.max_attachment_size", kSizeOff, false, "-1 (off) is 0"),
	"minimumattachmentsize":          direct("content.min_attachment_size", kSizeOff, false, "-1 (off) is 0"),
	"ignoreqpdenialofservicefailure": unsup("qscan's QP check is content.qp_max_blank_line (0: off)"),

	// Headers and subjects.
	"cleanheadervalue":              direct("headers.clean", kStr, false, ""),
	"addenvelopefromheader":         direct("headers.add_envelope_from", kBool, false, ""),
	"addenvelopetoheader":           direct("headers.add_envelope_to", kBool, false, ""),
	"placenewheadersattopofmessage": direct("headers.place_at_top", kBool, false, ""),
	"idheader":                      idHeader,
	"removetheseheaders":            direct("headers.remove", kStr, true, ""),
	"mailheader":                    Changed.note("the header is X-<headers.org_name>-QScan; its name follows org_name"),
	"virussubjecttext":              direct("headers.virus_subject_tag", kStr, false, ""),
	"filenamesubjecttext":           direct("headers.filename_subject_tag", kStr, false, ""),
	"contentsubjecttext":            direct("headers.content_subject_tag", kStr, false, ""),
	"sizesubjecttext":               direct("headers.size_subject_tag", kStr, false, ""),
	"virusmodifysubject":            modifySubject("headers.virus_subject_tag"),
	"filenamemodifysubject":         modifySubject("headers.filename_subject_tag"),
	"contentmodifysubject":          modifySubject("headers.content_subject_tag"),
	"sizemodifysubject":             modifySubject("headers.size_subject_tag"),
	"spamsubjecttext":               direct("spam.subject_tag", kStr, false, ""),
	"spammodifysubject":             spamSubject,

	// Notices.
	"notifysenders":                              notifySenders,
	"notifysendersofviruses":                     direct("notify.sender_viruses", kBool, false, ""),
	"notifysendersofblockedfilenamesorfiletypes": direct("notify.sender_blocked", kBool, false, ""),
	"notifysendersofotherblockedcontent":         direct("notify.sender_other", kBool, false, ""),
	"notifysendersofblockedsizeattachments":      unsup("size blocks are notified with notify.sender_other"),
	"noticesto":                                  noticesTo,
	"sendnotices":                                sendNotices,
	"hostname":                                   hostname,
	"noticesincludefullheaders":                  direct("notify.full_headers", kBool, true, ""),
	"archivemail":                                direct("quarantine.archive_mail", kStr, true, "directories get a copy of each message as it arrived (DIR/YYYYMMDD/ID.eml); addresses get the delivered copy of delivered messages"),
	"missingmailarchiveis":                       unsup("qscan archives into directories (created as needed), never into one mbox file"),
	"languagestrings":                            language,

	// Spam.
	"spamchecks":                      direct("spam.check", kBool, true, ""),
	"usespamassassin":                 useSpamAssassin,
	"requiredspamassassinscore":       direct("spam.required_score", kFloat, true, ""),
	"highspamassassinscore":           direct("spam.high_score", kFloat, true, ""),
	"spamactions":                     direct("spam.spam_actions", kStr, true, ""),
	"highscoringspamactions":          direct("spam.high_spam_actions", kStr, true, ""),
	"nonspamactions":                  direct("spam.ham_actions", kStr, true, ""),
	"isdefinitelynotspam":             direct("spam.definitely_not_spam", kBool, true, ""),
	"isdefinitelyspam":                direct("spam.definitely_spam", kBool, true, ""),
	"definitespamishighscoring":       direct("spam.blacklist_high", kBool, false, ""),
	"spamliststobespam":               direct("spam.lists_to_be_spam", kInt, false, ""),
	"spamliststoreachhighscore":       direct("spam.lists_to_be_high", kInt, false, ""),
	"spamlisttimeout":                 direct("spam.dnsbl.timeout", kSec, false, "one timeout for all the lookups of a message"),
	"spamlistskipifauthenticated":     direct("spam.dnsbl.skip_authenticated", kBool, false, ""),
	"spamlist":                        spamList("ip"),
	"spamdomainlist":                  spamList("domain"),
	"spamlistdefinitions":             spamListDefinitions,
	"maxspamassassinsize":             direct("spam.spamd.max_size", kSize, false, ""),
	"spamassassintimeout":             direct("spam.spamd.timeout", kSec, false, ""),
	"maxspamassassintimeouts":         direct("spam.max_timeouts", kInt, false, "after this many timeouts in a row spamd is paused for spam.pause"),
	"maxspamchecksize":                maxSpamCheckSize,
	"alwaysincludespamassassinreport": direct("spam.always_include_report", kBool, false, ""),
	"enablespambounce":                direct("spam.bounce", kBool, false, ""),
	"cachespamassassinresults":        same("qscan caches spam results (spam.cache_ttl, spam.cache_max_entries)"),
	"spamscore":                       same("qscan adds the score header"),
}

// note makes a mapper of a status with a fixed note.
func (s Status) note(n string) mapper {
	return func(*Result, *Option) Row { return Row{Status: s, Note: n} }
}

// group notes for the options no entry names, by name prefix.
var groups = []struct{ prefix, suffix, note string }{
	{"milter", "", "qscan takes mail from the MTA's queue, or as an SMTP content filter; no milter"},
	{"msmail", "", "qscan takes mail from the MTA's queue, or as an SMTP content filter"},
	{"mcp", "", "MCP checks are not supported: write SpamAssassin rules for spamd instead"},
	{"highscoringmcp", "", "MCP checks are not supported"},
	{"nonmcp", "", "MCP checks are not supported"},
	{"bouncemcp", "", "MCP checks are not supported"},
	{"isdefinitelymcp", "", "MCP checks are not supported"},
	{"isdefinitelynotmcp", "", "MCP checks are not supported"},
	{"definitemcp", "", "MCP checks are not supported"},
	{"alwaysincludemcp", "", "MCP checks are not supported"},
	{"detailedmcp", "", "MCP checks are not supported"},
	{"includescoresinmcp", "", "MCP checks are not supported"},
	{"recipientmcp", "", "MCP checks are not supported"},
	{"sendermcp", "", "MCP checks are not supported"},
	{"logmcp", "", "MCP checks are not supported"},
	{"firstcheck", "", "MCP checks are not supported"},
	{"usewatermarking", "", "watermarking is not supported: against bounces of mail you never sent, use BATV or SPF, DKIM and DMARC in the MTA"},
	{"addwatermark", "", "watermarking is not supported: qscan adds no watermark header"},
	{"checkwatermarks", "", "watermarking is not supported"},
	{"treatinvalidwatermarks", "", "watermarking is not supported"},
	{"watermark", "", "watermarking is not supported"},
	{"sql", "", "qscan reads its configuration from qscan.toml and ruleset files only"},
	{"db", "", "qscan reads its configuration from qscan.toml and ruleset files only"},
	{"sophos", "", "use clamd, or virus.command with the scanner's command line"},
	{"allowedsophos", "", "use clamd, or virus.command with the scanner's command line"},
	{"monitorsforsophos", "", "use clamd, or virus.command with the scanner's command line"},
	{"savid", "", "use clamd, or virus.command with the scanner's command line"},
	{"fpscand", "", "use clamd, or virus.command with the scanner's command line"},
	{"kse", "", "use clamd, or virus.command with the scanner's command line"},
	{"avastd", "", "use clamd, or virus.command with the scanner's command line"},
	{"fsecure", "", "use clamd, or virus.command with the scanner's command line"},
	{"log", "", "qscan logs one line per message with its verdict, reason and timings; [log] level sets the detail"},
	{"syslog", "", "qscan logs to standard error, or to syslog (facility mail) with [log] syslog = true"},
	{"spamassassin", "", "spamd reads its own configuration (local.cf, rule directories): set it there"},
	{"maxspamassassintimeouts", "", "see spam.max_timeouts"},
	{"includescoresinspamassassin", "", "qscan's spam header always carries the scores"},
	{"includebinaryattachmentsinspamassassin", "", "spamd gets the message as it is, up to spam.spamd.max_size"},
	{"checkspamassassinifonspamlist", "", "spamd is asked whenever spam.engines has it"},
	{"rebuildbayes", "", "run sa-learn from cron for spamd"},
	{"waitduringbayesrebuild", "", "run sa-learn from cron for spamd"},
	{"usecustomspamscanner", "", "use rspamd or spamd (spam.engines)"},
	{"maxcustomspamscanner", "", "use rspamd or spamd (spam.engines)"},
	{"customspamscanner", "", "use rspamd or spamd (spam.engines)"},
	{"zipattachments", "", "zipping attachments is not supported"},
	{"attachmentszip", "", "zipping attachments is not supported"},
	{"attachmentsmintotalsizetozip", "", "zipping attachments is not supported"},
	{"attachmentextensionsnottozip", "", "zipping attachments is not supported"},
	{"unzip", "", "unzipping attachments for delivery is not supported"},
	{"antiword", "", "not supported"},
	{"addtextofdoc", "", "not supported"},
	{"delivunparsabletnef", "", "a TNEF stream qscan cannot read is reported and kept back"},
	{"deliverunparsabletnef", "", "a TNEF stream qscan cannot read is reported and kept back"},
	{"runas", "", "qscan runs as the user its service file names"},
	{"quarantineuser", "", "qscan creates the quarantine 0700 for the user it runs as"},
	{"quarantinegroup", "", "qscan creates the quarantine 0700 for the user it runs as"},
	{"quarantinepermissions", "", "qscan creates the quarantine 0700 for the user it runs as"},
	{"quarantinewholemessage", "", "qscan quarantines the original of every message it changes or keeps back, and the parts it removed"},
	{"keepspamandmcparchiveclean", "", "not supported"},
	{"customfunctionsdir", "", "custom functions are not supported: use rulesets"},
	{"", "report", "qscan's own template in notify.language is used (reports/<language>/; your own under notify.reports)"},
	{"", "warning", "qscan's own template in notify.language is used (reports/<language>/, notify.inline_warning; your own under notify.reports)"},
}

var attempts mapper = func(r *Result, o *Option) Row {
	n, err := integer(o.Value)
	if err != nil {
		return Row{Status: Unsupported, Key: "batch.max_attempts", Note: err.Error() + ": qscan's default kept"}
	}
	if n < 1 {
		r.set("batch.max_attempts", int64(1000))
		return Row{Status: Changed, Key: "batch.max_attempts", Note: "0 (no limit) is 1000: qscan always quarantines a message that keeps failing"}
	}
	r.set("batch.max_attempts", n)
	return Row{Status: Mapped, Key: "batch.max_attempts", Note: "`qscan queue attempts` shows the counts"}
}

var debugOpt mapper = func(r *Result, o *Option) Row {
	if b, _ := yes(o.Value); b {
		r.set("log.level", "debug")
	}
	return Row{Status: Mapped, Key: "log.level"}
}

var scanners mapper = func(r *Result, o *Option) Row {
	var out []string
	var notes []string
	for _, w := range strings.Fields(strings.ToLower(o.Value)) {
		switch w {
		case "auto":
			out = append(out, "clamd")
			notes = append(notes, "auto: qscan uses clamd (name the engines in virus.scanners)")
		case "clamd":
			out = append(out, "clamd")
		case "clamav", "clamavmodule":
			out = append(out, "command")
			r.set("virus.command.preset", "clamscan")
			notes = append(notes, w+": clamscan through virus.command (clamd is faster)")
		case "none":
			notes = append(notes, "none: qscan's built-in engine only finds EICAR and ClamAV hash signatures")
			out = append(out, "builtin")
		default:
			notes = append(notes, w+": not supported, use clamd or virus.command")
		}
	}
	if len(out) == 0 {
		out = []string{"clamd"}
	}
	r.set("virus.scanners", dedupe(out))
	st := Mapped
	if len(notes) > 0 {
		st = Changed
	}
	return Row{Status: st, Key: "virus.scanners", Note: strings.Join(notes, "; ")}
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

var scannerTimeout mapper = func(r *Result, o *Option) Row {
	d, err := conv(kSec, o.Value)
	if err != nil {
		return Row{Status: Unsupported, Note: err.Error()}
	}
	r.set("virus.clamd.timeout", d)
	r.set("virus.command.timeout", d)
	return Row{Status: Mapped, Key: "virus.clamd.timeout, virus.command.timeout"}
}

var silentViruses mapper = func(r *Result, o *Option) Row {
	var res, notes []string
	for _, w := range strings.Fields(o.Value) {
		switch strings.ToLower(w) {
		case "all-viruses":
			res = append(res, ".")
			notes = append(notes, "All-Viruses: every virus (the pattern \".\"): an infected message is then quarantined whole without notices, as with MailScanner's \"Still Deliver Silent Viruses = no\"")
		case "html-iframe", "html-codebase", "html-form", "html-script", "zip-password":
			notes = append(notes, w+": qscan's dangerous-content and archive reports are never virus reports: left out")
		default:
			res = append(res, "(?i)^"+regexpQuote(w))
		}
	}
	r.set("virus.silent_viruses", res)
	return Row{Status: Changed, Key: "virus.silent_viruses", Note: join("virus-name prefixes become regexes", strings.Join(notes, "; "))}
}

func regexpQuote(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`\.+*?()|[]{}^$`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

var clamdSocket mapper = func(r *Result, o *Option) Row {
	v := strings.TrimSpace(o.Value)
	if strings.HasPrefix(v, "/") {
		r.set("virus.clamd.socket", v)
		return Row{Status: Mapped, Key: "virus.clamd.socket"}
	}
	port := "3310"
	if p, ok := r.conf.Get("clamdport"); ok && p != "" {
		port = p
	}
	r.set("virus.clamd.address", v+":"+port)
	r.set("virus.clamd.socket", "")
	return Row{Status: Mapped, Key: "virus.clamd.address"}
}

var archiveDepth mapper = func(r *Result, o *Option) Row {
	n, err := integer(o.Value)
	if err != nil {
		return Row{Status: Unsupported, Note: err.Error()}
	}
	if n < 1 {
		r.set("limits.max_archive_depth", int64(1))
		return Row{Status: Changed, Key: "limits.max_archive_depth", Note: "0 (archives not opened) is 1: qscan always looks into archives"}
	}
	r.set("limits.max_archive_depth", n)
	return Row{Status: Mapped, Key: "limits.max_archive_depth"}
}

var nonForging mapper = func(r *Result, o *Option) Row {
	var res, notes []string
	for _, w := range strings.Fields(o.Value) {
		if strings.EqualFold(w, "zip-password") {
			notes = append(notes, "Zip-Password: password-protected archives are not virus reports in qscan (limits.allow_password_archives): left out")
			continue
		}
		res = append(res, "(?i)"+regexpQuote(w))
	}
	r.set("virus.non_forging_viruses", res)
	return Row{Status: Changed, Key: "virus.non_forging_viruses", Note: join("strings searched in the virus name become regexes", strings.Join(notes, "; "))}
}

var tnefContents mapper = func(r *Result, o *Option) Row {
	if path, ok := r.conf.isRuleset(o.Value); ok {
		rel, err := r.copyRuleset(path)
		if err != nil {
			return Row{Status: Unsupported, Key: "content.tnef_contents", Note: err.Error()}
		}
		r.set("content.tnef_contents", rel)
		return Row{Status: Mapped, Key: "content.tnef_contents", Note: "ruleset copied to " + rel}
	}
	v := strings.ToLower(strings.TrimSpace(o.Value))
	switch v {
	case "no", "add", "replace":
		r.set("content.tnef_contents", v)
		return Row{Status: Mapped, Key: "content.tnef_contents", Note: "only when every file of the winmail.dat passed the checks"}
	}
	return Row{Status: Unsupported, Key: "content.tnef_contents", Note: fmt.Sprintf("%q: use no, add or replace", o.Value)}
}

var receivedIP mapper = func(r *Result, o *Option) Row {
	v := strings.ToLower(strings.TrimSpace(o.Value))
	n := int64(0)
	switch v {
	case "yes":
		n = 1
	case "no", "":
	default:
		var err error
		if n, err = integer(v); err != nil || n < 0 {
			return Row{Status: Unsupported, Key: "queue.received_ip_header", Note: fmt.Sprintf("%q: use no, yes or a number", o.Value)}
		}
	}
	r.set("queue.received_ip_header", n)
	return Row{Status: Mapped, Key: "queue.received_ip_header"}
}

var maxSpamCheckSize mapper = func(r *Result, o *Option) Row {
	row := direct("spam.max_size", kSize, false, "")(r, o)
	if row.Status == Unsupported {
		return row
	}
	r.set("spam.oversize", "skip")
	row.Key = "spam.max_size, spam.oversize"
	row.Note = join(row.Note, "a larger message is not spam-checked (oversize = \"skip\"), as in MailScanner")
	return row
}
