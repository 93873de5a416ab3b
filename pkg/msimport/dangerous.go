package msimport

import (
	"fmt"
	"strings"
)

// The options of MailScanner's phishing net, web bugs, signatures and
// external-sender warning, which qscan has in [phishing], [content.html]
// and [signature] (etc/qscan.toml, README "Dangerous content").

// maxTemplateBytes is the largest signature template qscan reads
// (cmd/qscan's maxSignatureBytes).
const maxTemplateBytes = 16 << 10

const dkimNote = "a DKIM-signed message gets no signature, external warning or web bug replacement unless something dangerous is disarmed in it anyway (signature.dkim_friendly, on)"

var dangerousTable = map[string]mapper{
	"findphishingfraud":       direct("phishing.find", kBool, true, ""),
	"alsofindnumericphishing": direct("phishing.numeric", kBool, true, ""),
	"usestricterphishingnet":  stricterNet,
	"highlightphishingfraud":  highlightPhishing,
	"highlighthiddenurls":     offOr("qscan does not mark links that show no address: only links whose text names another site"),
	"highlightmailtophishing": offOr("qscan checks web links only: mailto: links are never marked"),
	"phishingsafesitesfile":   siteLists("phishing.safe_sites", "links to these sites are never flagged"),
	"phishingbadsitesfile":    siteLists("phishing.bad_sites", "links to these sites are always flagged"),
	"countrysubdomainslist":   same("not needed: qscan finds registrable domains (example.co.uk) with the public suffix list built into it"),
	"phishingmodifysubject":   modifySubject("phishing.subject_tag"),
	"phishingsubjecttext":     direct("phishing.subject_tag", kStr, false, ""),

	"allowwebbugs":               webBugs,
	"webbugreplacement":          direct("content.html.web_bug_replacement", kStr, false, ""),
	"ignoredwebbugfilenames":     direct("content.html.ignored_web_bug_files", kList, false, ""),
	"knownwebbugservers":         direct("content.html.web_bug_servers", kList, false, ""),
	"convertdangeroushtmltotext": direct("content.html.convert_dangerous_to_text", kBool, true, ""),
	"disarmedmodifysubject":      offOr("disarmed HTML does not tag the subject: the reader sees \"[qscan: form removed]\" where the tag was; phishing links tag it with phishing.subject_tag"),
	"disarmedsubjecttext":        unsup("disarmed HTML does not tag the subject (see Disarmed Modify Subject)"),

	"signcleanmessages":            signClean,
	"inlinehtmlsignature":          template("signature.html"),
	"inlinetextsignature":          template("signature.text"),
	"signmessagesalreadyprocessed": signOnce("yes: qscan never signs a body that carries its signature already, whatever signed it before"),
	"allowmultiplehtmlsignatures":  signOnce("yes: qscan puts its signature on a body once (it marks its HTML signature and finds it again)"),
	"dontsignhtmlifheadersexist":   dontSignHTML,
	"attachimagetosignature":       offOr("qscan attaches no image to signatures: refer to an image on your web site in the HTML template (signature.html)"),
	"attachimagetohtmlmessageonly": unsup("qscan attaches no image to signatures (see Attach Image To Signature)"),
	"signatureimagefilename":       unsup("qscan attaches no image to signatures (see Attach Image To Signature)"),
	"signatureimageimgfilename":    unsup("qscan attaches no image to signatures (see Attach Image To Signature)"),

	"externalmessagewarning":    externalWarning,
	"inlinetextexternalwarning": externalText,
	"inlinehtmlexternalwarning": Changed.note("qscan puts the one text of signature.external_warning_text (from Inline Text External Warning) at the top of HTML bodies too"),

	"multipleheaders": Changed.note("qscan replaces its own headers that came with the message (a sender could have forged them) instead of appending; " + dkimNote),
}

// stricterNet maps Use Stricter Phishing Net: qscan compares registrable
// domains, which is MailScanner's "no".
var stricterNet mapper = func(r *Result, o *Option) Row {
	if b, err := yes(o.Value); err == nil && !b {
		return Row{Status: Mapped, Note: "qscan compares the registrable domains of the link's text and target, as MailScanner's \"no\" does"}
	}
	return Row{Status: Changed, Note: "qscan compares registrable domains (MailScanner's \"no\"): www.nasty.example.co.uk shown for www.nice.example.co.uk is not flagged, www.nasty.co.jp for www.nice.co.jp is; list sites in phishing.bad_sites to catch the first kind"}
}

// highlightPhishing maps Highlight Phishing Fraud: qscan always marks
// what it finds.
var highlightPhishing mapper = func(r *Result, o *Option) Row {
	if b, err := yes(o.Value); err == nil && !b {
		return Row{Status: Changed, Key: "phishing.find", Note: "no: qscan always marks the links it finds (a warning beside each, a banner at the top); to leave messages alone set phishing.find = no, which also stops the reports"}
	}
	return Row{Status: Mapped, Key: "phishing.find", Note: "a warning beside each link, one banner at the top (phishing.banner)"}
}

// offOr is an option qscan does not have, which changes nothing where
// MailScanner had it off.
func offOr(note string) mapper {
	return func(r *Result, o *Option) Row {
		if b, err := yes(o.Value); err == nil && !b {
			return Row{Status: Mapped, Note: "off in qscan too: " + note}
		}
		return Row{Status: Unsupported, Note: note}
	}
}

// siteLists maps the phishing site list files (space-separated names,
// never a ruleset): each is copied into lists/ and named by key.
func siteLists(key, what string) mapper {
	return func(r *Result, o *Option) Row {
		var rels []string
		for _, f := range strings.Fields(o.Value) {
			rel, err := r.copyFile(f, "lists", nil)
			if err != nil {
				return Row{Status: Unsupported, Key: key, Note: fmt.Sprintf("%s could not be read (%v): no list; name the file in %s by hand", f, err, key)}
			}
			rels = append(rels, rel)
		}
		r.set(key, rels)
		if len(rels) == 0 {
			return Row{Status: Mapped, Key: key, Note: "none"}
		}
		if key == "phishing.bad_sites" {
			r.badSites = append(r.badSites, o.Value)
		}
		return Row{Status: Mapped, Key: key, Note: fmt.Sprintf("copied to %s; %s; qscan reads a list again when it changes (phishing.sites_refresh)", strings.Join(rels, ", "), what)}
	}
}

// webBugs maps Allow WebBugs: yes is allow, disarm disarm; MailScanner
// cannot block web bugs and neither can qscan.
var webBugs mapper = func(r *Result, o *Option) Row {
	if _, ok := r.conf.isRuleset(o.Value); ok {
		row := direct("content.html.web_bugs", kStr, true, "")(r, o)
		row.Note = join(row.Note, "its values must be yes (allow) or disarm")
		return row
	}
	switch strings.ToLower(strings.TrimSpace(o.Value)) {
	case "yes", "allow":
		r.set("content.html.web_bugs", "allow")
		return Row{Status: Mapped, Key: "content.html.web_bugs", Note: "allow"}
	case "disarm":
		r.set("content.html.web_bugs", "disarm")
		return Row{Status: Mapped, Key: "content.html.web_bugs", Note: "remote images of at most 2x2 pixels, or from web_bug_servers, get web_bug_replacement; " + dkimNote}
	case "no":
		r.set("content.html.web_bugs", "disarm")
		return Row{Status: Changed, Key: "content.html.web_bugs", Note: "no: web bugs cannot be blocked (in MailScanner neither): disarmed"}
	}
	return Row{Status: Unsupported, Key: "content.html.web_bugs", Note: fmt.Sprintf("%q: use yes or disarm; qscan's default (disarm) kept", o.Value)}
}

var signClean mapper = func(r *Result, o *Option) Row {
	row := direct("signature.sign_clean", kBool, true, "")(r, o)
	if row.Status != Unsupported {
		row.Note = join(row.Note, "at the end of the first text and HTML bodies of clean mail (MailScanner's _SIGNATURE_ placeholder is not looked for); "+dkimNote)
	}
	return row
}

// template maps Inline Text Signature and Inline HTML Signature: the
// file is copied into signature/ (a ruleset into rulesets/, with its
// files); a file that is not there leaves qscan's own template.
func template(key string) mapper {
	return func(r *Result, o *Option) Row {
		v := strings.TrimSpace(o.Value)
		if path, ok := r.conf.isRuleset(v); ok && strings.HasSuffix(path, ".rules") {
			return direct(key, kStr, true, "")(r, o)
		}
		own := "qscan's own template in notify.language (reports/<language>/signature/) is used"
		if v == "" {
			return Row{Status: Mapped, Key: key, Note: "empty: " + own}
		}
		b, err := readSmall(r.conf.Path(v))
		if err != nil {
			r.missingTemplates = append(r.missingTemplates, v)
			return Row{Status: Changed, Key: key, Note: fmt.Sprintf("%s is not here: %s; copy yours into the output directory and name it in %s", v, own, key)}
		}
		if len(b) > maxTemplateBytes {
			return Row{Status: Unsupported, Key: key, Note: fmt.Sprintf("%s is larger than qscan's limit of %d bytes for a signature: %s", v, maxTemplateBytes, own)}
		}
		rel, err := r.copyFile(v, "signature", func(b []byte) []byte { return []byte(r.conf.Subst(string(b))) })
		if err != nil {
			return Row{Status: Unsupported, Key: key, Note: err.Error()}
		}
		r.set(key, rel)
		return Row{Status: Mapped, Key: key, Note: "copied to " + rel + " (%variables% substituted); edit it if it names MailScanner"}
	}
}

// signOnce maps the options that stop MailScanner signing a message
// twice: qscan never does; yes (sign again) is the changed meaning.
func signOnce(note string) mapper {
	return func(r *Result, o *Option) Row {
		if b, err := yes(o.Value); err == nil && !b {
			return Row{Status: Mapped, Key: "signature.sign_clean", Note: "qscan signs a body once: never one that carries its signature already"}
		}
		return Row{Status: Changed, Key: "signature.sign_clean", Note: note}
	}
}

var dontSignHTML mapper = func(r *Result, o *Option) Row {
	if strings.TrimSpace(o.Value) == "" {
		return Row{Status: Mapped, Note: "empty (off), as in qscan: replies are signed too"}
	}
	return Row{Status: Unsupported, Key: "signature.sign_clean", Note: "qscan signs the HTML of replies too: to sign less, make signature.sign_clean a ruleset (by sender or recipient)"}
}

// externalWarning maps External Message Warning, a ruleset in
// MailScanner (yes for mail from outside).
var externalWarning mapper = func(r *Result, o *Option) Row {
	row := direct("signature.external_warning", kBool, true, "")(r, o)
	if row.Status != Unsupported {
		row.Note = join(row.Note, "qscan also leaves out senders in virus.local_domains; "+dkimNote)
	}
	return row
}

// externalText maps Inline Text External Warning: the text of the file
// becomes external_warning_text, on one line.
var externalText mapper = func(r *Result, o *Option) Row {
	const key = "signature.external_warning_text"
	v := strings.TrimSpace(o.Value)
	if _, ok := r.conf.isRuleset(v); ok && strings.HasSuffix(v, ".rules") {
		return Row{Status: Unsupported, Key: key, Note: "a ruleset: qscan has one text; set it by hand"}
	}
	b, err := readSmall(r.conf.Path(v))
	if err != nil {
		return Row{Status: Changed, Key: key, Note: fmt.Sprintf("%s is not here: qscan's own text is used; set yours in %s", v, key)}
	}
	text := strings.Join(strings.Fields(r.conf.Subst(string(b))), " ")
	if text == "" || len(text) > 1000 {
		return Row{Status: Unsupported, Key: key, Note: fmt.Sprintf("%s: empty or longer than 1000 characters: qscan's own text kept", v)}
	}
	r.set(key, text)
	return Row{Status: Changed, Key: key, Note: "the file's text, on one line (qscan's warning is one plain text for text and HTML bodies)"}
}
