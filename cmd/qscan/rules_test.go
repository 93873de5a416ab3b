package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const spamRules = "From:\t*@partner.example\tno\nFromOrTo:\tdefault\tyes\n"
const noticeRules = "To:\texample.org\tsecdesk@example.org\nFromOrTo:\tdefault\tpostmaster@example.com\n"

func TestLintValue(t *testing.T) {
	root, cfg := demo(t, "")
	os.WriteFile(filepath.Join(root, "spam.checks.rules"), []byte(spamRules), 0o600)
	writeCfg(t, cfg, "[spam]\ncheck = \"spam.checks.rules\"\n")
	out, code := qscan(t, "lint", "-c", cfg, "--value", "spam.check", "--from", "a@partner.example", "--to", "b@example.test")
	if code != 0 || !strings.Contains(out, "spam.check = no (") || !strings.Contains(out, "spam.checks.rules:1") {
		t.Errorf("lint --value = %d %q", code, out)
	}
	out, _ = qscan(t, "lint", "-c", cfg, "--value", "spam.check", "--from", "a@other.example", "--to", "b@example.test")
	if !strings.Contains(out, "spam.check = yes") {
		t.Errorf("lint --value for another sender = %q", out)
	}
	os.WriteFile(filepath.Join(root, "spam.checks.rules"), []byte("From:\t*@partner.example\tmaybe\nFromOrTo:\tdefault\tyes\n"), 0o600)
	out, code = qscan(t, "lint", "-c", cfg)
	if code != exitConfig || !strings.Contains(out, "spam.checks.rules:1") {
		t.Errorf("lint with a bad ruleset value = %d %q", code, out)
	}
}

// TestRulesetsAfterSIGHUP: a ruleset turning spam checks off for
// *@partner.example and sending virus notices for example.org to another
// address takes effect after SIGHUP, without a restart.
func TestRulesetsAfterSIGHUP(t *testing.T) {
	root, cfg := demo(t, "")
	os.WriteFile(filepath.Join(root, "spam.checks.rules"), []byte(spamRules), 0o600)
	os.WriteFile(filepath.Join(root, "notices.to.rules"), []byte(noticeRules), 0o600)
	var log bytes.Buffer
	cmd := exec.Command(qscanBin, "run", "-c", cfg)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	waitFile(t, filepath.Join(root, "work", "qscan.pid"))
	send := func(from, to, file string) string {
		out, _ := qscan(t, "enqueue", "-q", filepath.Join(root, "in"), "-f", from, "-r", to, file)
		qf := filepath.Join(root, "out", "qf"+strings.TrimSpace(out))
		waitFile(t, qf)
		b, _ := os.ReadFile(qf)
		return string(b)
	}
	// Before: spamd (not running here) is asked for everyone.
	if qf := send("a@partner.example", "b@example.test", "../../testdata/eml/plain.eml"); !strings.Contains(qf, "SpamCheck: not checked") {
		t.Fatalf("before reload: partner mail not spam-checked:\n%s", qf)
	}
	writeCfg(t, cfg, "[spam]\ncheck = \"spam.checks.rules\"\n[notify]\npostmaster = \"notices.to.rules\"\n")
	cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(500 * time.Millisecond)
	if qf := send("a@partner.example", "b@example.test", "../../testdata/eml/plain.eml"); strings.Contains(qf, "SpamCheck") {
		t.Errorf("after reload: partner mail still spam-checked:\n%s", qf)
	}
	if qf := send("a@other.example", "b@example.test", "../../testdata/eml/plain.eml"); !strings.Contains(qf, "SpamCheck: not checked") {
		t.Errorf("after reload: other mail not spam-checked:\n%s", qf)
	}
	eml := filepath.Join(t.TempDir(), "eicar.eml")
	os.WriteFile(eml, []byte("From: a@x.example\nTo: c@example.org\nSubject: v\n\n"+`X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`+"\n"), 0o600)
	qscan(t, "enqueue", "-q", filepath.Join(root, "in"), "-f", "a@x.example", "-r", "c@example.org", eml)
	deadline := time.Now().Add(5 * time.Second)
	found := false
	for time.Now().Before(deadline) && !found {
		m, _ := filepath.Glob(filepath.Join(root, "out", "qf*"))
		for _, f := range m {
			b, _ := os.ReadFile(f)
			if strings.Contains(string(b), "RPFD:<secdesk@example.org>") && strings.Contains(string(b), "viruses detected") {
				found = true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !found {
		t.Errorf("no virus report to secdesk@example.org in the outgoing queue\n%s", log.String())
	}
}

// TestLintValueScores: thresholds and actions can be rulesets too.
func TestLintValueScores(t *testing.T) {
	root, cfg := demo(t, "")
	os.WriteFile(filepath.Join(root, "scores.rules"), []byte("To:\t*@strict.example\t3.5\nFromOrTo:\tdefault\t5\n"), 0o600)
	os.WriteFile(filepath.Join(root, "actions.rules"), []byte("To:\t*@strict.example\tdelete\nFromOrTo:\tdefault\tdeliver header \"X-Spam-Status: Yes\"\n"), 0o600)
	writeCfg(t, cfg, "[spam]\nrequired_score = \"scores.rules\"\nspam_actions = \"actions.rules\"\n")
	out, code := qscan(t, "lint", "-c", cfg, "--value", "spam.required_score", "--from", "a@x.example", "--to", "b@strict.example")
	if code != 0 || !strings.Contains(out, "spam.required_score = 3.5") {
		t.Errorf("lint --value spam.required_score = %d %q", code, out)
	}
	out, _ = qscan(t, "lint", "-c", cfg, "--value", "spam.spam_actions", "--from", "a@x.example", "--to", "b@other.example")
	if !strings.Contains(out, `spam.spam_actions = deliver header "X-Spam-Status: Yes"`) {
		t.Errorf("lint --value spam.spam_actions = %q", out)
	}
	os.WriteFile(filepath.Join(root, "actions.rules"), []byte("To:\t*@strict.example\tdeliver explode\n"), 0o600)
	if out, code := qscan(t, "lint", "-c", cfg); code != exitConfig || !strings.Contains(out, "actions.rules:1") {
		t.Errorf("lint with a bad action in a ruleset = %d %q", code, out)
	}
}

// TestDefinitelyNotSpamRuleset: a whitelist ruleset decides before any
// engine is asked.
func TestDefinitelyNotSpamRuleset(t *testing.T) {
	root, cfg := demo(t, "")
	os.WriteFile(filepath.Join(root, "wl.rules"), []byte("From:\t*@partner.example\tyes\nFromOrTo:\tdefault\tno\n"), 0o600)
	os.WriteFile(filepath.Join(root, "bl.rules"), []byte("From:\t*@spammer.example\tyes\nFromOrTo:\tdefault\tno\n"), 0o600)
	writeCfg(t, cfg, "[spam]\ndefinitely_not_spam = \"wl.rules\"\ndefinitely_spam = \"bl.rules\"\nspam_actions = [\"deliver\"]\n")
	for _, tc := range []struct{ from, want string }{
		{"a@partner.example", `"whitelisted":true`},
		{"a@spammer.example", `"blacklisted":true`},
		{"a@other.example", `"unchecked"`},
	} {
		eml := filepath.Join(t.TempDir(), "m.eml")
		os.WriteFile(eml, []byte("From: "+tc.from+"\nTo: b@example.test\nSubject: hi\n\nhello\n"), 0o600)
		out, _ := qscan(t, "scan", "-c", cfg, "--json", eml)
		if !strings.Contains(out, tc.want) {
			t.Errorf("scan from %s = %s, want %s", tc.from, out, tc.want)
		}
	}
}

// TestLanguageRuleset: the replacement text comes in the recipient's
// language.
func TestLanguageRuleset(t *testing.T) {
	root, cfg := demo(t, "")
	os.WriteFile(filepath.Join(root, "lang.rules"), []byte("To:\t*.example.fr\tfr\nFromOrTo:\tdefault\ten\n"), 0o600)
	writeCfg(t, cfg, "[spam]\nengines = []\n[notify]\nlanguage = \"lang.rules\"\n")
	for _, tc := range []struct{ to, want string }{
		{"a@site.example.fr", "Ce message vient du filtre antivirus"},
		{"a@site.example.com", "This is a message"},
	} {
		dir := t.TempDir()
		eml, out := filepath.Join(dir, "m.eml"), filepath.Join(dir, "out.eml")
		os.WriteFile(eml, []byte("From: x@example.org\nTo: "+tc.to+"\nSubject: v\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n"+
			"--B\nContent-Type: text/plain\n\nhi\n--B\nContent-Type: application/octet-stream; name=\"e.bin\"\n\n"+
			`X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`+"\n--B--\n"), 0o600)
		if res, code := qscan(t, "scan", "-c", cfg, "-o", out, eml); code != scanBlocked { // infected, cleaned copy written
			t.Fatalf("scan: %d %s", code, res)
		}
		b, _ := os.ReadFile(out)
		if !strings.Contains(string(b), tc.want) {
			t.Errorf("to %s: replacement text lacks %q:\n%s", tc.to, tc.want, b)
		}
	}
}

// TestRuleFilesRuleset: filename rules chosen per recipient; a file
// MailScanner users already have works as a value.
func TestRuleFilesRuleset(t *testing.T) {
	root, cfg := demo(t, "")
	os.WriteFile(filepath.Join(root, "lenient.conf"), []byte("allow\t\\.exe$\t-\t-\n"), 0o600)
	os.WriteFile(filepath.Join(root, "filename.rules"), []byte("To:\t*@lenient.example\tlenient.conf\n"), 0o600)
	writeCfg(t, cfg, "[spam]\nengines = []\n[content]\nfilename_rules = \"filename.rules\"\n")
	if out, code := qscan(t, "lint", "-c", cfg); code != 0 {
		t.Fatalf("lint: %d %s", code, out)
	}
	for _, tc := range []struct{ to, want string }{
		{"a@lenient.example", `"verdict":"clean"`},
		{"a@strict.example", `"verdict":"blocked"`},
	} {
		eml := filepath.Join(t.TempDir(), "m.eml")
		os.WriteFile(eml, []byte("From: x@example.org\nTo: "+tc.to+"\nSubject: tool\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n"+
			"--B\nContent-Type: text/plain\n\nhi\n--B\nContent-Type: application/octet-stream; name=\"tool.exe\"\n\nnot really\n--B--\n"), 0o600)
		out, _ := qscan(t, "scan", "-c", cfg, "--json", eml)
		if !strings.Contains(out, tc.want) {
			t.Errorf("to %s: %s, want %s", tc.to, out, tc.want)
		}
	}
}
