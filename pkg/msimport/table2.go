package msimport

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/qscan/qscan/pkg/config"
)

var idHeader mapper = func(r *Result, o *Option) Row {
	r.set("headers.add_id", strings.TrimSpace(o.Value) != "")
	return Row{Status: Changed, Key: "headers.add_id", Note: "the header is X-<org_name>-QScan-ID"}
}

// modifySubject maps "Virus Modify Subject" and its kin: "no" empties
// the tag, start and end keep it (qscan puts tags at the start).
func modifySubject(key string) mapper {
	return func(r *Result, o *Option) Row {
		switch strings.ToLower(strings.TrimSpace(o.Value)) {
		case "no":
			r.later(func() { r.set(key, "") })
			return Row{Status: Mapped, Key: key, Note: "no: the tag is empty"}
		case "end":
			return Row{Status: Changed, Key: key, Note: "qscan puts this tag at the start of the subject"}
		}
		return Row{Status: Mapped, Key: key}
	}
}

var spamSubject mapper = func(r *Result, o *Option) Row {
	v := strings.ToLower(strings.TrimSpace(o.Value))
	switch v {
	case "start", "yes":
		r.set("spam.subject_position", "start")
	case "end", "no":
		r.set("spam.subject_position", v)
	default:
		return Row{Status: Unsupported, Key: "spam.subject_position", Note: fmt.Sprintf("%q: qscan's default kept", o.Value)}
	}
	return Row{Status: Mapped, Key: "spam.subject_position"}
}

var notifySenders mapper = func(r *Result, o *Option) Row {
	if b, _ := yes(o.Value); !b {
		r.later(func() {
			for _, k := range []string{"notify.sender_viruses", "notify.sender_blocked", "notify.sender_other"} {
				r.set(k, false)
			}
		})
	}
	return Row{Status: Mapped, Key: "notify.sender_viruses, sender_blocked, sender_other", Note: "no turns the three off"}
}

var noticesTo mapper = func(r *Result, o *Option) Row {
	v := strings.TrimSpace(o.Value)
	if path, ok := r.conf.isRuleset(v); ok {
		rel, err := r.copyRuleset(path)
		if err != nil {
			return Row{Status: Unsupported, Key: "notify.postmaster", Note: err.Error()}
		}
		r.set("notify.postmaster", rel)
		return Row{Status: Mapped, Key: "notify.postmaster", Note: "ruleset copied to " + rel}
	}
	var addrs []string
	note := ""
	for _, a := range strings.Fields(v) {
		if !strings.Contains(a, "@") {
			a += "@localhost"
			note = "a bare local part gets @localhost"
		}
		addrs = append(addrs, a)
	}
	if len(addrs) > 1 {
		note = join(note, "qscan sends to the first address only: "+addrs[0])
	}
	if len(addrs) > 0 {
		r.set("notify.postmaster", addrs[0])
	}
	st := Mapped
	if note != "" {
		st = Changed
	}
	return Row{Status: st, Key: "notify.postmaster", Note: note}
}

var sendNotices mapper = func(r *Result, o *Option) Row {
	if b, _ := yes(o.Value); !b {
		r.later(func() { r.set("notify.postmaster", "") })
		return Row{Status: Mapped, Key: "notify.postmaster", Note: "no: notify.postmaster is empty"}
	}
	return Row{Status: Mapped, Key: "notify.postmaster"}
}

var hostname mapper = func(r *Result, o *Option) Row {
	v := strings.TrimSpace(o.Value)
	if strings.Contains(v, "$HOSTNAME") {
		return Row{Status: Changed, Key: "notify.hostname", Note: "$HOSTNAME: qscan names the host itself (notify.hostname empty)"}
	}
	r.set("notify.hostname", v)
	return Row{Status: Mapped, Key: "notify.hostname"}
}

// languages are qscan's template languages (etc/reports/<language>/),
// named as MailScanner names its report directories.
var languages = []string{"en", "fr", "de", "es", "it", "nl", "pt_br"}

var language mapper = func(r *Result, o *Option) Row {
	// %report-dir%/languages.conf: the language is the report directory's name.
	v := strings.TrimSpace(o.Value)
	if strings.HasSuffix(v, ".rules") {
		return Row{Status: Unsupported, Key: "notify.language", Note: "a ruleset of MailScanner language files: make notify.language a ruleset whose values are qscan's languages (" + strings.Join(languages, ", ") + ")"}
	}
	lang := strings.ToLower(filepath.Base(filepath.Dir(v)))
	for _, l := range languages {
		if lang == l {
			r.set("notify.language", lang)
			return Row{Status: Changed, Key: "notify.language", Note: "qscan's own reports and notices in " + lang + " (reports/" + lang + "/); MailScanner's templates are not used"}
		}
	}
	return Row{Status: Unsupported, Key: "notify.language", Note: fmt.Sprintf("reports in %q: qscan has %s; English kept (notify.language)", lang, strings.Join(languages, ", "))}
}

var useSpamAssassin mapper = func(r *Result, o *Option) Row {
	if b, _ := yes(o.Value); b {
		r.engines["spamd"] = true
	}
	return Row{Status: Mapped, Key: "spam.engines", Note: "spamd, SpamAssassin's daemon, on spam.spamd.address"}
}

// spamListDefs reads spam.lists.conf and copies it into lists/, named
// by spam.dnsbl.definitions.
func (r *Result) spamListDefs() (map[string]string, error) {
	p, ok := r.conf.Get("spamlistdefinitions")
	if !ok {
		p = "/etc/MailScanner/spam.lists.conf"
	}
	rel, err := r.copyFile(p, "lists", nil)
	if err != nil {
		return nil, err
	}
	r.set("spam.dnsbl.definitions", rel)
	return config.ParseSpamLists(r.Files[rel]), nil
}

var spamListDefinitions mapper = func(r *Result, o *Option) Row {
	defs, err := r.spamListDefs()
	if err != nil {
		return Row{Status: Unsupported, Note: fmt.Sprintf("could not be read: %v", err)}
	}
	rel, _ := r.get("spam.dnsbl.definitions")
	return Row{Status: Mapped, Key: "spam.dnsbl.definitions", Note: fmt.Sprintf("copied to %v (%d lists defined); Spam List and Spam Domain List name lists of it", rel, len(defs))}
}

// spamList maps "Spam List" (kind ip) and "Spam Domain List" (domain)
// to spam.dnsbl.ip_lists and domain_lists.
func spamList(kind string) mapper {
	key := "spam.dnsbl." + kind + "_lists"
	return func(r *Result, o *Option) Row {
		names := strings.Fields(o.Value)
		if len(names) == 0 {
			return Row{Status: Mapped, Key: key, Note: "none"}
		}
		defs, err := r.spamListDefs()
		if err != nil {
			return Row{Status: Unsupported, Key: key, Note: fmt.Sprintf("spam.lists.conf could not be read: %v", err)}
		}
		var use, missing []string
		for _, n := range names {
			if _, ok := defs[strings.ToLower(n)]; ok {
				use = append(use, n)
			} else {
				missing = append(missing, n)
			}
		}
		r.set(key, use)
		if len(use) > 0 {
			r.engines["dnsbl"] = true
		}
		if len(missing) > 0 {
			return Row{Status: Changed, Key: key, Note: "not in spam.lists.conf, left out: " + strings.Join(missing, ", ")}
		}
		return Row{Status: Mapped, Key: key, Note: "engine dnsbl turned on"}
	}
}

// allowDeny maps "Allow Filenames", "Deny Filetypes", "Archives: Allow
// File MIME Types" and their kin: each word becomes a rule line of a rule
// file put before the rule files of key, as MailScanner checks these
// lists before its rule files (allow first, then deny).
func allowDeny(key, verb string, mime bool) mapper {
	return func(r *Result, o *Option) Row {
		words := strings.Fields(o.Value)
		if len(words) == 0 {
			return Row{Status: Mapped, Key: key, Note: "empty"}
		}
		var b strings.Builder
		for _, w := range words {
			log := "-"
			if verb == "deny" {
				log = "Blocked by " + o.Key
			}
			if mime {
				fmt.Fprintf(&b, "%s\t-\t%s\t%s\t%s\n", verb, w, log, log)
			} else {
				fmt.Fprintf(&b, "%s\t%s\t%s\t%s\n", verb, w, log, log)
			}
		}
		rel := "rules/" + strings.ReplaceAll(key[len("content."):], "_", "-") + "." + verb + ".conf"
		r.Files[rel] = append(r.Files[rel], b.String()...)
		r.later(func() { r.prepend(key, rel, verb) })
		return Row{Status: Changed, Key: key, Note: "turned into rule lines in " + rel + ", checked before the rule files"}
	}
}

// prepend puts rule file rel before the rule files of key: allow files
// first, then deny files. A ruleset there cannot take it: the import
// then says so in Problems.
func (r *Result) prepend(key, rel, verb string) {
	cur, _ := r.get(key)
	list, ok := cur.([]string)
	if !ok && cur != nil {
		r.Problems = append(r.Problems, fmt.Errorf("%s is a ruleset: add %s to the rule files it names by hand", key, rel))
		return
	}
	if len(list) == 0 {
		r.Problems = append(r.Problems, fmt.Errorf("%s names no rule files: %s alone replaces qscan's shipped rules; add the rule files you want after it", key, rel))
	}
	out := []string{}
	if verb == "deny" {
		// after the allow files already put first
		i := 0
		for i < len(list) && strings.HasSuffix(list[i], ".allow.conf") {
			i++
		}
		out = append(append(append(out, list[:i]...), rel), list[i:]...)
	} else {
		out = append([]string{rel}, list...)
	}
	r.set(key, out)
}
