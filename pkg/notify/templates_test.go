package notify

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/qscan/qscan/internal/golden"
)

const reportsDir = "../../etc/reports"

func load(t *testing.T, lang string) *Templates {
	t.Helper()
	tm, err := Load(reportsDir, lang)
	if err != nil {
		t.Fatalf("Load(%s, %s): %v", reportsDir, lang, err)
	}
	return tm
}

// TestRenderShipped renders every shipped template in both languages with
// the sample data, compares it with testdata/render/<lang>/<name>.golden
// and checks the lines that carry the information.
func TestRenderShipped(t *testing.T) {
	keyLines := map[string][]string{
		Postmaster:      {": alice@example.net", ": bob@example.org, carol@example.org", ": invoice", ": 6AM8Fa4W008391 <inv-1@example.net>", ": 192.0.2.7", ": Virus 'Eicar-Test-Signature' found in file invoice.pdf.exe", ": /var/spool/qscan/quarantine/20250602/6AM8Fa4W008391", "\n Subject: invoice\n"},
		SenderVirus:     {"bob@example.org, carol@example.org", "invoice.pdf.exe", "Eicar-Test-Signature"},
		SenderFilename:  {"bob@example.org, carol@example.org", "invoice.pdf.exe"},
		SenderError:     {"bob@example.org", "invoice"},
		DeletedVirus:    {"invoice.pdf.exe", "   Virus 'Eicar-Test-Signature'", "mx1.example.org", "/var/spool/qscan/quarantine/20250602", "6AM8Fa4W008391", "yoursite"},
		DeletedFilename: {"invoice.pdf.exe", "   Virus", "/var/spool/qscan/quarantine/20250602"},
		DeletedFiletype: {"invoice.pdf.exe", "   Virus"},
		DeletedSize:     {"invoice.pdf.exe", "   Virus"},
		DeletedContent:  {"invoice.pdf.exe", "   Virus"},
		InlineWarning:   {"(invoice.pdf.exe)", "VirusWarning.txt"},
		SpamNotify:      {"alice@example.net", "bob@example.org, carol@example.org", "Cheap watches", "mx1.example.org", "6AM8Fa4W008391", "   spam, SpamAssassin (not cached, score=12.3"},
		SpamBounce:      {"bob@example.org, carol@example.org", "Cheap watches", "postmaster@example.org", "   spam, SpamAssassin (not cached, score=12.3"},
	}
	labels := map[string][]string{
		"en":    {"     Sender: alice", "  Recipient: bob", "    Subject: invoice", "     Report: Virus"},
		"fr":    {"  Expéditeur : alice", "Destinataire : bob", "       Objet : invoice", "     Rapport : Virus"},
		"de":    {"      Absender: alice", "     Empfänger: bob", "       Betreff: invoice", "       Meldung: Virus"},
		"es":    {"   Remitente: alice", "Destinatario: bob", "      Asunto: invoice", "     Informe: Virus"},
		"it":    {"    Mittente: alice", "Destinatario: bob", "     Oggetto: invoice", "    Rapporto: Virus"},
		"nl":    {"   Afzender: alice", "  Ontvanger: bob", "  Onderwerp: invoice", "    Melding: Virus"},
		"pt_br": {"   Remetente: alice", "Destinatário: bob", "     Assunto: invoice", "   Relatório: Virus"},
	}
	subjects := map[string]map[string]string{
		"en": {Postmaster: "Warning: E-mail viruses detected", SenderVirus: "Warning: E-mail viruses detected",
			SpamNotify: "{Spam not delivered} Cheap watches", SpamBounce: "{Bounce} Unsolicited e-mail rejected"},
		"fr": {Postmaster: "Attention : virus détectés dans des courriels",
			SpamNotify: "{Spam non distribué} Cheap watches", SpamBounce: "{Rejet} Courriel indésirable refusé"},
		"de":    {Postmaster: "Warnung: Viren in E-Mail gefunden", SpamNotify: "{Spam nicht zugestellt} Cheap watches"},
		"es":    {Postmaster: "Aviso: virus detectados en el correo", SpamNotify: "{Spam no entregado} Cheap watches"},
		"it":    {Postmaster: "Attenzione: virus rilevati nella posta", SpamNotify: "{Spam non consegnato} Cheap watches"},
		"nl":    {Postmaster: "Waarschuwing: virussen in e-mail gevonden", SpamNotify: "{Spam niet bezorgd} Cheap watches"},
		"pt_br": {Postmaster: "Aviso: vírus detectados em e-mail", SpamNotify: "{Spam não entregue} Cheap watches"},
	}
	for _, lang := range shippedLanguages(t) {
		if _, ok := labels[lang]; !ok {
			t.Errorf("language %s: add its postmaster report labels to this test", lang)
		}
		tm := load(t, lang)
		for _, name := range Names() {
			got, err := tm.Render(name, sample(name))
			if err != nil {
				t.Errorf("%s Render(%s): %v", lang, name, err)
				continue
			}
			for _, k := range keyLines[name] {
				if !bytes.Contains(got, []byte(k)) {
					t.Errorf("%s Render(%s) lacks %q:\n%s", lang, name, k, got)
				}
			}
			if bytes.Contains(got, []byte("{{")) || bytes.Contains(got, []byte("<no value>")) {
				t.Errorf("%s Render(%s) left template text:\n%s", lang, name, got)
			}
			if name == Postmaster {
				for _, k := range labels[lang] {
					if !bytes.Contains(got, []byte(k)) {
						t.Errorf("%s Render(%s) lacks %q", lang, name, k)
					}
				}
			}
			golden.Check(t, filepath.Join("testdata/render", lang, name+".golden"), got)
			if needsSubject(name) {
				s, err := tm.Subject(name, sample(name))
				if err != nil || s == "" || strings.ContainsAny(s, "\r\n") {
					t.Errorf("%s Subject(%s) = %q, %v", lang, name, s, err)
				}
				if want, ok := subjects[lang][name]; ok && s != want {
					t.Errorf("%s Subject(%s) = %q, want %q", lang, name, s, want)
				}
			}
		}
	}
}

// shippedLanguages lists the directories of etc/reports.
func shippedLanguages(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(reportsDir)
	if err != nil {
		t.Fatal(err)
	}
	var langs []string
	for _, e := range entries {
		if e.IsDir() {
			langs = append(langs, e.Name())
		}
	}
	return langs
}

// TestLanguagesComplete: every shipped language has every template that
// English has (a missing one would silently fall back to English), and
// nothing else; and the languages the project promises are there.
func TestLanguagesComplete(t *testing.T) {
	names := func(lang string) []string {
		files, _ := filepath.Glob(filepath.Join(reportsDir, lang, "*.txt"))
		var out []string
		for _, f := range files {
			out = append(out, filepath.Base(f))
		}
		return out
	}
	en := names("en")
	if len(en) != len(Names()) {
		t.Errorf("en has %d templates, the package knows %d", len(en), len(Names()))
	}
	langs := shippedLanguages(t)
	for _, want := range []string{"en", "fr", "de", "es", "it", "nl", "pt_br"} {
		if !slices.Contains(langs, want) {
			t.Errorf("language %s is not shipped", want)
		}
	}
	for _, lang := range langs {
		if got := names(lang); !slices.Equal(got, en) {
			t.Errorf("%s templates = %v, want those of en: %v", lang, got, en)
		}
	}
}

// shipped copies the shipped en templates into a map FS, for variations.
func shipped(t *testing.T) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	files, _ := filepath.Glob(filepath.Join(reportsDir, "en", "*.txt"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fsys["en/"+filepath.Base(f)] = &fstest.MapFile{Data: b}
	}
	return fsys
}

func TestLoadFallsBackToEnglish(t *testing.T) {
	fsys := shipped(t)
	fsys["de/inline.warning.txt"] = &fstest.MapFile{Data: []byte("Warnung: ({{.Filename}}) entfernt.\n")}
	tm, err := LoadFS(fsys, "de")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := tm.Render(InlineWarning, sample(InlineWarning))
	if string(got) != "Warnung: (invoice.pdf.exe) entfernt.\n" {
		t.Errorf("de inline warning = %q", got)
	}
	got, _ = tm.Render(DeletedVirus, sample(DeletedVirus))
	if !bytes.Contains(got, []byte("This is a message from")) {
		t.Errorf("de deleted.virus did not fall back to en: %q", got)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(fstest.MapFS)
		lang  string
		wants []string
	}{
		{"syntax errors in two files", func(f fstest.MapFS) {
			f["en/deleted.size.txt"] = &fstest.MapFile{Data: []byte("{{if .Filename}}unclosed")}
			f["en/deleted.virus.txt"] = &fstest.MapFile{Data: []byte("{{.Filename")}
		}, "en", []string{"deleted.size.txt", "deleted.virus.txt"}},
		{"unknown field", func(f fstest.MapFS) {
			f["en/sender.virus.txt"] = &fstest.MapFile{Data: []byte(`{{define "subject"}}x{{end}}{{.NoSuchField}}`)}
		}, "en", []string{"sender.virus.txt", "NoSuchField"}},
		{"no subject", func(f fstest.MapFS) {
			f["en/postmaster.report.txt"] = &fstest.MapFile{Data: []byte("body only")}
		}, "en", []string{"postmaster.report.txt", "subject"}},
		{"missing everywhere", func(f fstest.MapFS) { delete(f, "en/deleted.content.txt") }, "en", []string{"deleted.content.txt"}},
		{"no such language", func(fstest.MapFS) {}, "xx", []string{"xx"}},
		{"path in language", func(fstest.MapFS) {}, "../en", []string{"bad language"}},
	}
	for _, tt := range tests {
		fsys := shipped(t)
		tt.edit(fsys)
		_, err := LoadFS(fsys, tt.lang)
		if err == nil {
			t.Errorf("%s: LoadFS succeeded", tt.name)
			continue
		}
		for _, w := range tt.wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not name %q", tt.name, err, w)
			}
		}
	}
}

func TestRenderBounded(t *testing.T) {
	tm := load(t, "en")
	tm.MaxBytes = 500
	d := sample(DeletedVirus).(ReplacementData)
	d.Report = strings.Repeat("x", 600)
	if _, err := tm.Render(DeletedVirus, d); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Render(600-byte report, MaxBytes 500) error = %v, want ErrTooLarge", err)
	}
	if _, err := tm.Render("no.such", d); !errors.Is(err, ErrNoTemplate) {
		t.Errorf("Render(no.such) error = %v, want ErrNoTemplate", err)
	}
}

// TestSpamNotifyNotKept checks the recipient spam notice when no copy was
// kept: it must not promise a release.
func TestSpamNotifyNotKept(t *testing.T) {
	for _, tt := range []struct{ lang, kept, notKept string }{
		{"en", "kept in quarantine", "It was not kept"},
		{"fr", "conservé en quarantaine", "pas été conservé"},
	} {
		tm := load(t, tt.lang)
		d := sample(SpamNotify).(SenderData)
		got, err := tm.Render(SpamNotify, d)
		if err != nil || !bytes.Contains(got, []byte(tt.kept)) || bytes.Contains(got, []byte(tt.notKept)) {
			t.Errorf("%s Render(spam.notify, quarantined) = %q, %v; want %q", tt.lang, got, err, tt.kept)
		}
		d.Quarantine = ""
		got, err = tm.Render(SpamNotify, d)
		if err != nil || bytes.Contains(got, []byte(tt.kept)) || !bytes.Contains(got, []byte(tt.notKept)) {
			t.Errorf("%s Render(spam.notify, not kept) = %q, %v; want %q", tt.lang, got, err, tt.notKept)
		}
	}
}
