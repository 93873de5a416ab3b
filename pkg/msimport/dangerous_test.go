package msimport

import (
	"reflect"
	"strings"
	"testing"
)

// TestImportDangerous: MailScanner's phishing net, web bug, signature
// and external warning options become qscan's [phishing],
// [content.html] and [signature], with their lists, rulesets and
// templates copied, and the result loads.
func TestImportDangerous(t *testing.T) {
	res, c := importAndLoad(t, copyTree(t, "testdata/dangerous"))
	rows := map[string]Row{}
	for _, row := range res.Rows {
		rows[row.Option] = row
	}
	for opt, want := range map[string]Status{
		"Find Phishing Fraud": Mapped, "Also Find Numeric Phishing": Mapped, "Use Stricter Phishing Net": Changed,
		"Highlight Phishing Fraud": Changed, "Highlight Mailto Phishing": Mapped, "Phishing Safe Sites File": Mapped,
		"Phishing Bad Sites File": Mapped, "Phishing Modify Subject": Mapped, "Phishing Subject Text": Mapped,
		"Allow WebBugs": Mapped, "Ignored Web Bug Filenames": Mapped, "Known Web Bug Servers": Mapped,
		"Web Bug Replacement": Mapped, "Convert Dangerous HTML To Text": Mapped, "Sign Clean Messages": Mapped,
		"Inline HTML Signature": Mapped, "Inline Text Signature": Mapped, "Sign Messages Already Processed": Mapped,
		"Allow Multiple HTML Signatures": Mapped, "Dont Sign HTML If Headers Exist": Unsupported,
		"External Message Warning": Mapped, "Inline Text External Warning": Changed, "Language Strings": Changed,
		"Add Watermark": Unsupported, "Delivery Method": Mapped, "Country Sub-Domains List": Mapped,
	} {
		if got := rows[opt]; got.Status != want {
			t.Errorf("row %q = %+v, want %s", opt, got, want)
		}
	}
	for _, row := range res.Rows {
		for _, stale := range []string{"no phishing net", "not disarmed", "signing messages is not supported", "not converted"} {
			if strings.Contains(row.Note, stale) {
				t.Errorf("row %q still says %q: %s", row.Option, stale, row.Note)
			}
		}
	}
	if !rows["Add Watermark"].Off || rows["Dont Sign HTML If Headers Exist"].Off {
		t.Errorf("Add Watermark (Use Watermarking = no) should be off, Dont Sign HTML (set) not: %+v %+v", rows["Add Watermark"], rows["Dont Sign HTML If Headers Exist"])
	}
	if n := rows["Sign Clean Messages"].Note; !strings.Contains(n, "dkim_friendly") {
		t.Errorf("Sign Clean Messages does not say what dkim_friendly does: %q", n)
	}
	h := c.Content.HTML
	for _, ck := range []struct {
		name      string
		got, want any
	}{
		{"phishing.find ruleset", c.Phishing.Find.Raw, "rulesets/phishing.rules"},
		{"phishing.numeric", c.Phishing.Numeric.Plain, "no"},
		{"phishing.safe_sites", len(c.Phishing.SafeSites), 2},
		{"phishing.bad_sites", len(c.Phishing.BadSites), 1},
		{"phishing.subject_tag", c.Phishing.SubjectTag, "[Betrug?]"},
		{"web_bugs", h.WebBugs.Plain, "allow"},
		{"ignored_web_bug_files", h.IgnoredWebBugFiles, []string{"spacer", "blank.gif"}},
		{"web_bug_servers", h.WebBugServers, []string{"tracker.example", "pixel.example"}},
		{"web_bug_replacement", h.WebBugReplacement, "https://www.example.com/1x1.gif"},
		{"convert_dangerous_to_text", h.ConvertDangerous.Plain, "yes"},
		{"sign_clean", c.Signature.SignClean.Plain, "yes"},
		{"signature.text", c.Signature.Text.Plain, "signature/inline.sig.txt"},
		{"signature.html", c.Signature.HTML.Plain, "signature/inline.sig.html"},
		{"external_warning ruleset", c.Signature.ExternalWarning.Raw, "rulesets/external.message.rules"},
		{"external_warning_text", c.Signature.ExternalWarningText, "ACHTUNG: diese Nachricht kommt von aussen."},
		{"language", c.Notify.Language.Plain, "de"},
		{"kick", c.Queue.Kick, false},
	} {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %#v, want %#v", ck.name, ck.got, ck.want)
		}
	}
	if c.Phishing.Find.Rules == nil || c.Signature.ExternalWarning.Rules == nil {
		t.Error("a copied ruleset was not read as a ruleset")
	}
	if got := string(res.Files["signature/inline.sig.txt"]); got != "-- \nGeprueft von example.\n" {
		t.Errorf("text signature = %q, want the file with %%org-name%% substituted", got)
	}
	if res.Files["lists/safe1.conf"] == nil || res.Files["lists/safe2.conf"] == nil || res.Files["lists/bad.conf"] == nil {
		t.Errorf("phishing lists not copied: %v", keys(res.Files))
	}
	if res.Files["lists/country.domains.conf"] != nil {
		t.Error("the country list, which qscan does not use, was copied")
	}
}

// TestImportPhishingSubjectOff: "Phishing Modify Subject = no" (MailScanner's
// shipped value) empties qscan's phishing subject tag whatever the order.
func TestImportPhishingSubjectOff(t *testing.T) {
	res := importString(t, "Phishing Subject Text = {Fraud?}\nPhishing Modify Subject = no\nAllow WebBugs = no\n")
	if v, _ := res.get("phishing.subject_tag"); v != "" {
		t.Errorf("phishing.subject_tag = %#v, want empty", v)
	}
	if v, _ := res.get("content.html.web_bugs"); v != "disarm" {
		t.Errorf("Allow WebBugs = no gave web_bugs %#v, want disarm (web bugs cannot be blocked)", v)
	}
}

// TestImportLanguages: every language qscan has templates for is taken
// from MailScanner's report directory; others keep English.
func TestImportLanguages(t *testing.T) {
	for _, l := range []string{"en", "fr", "de", "es", "it", "nl", "pt_br"} {
		res := importString(t, "Language Strings = /usr/share/MailScanner/reports/"+l+"/languages.conf\n")
		if v, _ := res.get("notify.language"); v != l {
			t.Errorf("%s: notify.language = %#v", l, v)
		}
	}
	res := importString(t, "Language Strings = /usr/share/MailScanner/reports/cy/languages.conf\n")
	if v, ok := res.get("notify.language"); ok || res.Rows[0].Status != Unsupported {
		t.Errorf("cy: notify.language = %#v, row %+v; want unset and not supported", v, res.Rows[0])
	}
}

// importString imports a MailScanner.conf given as text.
func importString(t *testing.T, conf string) *Result {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir+"/MailScanner.conf", conf)
	res, err := Import(dir)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
