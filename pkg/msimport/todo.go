package msimport

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// masters are the switches that turn a whole MailScanner feature off: an
// option of the feature (by name prefix) that qscan does not have changes
// nothing while its switch is off.
var masters = []struct{ prefix, master string }{
	{"watermark", "usewatermarking"}, {"addwatermark", "usewatermarking"}, {"checkwatermarks", "usewatermarking"},
	{"treatinvalidwatermarks", "usewatermarking"},
	{"mcp", "mcpchecks"}, {"highscoringmcp", "mcpchecks"}, {"nonmcp", "mcpchecks"}, {"bouncemcp", "mcpchecks"},
	{"isdefinitelymcp", "mcpchecks"}, {"isdefinitelynotmcp", "mcpchecks"}, {"definitemcp", "mcpchecks"},
	{"alwaysincludemcp", "mcpchecks"}, {"detailedmcp", "mcpchecks"}, {"includescoresinmcp", "mcpchecks"},
	{"recipientmcp", "mcpchecks"}, {"sendermcp", "mcpchecks"}, {"logmcp", "mcpchecks"}, {"firstcheck", "mcpchecks"},
	{"maxcustomspamscanner", "usecustomspamscanner"}, {"customspamscanner", "usecustomspamscanner"},
	{"attachmentszip", "zipattachments"}, {"attachmentsmintotalsizetozip", "zipattachments"},
	{"attachmentextensionsnottozip", "zipattachments"},
	{"unzip", "unzipmaximumfilesperarchive"},
	{"antiword", "addtextofdoc"},
	{"attachimagetohtmlmessageonly", "attachimagetosignature"}, {"signatureimage", "attachimagetosignature"},
	{"disarmedsubjecttext", "disarmedmodifysubject"}, {"scannedsubjecttext", "scannedmodifysubject"},
	{"highscoringspamsubjecttext", "highscoringspammodifysubject"}, {"unscannedheadervalue", "markunscannedmessages"},
	{"sql", "sqlconfig"}, {"db", "sqlconfig"},
}

// off says whether a MailScanner value turns its option off.
func off(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "no", "0", "none", "nothing", "off":
		return true
	}
	return false
}

// wasOff says whether MailScanner had an option qscan does not support
// turned off (by its value, or by its feature's switch), so that its
// absence changes nothing.
func (r *Result) wasOff(o *Option) bool {
	if off(o.Value) {
		return true
	}
	if o.Norm == "sqlconfig" || o.Norm == "sqlruleset" || o.Norm == "sqlspamassassinconfig" {
		return strings.TrimSpace(o.Value) == ""
	}
	for _, m := range masters {
		if strings.HasPrefix(o.Norm, m.prefix) && o.Norm != m.master {
			v, ok := r.conf.Get(m.master)
			return !ok || off(v)
		}
	}
	if strings.HasPrefix(o.Norm, "milter") || strings.HasPrefix(o.Norm, "msmail") {
		return r.mta() != "msmail"
	}
	for _, s := range []string{"sophos", "savid", "fpscand", "kse", "avastd", "fsecure", "monitorsforsophos", "allowedsophos"} {
		if strings.HasPrefix(o.Norm, s) {
			v, _ := r.conf.Get("virusscanners")
			return !strings.Contains(strings.ToLower(v), strings.TrimPrefix(strings.TrimPrefix(s, "monitorsfor"), "allowed"))
		}
	}
	return false
}

// ToDo lists what the postmaster must still do before qscan, with the
// configuration written to outdir, takes over from MailScanner.
func (r *Result) ToDo(outdir string) []string {
	var todo []string
	add := func(format string, a ...any) { todo = append(todo, fmt.Sprintf(format, a...)) }
	in := r.strings("queue.incoming", []string{"/var/spool/mqueue.in"})
	out := r.string("queue.outgoing", "/var/spool/mqueue")
	mta := r.string("queue.mta", "sendmail")
	add("stop MailScanner and its cron jobs (check_mailscanner, the phishing and spam list updates) before qscan starts: both would take mail from %s", strings.Join(in, " "))

	var missing []string
	for _, d := range append(append([]string{}, in...), out) {
		if mta == "exim" {
			d = filepath.Join(d, "input")
		}
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			missing = append(missing, d)
		}
	}
	if len(missing) > 0 {
		switch mta {
		case "postfix":
			add("install Postfix with MailScanner's header_checks (/^Received:/ HOLD); not there yet: %s (qscan lint fails until it is)", strings.Join(missing, ", "))
		case "exim":
			add("set up the two Exims of MailScanner's Exim layout; not there yet: %s (qscan lint fails until they are)", strings.Join(missing, ", "))
		default:
			add("create the queue directories %s, owned by the MTA as for MailScanner (qscan lint fails until they exist)", strings.Join(missing, ", "))
		}
	}
	work := r.string("queue.work_dir", "/var/spool/qscan/work")
	if tmpfs(work) {
		add("queue.work_dir %s is a tmpfs: qscan keeps its journal there, which must survive a reboot; set it to a directory on disk, e.g. /var/spool/qscan/work", work)
	}
	if q := r.string("quarantine.dir", "/var/spool/qscan/quarantine"); q != "" {
		if st, err := os.Stat(q); err == nil && st.Mode().Perm()&0o022 != 0 {
			add("chmod 0700 %s (quarantine.dir): qscan refuses a group- or world-writable quarantine", q)
		}
	}
	if k, _ := r.get("queue.kick"); k == true {
		switch mta {
		case "sendmail":
			sm := r.string("queue.sendmail", "/usr/sbin/sendmail")
			if st, err := os.Stat(sm); err != nil || st.Mode()&0o111 == 0 {
				add("install sendmail or correct queue.sendmail: the kick (queue.kick, from Delivery Method = batch) runs %s, which is not here", sm)
			}
			add("qscan kicks sendmail as its own user, not as root as MailScanner did: remove restrictqrun from sendmail's PrivacyOptions (confPRIVACY_FLAGS) or set queue.kick = false (qscan lint warns of a refused kick)")
		case "exim":
			add("qscan kicks Exim (exim -M) as its own user: put that user in the delivering Exim's admin_groups, or set queue.kick = false")
		}
	}
	if len(r.badSites) > 0 {
		add("the phishing bad-sites list in lists/ is a copy that nothing updates: name MailScanner's updated file (%s) in [phishing] bad_sites, or update the copy from cron", strings.Join(r.badSites, " "))
	}
	if sc, _ := r.get("signature.sign_clean"); sc != false && sc != nil && len(r.missingTemplates) > 0 {
		add("your signature templates (%s) are not here: qscan signs clean mail with its own; copy yours beside qscan.toml and name them in [signature] text and html", strings.Join(r.missingTemplates, ", "))
	}
	if n := len(r.Problems); n > 0 {
		add("fix by hand what the %d warning(s) above say", n)
	}
	var active []string
	for _, row := range r.Rows {
		if row.Status == Unsupported && !row.Off {
			active = append(active, row.Option)
		}
	}
	if len(active) > 0 {
		add("read the %d \"not supported\" rows MailScanner had in use (%s): each says what to do instead", len(active), shortNames(active, 6))
	}
	dst := "/etc/qscan"
	if abs, err := filepath.Abs(outdir); err == nil && abs != dst {
		add("install %s with rules/, rulesets/, lists/ beside it (its paths are relative to it), e.g. to %s", filepath.Join(outdir, "qscan.toml"), dst)
	} else {
		dst = outdir
	}
	add("test the result with its engines (clamd, spamd ...): qscan lint -c %s", filepath.Join(dst, "qscan.toml"))
	return todo
}

func shortNames(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}

// string returns the text at key, or def.
func (r *Result) string(key, def string) string {
	if v, ok := r.get(key); ok {
		if s, ok := v.(string); ok {
			return s
		}
	}
	return def
}

// strings returns the list at key, or def.
func (r *Result) strings(key string, def []string) []string {
	if v, ok := r.get(key); ok {
		if s, ok := v.([]string); ok {
			return s
		}
	}
	return def
}

// tmpfs says whether dir (or its nearest existing parent) is on a tmpfs.
func tmpfs(dir string) bool {
	const tmpfsMagic = 0x01021994
	for d := dir; ; d = filepath.Dir(d) {
		var st syscall.Statfs_t
		if err := syscall.Statfs(d, &st); err == nil {
			return st.Type == tmpfsMagic
		}
		if d == filepath.Dir(d) {
			return false
		}
	}
}
