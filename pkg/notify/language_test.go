package notify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/ruleset"
)

// A language ruleset picks each message's language among the shipped
// ones: the replacement text of a message to a .de address is German,
// to a .br address Brazilian Portuguese, to any other English.
func TestLanguageByRuleset(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "language.rules")
	os.WriteFile(rules, []byte("To:\t*.de\tde\nTo:\t*.br\tpt_br\nFromOrTo:\tdefault\ten\n"), 0o644)
	lang, err := ruleset.ParseSetting(rules, "")
	if err != nil {
		t.Fatal(err)
	}
	ts, err := LoadLanguages(os.DirFS(reportsDir), lang.Values())
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewNotifier(NotifierOptions{Templates: ts, Language: lang})
	if err != nil {
		t.Fatal(err)
	}
	for rcpt, want := range map[string]string{
		"anna@example.de":     "wurde als\ninfiziert oder gefährlich erkannt",
		"joao@example.com.br": "estava infectado ou era\nperigoso",
		"bob@example.org":     "was found to be\ninfected or dangerous",
	} {
		m := &message.Message{ID: "6AM8Fa4W008391", Envelope: message.Envelope{Sender: "a@example.net", Recipients: []string{rcpt}},
			Parts: []message.Part{{Index: 0, Parent: -1, Path: "2", Filename: "invoice.pdf.exe"}}}
		r := message.Report{Kind: message.KindVirus, Part: 0, Text: "Virus 'Eicar-Test-Signature' found in file invoice.pdf.exe"}
		got, err := n.ReplacementText(m, r)
		if err != nil || !strings.Contains(string(got), want) {
			t.Errorf("to %s: ReplacementText = %q, %v; want it to contain %q", rcpt, got, err, want)
		}
	}
}
