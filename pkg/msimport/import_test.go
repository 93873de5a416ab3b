package msimport

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/config"
)

const shippedDir = "../../../shared/reference/mailscanner-v5-etc"

// copyTree copies a configuration directory into a temporary one and
// adds a conf.d file that points the queues, work and quarantine
// directories into it, so that the result passes qscan's checks of
// them; it returns the copy.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	root := t.TempDir()
	dst := filepath.Join(root, "etc")
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"in", "out", "work", "quarantine"} {
		os.Mkdir(filepath.Join(root, d), 0o700)
	}
	os.MkdirAll(filepath.Join(dst, "conf.d"), 0o755)
	// The kick (Delivery Method = batch) runs a stub, never this
	// machine's sendmail.
	stub := filepath.Join(root, "sendmail")
	if err := os.WriteFile(stub, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	override := "Incoming Queue Dir = " + root + "/in\nOutgoing Queue Dir = " + root + "/out\n" +
		"Incoming Work Dir = " + root + "/work\nQuarantine Dir = " + root + "/quarantine\nPID file = " + root + "/work/qscan.pid\n" +
		"Sendmail2 = " + stub + "\n"
	if err := os.WriteFile(filepath.Join(dst, "conf.d", "zz-test.conf"), []byte(override), 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// importAndLoad imports dir, writes the result and loads it as qscan
// would; every option of the configuration must have a row, and every
// row that is not plainly mapped a note.
func importAndLoad(t *testing.T, dir string) (*Result, *config.Config) {
	t.Helper()
	res, err := Import(dir)
	if err != nil {
		t.Fatalf("Import(%s): %v", dir, err)
	}
	seen := map[string]bool{}
	for _, row := range res.Rows {
		seen[Norm(row.Option)] = true
		if row.Status != Mapped && row.Note == "" {
			t.Errorf("row %q (%s) has no note", row.Option, row.Status)
		}
	}
	for n, o := range res.conf.Options {
		if !seen[n] {
			t.Errorf("option %q has no row", o.Key)
		}
	}
	out := t.TempDir()
	if err := res.Write(out); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := res.Write(out); !errors.Is(err, ErrExists) {
		t.Errorf("second Write = %v, want ErrExists", err)
	}
	c, err := config.Load(filepath.Join(out, "qscan.toml"))
	if err != nil {
		toml, _ := os.ReadFile(filepath.Join(out, "qscan.toml"))
		t.Fatalf("config.Load of the imported configuration: %v\n%s", err, toml)
	}
	return res, c
}

func TestImportShipped(t *testing.T) {
	if _, err := os.Stat(shippedDir); err != nil {
		t.Skipf("MailScanner's shipped configuration is not here (%v)", err)
	}
	res, c := importAndLoad(t, copyTree(t, shippedDir))
	if len(res.Rows) < 380 {
		t.Errorf("%d rows, want one per option of the shipped MailScanner.conf (389)", len(res.Rows))
	}
	if len(res.Problems) != 0 {
		t.Errorf("problems: %v", res.Problems)
	}
	if c.Spam.RequiredScore.Plain != "6" || c.Batch.MaxMessages != 30 || c.Spam.DefinitelyNotSpam.Rules == nil ||
		len(c.Content.FilenameRules.Plain) == 0 || c.Headers.OrgName != "yoursite" {
		t.Errorf("imported values: required %q, batch %d, whitelist ruleset %v, filename rules %q, org %q",
			c.Spam.RequiredScore.Plain, c.Batch.MaxMessages, c.Spam.DefinitelyNotSpam.Rules != nil,
			c.Content.FilenameRules.Plain, c.Headers.OrgName)
	}
	// The options qscan has for what MailScanner sites rely on.
	for _, ck := range []struct {
		name      string
		got, want any
	}{
		{"notify.full_headers", c.Notify.FullHeaders.Plain, "yes"},
		{"virus.deliver_silent", c.Virus.DeliverSilent.Plain, "no"},
		{"virus.non_forging_viruses", c.Virus.NonForgingViruses, []string{"(?i)Joke/", "(?i)OF97/", "(?i)WM97/", "(?i)W97M/", "(?i)eicar"}},
		{"virus.spam_virus_names", c.Virus.SpamVirusNames, []string{"Sane*UNOFFICIAL", "HTML/*", "*Phish*"}},
		{"headers.remove", c.Headers.Remove.Plain, "X-Mozilla-Status: X-Mozilla-Status2:"},
		{"quarantine.archive_mail", c.Quarantine.ArchiveMail.Plain, ""},
		{"content.tnef_contents", c.Content.TNEFContents.Plain, "replace"},
		{"spam.oversize", c.Spam.Oversize, "skip"},
		{"spam.max_size", int64(c.Spam.MaxSize), int64(200 << 10)},
		{"limits.unpack_microsoft_documents", c.Limits.UnpackMicrosoftDocuments, true},
		{"queue.received_ip_header", c.Queue.ReceivedIPHeader, 0},
	} {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %#v, want %#v", ck.name, ck.got, ck.want)
		}
	}
	for _, f := range []string{"filename.rules.conf", "filetype.rules.conf", "archives.filename.rules.conf", "archives.filetype.rules.conf"} {
		want, _ := os.ReadFile(filepath.Join(shippedDir, f))
		if got := res.Files["rules/"+f]; string(got) != string(want) {
			t.Errorf("rules/%s is not MailScanner's file unchanged", f)
		}
	}
}

func TestImportCustom(t *testing.T) {
	res, c := importAndLoad(t, copyTree(t, "testdata/custom"))
	status := map[string]Row{}
	for _, row := range res.Rows {
		status[row.Option] = row
	}
	for opt, want := range map[string]Status{
		"Maximum Message Size": Changed, "Spam Checks": Mapped, "Spam List": Changed, "Virus Modify Subject": Mapped,
		"Languages Strings Unknown": Unsupported, "Phishing Safe Sites File": Mapped, "Maximum Processing Attempts": Changed,
	} {
		if got := status[opt]; got.Status != want {
			t.Errorf("row %q = %+v, want %s", opt, got, want)
		}
	}
	if len(res.Problems) != 2 || !strings.Contains(res.Problems[0].Error(), "Bogus Line") || !strings.Contains(res.Problems[1].Error(), "is a ruleset") {
		t.Errorf("problems = %v, want the line without = and Deny Filenames beside a ruleset", res.Problems)
	}
	type check struct {
		name      string
		got, want any
	}
	for _, ck := range []check{
		{"spam.check ruleset", c.Spam.Check.Raw, "rulesets/spam.checks.rules"},
		{"spam.required_score ruleset", c.Spam.RequiredScore.Raw, "rulesets/spam.scores.rules"},
		{"spam.high_score from conf.d", c.Spam.HighScore.Plain, "15"},
		{"filename rules ruleset", c.Content.FilenameRules.Raw, "rulesets/filename.rules"},
		{"notices ruleset", c.Notify.Postmaster.Raw, "rulesets/notices.to.rules"},
		{"max message size: the ruleset's default", int64(c.Content.MaxMessageSize), int64(10 << 20)},
		{"max attachment size", int64(c.Content.MaxAttachmentSize), int64(10 << 20)},
		{"clamd address", c.Virus.Clamd.Address, "127.0.0.1:3311"},
		{"silent viruses", c.Virus.SilentViruses, []string{"(?i)^Klez", `(?i)^Sober\*`}},
		{"attempts", c.Batch.MaxAttempts, 1000},
		{"virus subject tag off", c.Headers.VirusSubjectTag, ""},
		{"sender notices off", []bool{c.Notify.SenderBlocked, c.Notify.SenderOther, c.Notify.SenderViruses}, []bool{false, false, false}},
		{"language", c.Notify.Language.Plain, "fr"},
		{"log level from include", c.Log.Level, "debug"},
		{"spam subject from include", c.Spam.SubjectTag, "***SPAM***"},
		{"iframe", c.Content.HTML.IFrame.Plain, "block"},
		{"engines", c.Spam.Engines, []string{"spamd", "dnsbl"}},
		{"lists", c.Spam.DNSBL.Lists, []config.BLEntry{{Name: "SPAMHAUS", Zone: "zen.spamhaus.org", Kind: "ip"}, {Name: "DBL", Zone: "dbl.spamhaus.org", Kind: "domain"}}},
		{"org", c.Headers.OrgName, "example"},
		{"filetype rules", c.Content.FiletypeRules.Plain, "rules/filetype-rules.allow.conf rules/filetype-rules.deny.conf rules/filetype.rules.conf"},
	} {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %#v, want %#v", ck.name, ck.got, ck.want)
		}
	}
	if c.Spam.Check.Rules == nil || c.Content.FilenameRules.Rules == nil || c.Notify.Postmaster.Rules == nil {
		t.Error("a copied ruleset was not read as a ruleset")
	}
	fr := string(res.Files["rulesets/filename.rules"])
	if !strings.Contains(fr, "rules/lenient.filename.rules.conf") || !strings.Contains(fr, "rules/strict.filename.rules.conf") ||
		strings.Contains(fr, "/etc/MailScanner") || res.Files["rules/strict.filename.rules.conf"] == nil {
		t.Errorf("rulesets/filename.rules does not name the copied rule files:\n%s", fr)
	}
	if got := string(res.Files["rules/filetype-rules.allow.conf"]); got != "allow\t-\ttext/plain\t-\t-\n" {
		t.Errorf("Allow File MIME Types became %q", got)
	}
	if res.Files["lists/phishing.safe.sites.conf"] == nil {
		t.Error("the phishing list was not copied")
	}
}

func TestParseLines(t *testing.T) {
	in := "# comment\n%org-name% = ex # trailing\nMax  Children=5\ninclude /etc/MailScanner/conf.d/*\n\n  Spam Actions = deliver header \"X: y\"  \nno equals here\n"
	lines, err := ParseLines("f", strings.NewReader(in))
	want := []Line{{Key: "org-name", Value: "ex", Var: true, Num: 2}, {Key: "Max Children", Value: "5", Num: 3},
		{Include: "/etc/MailScanner/conf.d/*", Num: 4}, {Key: "Spam Actions", Value: `deliver header "X: y"`, Num: 6}}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("ParseLines = %+v, want %+v", lines, want)
	}
	if err == nil || !strings.Contains(err.Error(), "f:7:") {
		t.Errorf("ParseLines error = %v, want one for line 7", err)
	}
}

// TestParseLinesLimits: a line over MaxLineBytes is an error; a file of
// many short lines under MaxFileBytes is not.
func TestParseLinesLimits(t *testing.T) {
	long := "A = " + strings.Repeat("x", MaxLineBytes) + "\n"
	if _, err := ParseLines("f", strings.NewReader(long)); err == nil {
		t.Error("a line over MaxLineBytes was accepted")
	}
	ok := "A = " + strings.Repeat("x", MaxLineBytes-100) + "\n"
	if lines, err := ParseLines("f", strings.NewReader(ok)); err != nil || len(lines) != 1 {
		t.Errorf("a line under MaxLineBytes: %d lines, %v", len(lines), err)
	}
	big := strings.Repeat("A = b\n", MaxFileBytes/6+10)
	if _, err := ParseLines("f", strings.NewReader(big)); err == nil {
		t.Error("a file over MaxFileBytes was accepted")
	}
}

func TestSize(t *testing.T) {
	for in, want := range map[string]int64{"200k": 200 << 10, "100m": 100 << 20, "1g": 1 << 30, "-1": -1, "5000": 5000} {
		if got, err := size(in); err != nil || got != want {
			t.Errorf("size(%q) = %d, %v, want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "k", "12x", "99999999999999999g"} {
		if _, err := size(bad); err == nil {
			t.Errorf("size(%q) accepted", bad)
		}
	}
}

func FuzzParseLines(f *testing.F) {
	for _, s := range []string{"%a% = b\nKey = v # c\ninclude x\n", "= x\n", "%x%=%x%\n", "A: B = c\n"} {
		f.Add(s)
	}
	if b, err := os.ReadFile("testdata/custom/MailScanner.conf"); err == nil {
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, s string) {
		lines, _ := ParseLines("f", strings.NewReader(s))
		c := &Conf{Vars: map[string]string{}, Options: map[string]*Option{}}
		for _, l := range lines {
			if l.Var {
				c.Vars[l.Key] = c.Subst(l.Value)
			}
			if !l.Var && l.Include == "" && Norm(l.Key) == "" {
				t.Errorf("line %d: option %q with an empty name", l.Num, l.Key)
			}
			if len(c.Subst(l.Value)) > maxVarExpand {
				t.Errorf("line %d: substitution beyond %d bytes", l.Num, maxVarExpand)
			}
		}
	})
}
