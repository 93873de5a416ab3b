package main

import (
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/message"
)

// rspamdCorpus is rspamd's test messages (see /work/shared/corpus).
const rspamdCorpus = "/work/shared/corpus/mime/rspamd"

// notPhishing are the fixtures whose name says phishing but which are
// no phishing link by qscan's rules, and why.
var notPhishing = map[string]string{
	// rspamd's test of a phishing-looking newsletter: its links say
	// "Verify Now", "click here" or hold a logo, no host, and lead to
	// phishing-site.evil, on no bad-site list (.evil is no top-level
	// domain): nothing a link says differs from where it leads.
	"html_phishing.eml": "link texts name no host; target on no bad-site list",
	// rspamd's forged-sender tests (two From fields, a From with a source
	// route, From and Sender that differ): a header trick, no link at all.
	// qscan reports the duplicate From as a duplicate header.
	"phish_sender.eml":  "forged sender, no link",
	"phish_sender2.eml": "forged sender, no link",
	"phish_sender3.eml": "forged sender, no link",
	"phish_sender4.eml": "forged sender, no link",
	"phish_sender5.eml": "forged sender, no link",
	"phish_sender6.eml": "forged sender, no link",
}

// unwritable are the fixtures `qscan scan -o` cannot write as a queue
// file: a header line that is no field ("From" folded before its colon,
// a boundary line in the header), which a new sendmail qf cannot hold.
// The queue path edits the MTA's own control file instead.
var unwritable = map[string]bool{"fws_fn.eml": true, "phish_sender2.eml": true, "phish_sender4.eml": true}

// TestRspamdCorpus runs every message of rspamd's corpus through the
// checks as `qscan scan` runs them, with the shipped configuration: none
// panics or fails, each is written as it would be delivered (scan -o), and every fixture whose name says phishing gets a
// phishing report (but those listed in notPhishing, which get none).
func TestRspamdCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(rspamdCorpus, "*.eml"))
	if len(files) == 0 {
		t.Skipf("corpus %s is absent", rspamdCorpus)
	}
	c, _ := shippedConfig(t, "")
	log := logrus.New()
	log.SetOutput(io.Discard)
	chk, err := scanChecker(c, log)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			res, write := scanFile(chk, f)
			if res.Verdict == message.VerdictError {
				t.Fatalf("%s: error %s", name, res.Error)
			}
			if err := write(filepath.Join(t.TempDir(), "out.eml")); err != nil && !unwritable[name] {
				t.Errorf("%s: writing the delivered message: %v", name, err)
			}
			phish := 0
			for _, r := range res.Reports {
				if r.Kind == message.KindPhishing {
					phish++
				}
			}
			t.Logf("%s: %s, %d phishing reports", name, res.Verdict, phish)
			if !strings.Contains(strings.ToLower(name), "phish") {
				return
			}
			if why, ok := notPhishing[name]; ok {
				if phish > 0 {
					t.Errorf("%s: listed as no phishing (%s), got %d phishing reports", name, why, phish)
				}
				return
			}
			if phish == 0 {
				t.Errorf("%s: no phishing report: %+v", name, res.Reports)
			}
		})
	}
}
