package policy

import (
	"regexp"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/spam"
)

func settings() Settings {
	return Settings{
		DeliverCleaned:  true,
		Silent:          []*regexp.Regexp{regexp.MustCompile(`(?i)^Klez`)},
		SpamActions:     acts("deliver", `header "X-Spam-Status: Yes"`),
		HighSpamActions: acts("store"),
		HamActions:      acts("deliver"),
		CleanValue:      "Found to be clean", InfectedValue: "Found to be infected", NotCleanValue: "Found to be not clean",
	}
}

func msg(reports ...message.Report) *message.Message {
	return &message.Message{
		Parts:   []message.Part{{Index: 0, MIMEPath: "1"}, {Index: 1, MIMEPath: "2"}, {Index: 2, Parent: 1, MIMEPath: "2"}},
		Reports: reports,
	}
}

func TestDecide(t *testing.T) {
	virus := message.Report{Kind: message.KindVirus, Part: 2, Name: "Eicar-Test-Signature", Text: "Virus 'Eicar-Test-Signature' found in file a.zip/eicar.com", Action: message.ActionReplace}
	for _, tc := range []struct {
		name     string
		m        *message.Message
		s        func(*Settings)
		want     message.Verdict
		deliver  bool
		whole    bool
		replaced []string // MIME paths
		postmstr bool
	}{
		{name: "clean", m: msg(), want: "clean", deliver: true},
		{name: "virus in archive member replaces the carrying attachment", m: msg(virus), want: "infected", deliver: true, replaced: []string{"2"}, postmstr: true},
		{name: "deliver_cleaned off", m: msg(virus), s: func(s *Settings) { s.DeliverCleaned = false }, want: "infected", whole: true, postmstr: true},
		{name: "local sender infected", m: msg(virus), s: func(s *Settings) { s.QuarantineWholeFromLocal, s.LocalSender = true, true }, want: "infected", whole: true, postmstr: true},
		{name: "silent virus", m: msg(message.Report{Kind: message.KindVirus, Part: 1, Name: "Klez.H", Text: "Klez", Action: message.ActionReplace}), want: "silent", whole: true},
		{name: "filename deny", m: msg(message.Report{Kind: message.KindFilename, Part: 1, Text: "Filename: x.exe", Action: message.ActionReplace}), want: "blocked", deliver: true, replaced: []string{"2"}, postmstr: true},
		{name: "whole-message report without part", m: msg(message.Report{Kind: message.KindSize, Part: -1, Text: "Message too large", Action: message.ActionReplace}), want: "blocked", whole: true, postmstr: true},
		{name: "explicit quarantine", m: msg(message.Report{Kind: message.KindContent, Part: 0, Text: "partial", Action: message.ActionQuarantine}), want: "blocked", whole: true, postmstr: true},
		{name: "informational report", m: msg(message.Report{Kind: message.KindContent, Part: 0, Text: "macros", Action: message.ActionNone}), want: "clean", deliver: true},
		{name: "virus without action is replaced", m: msg(message.Report{Kind: message.KindVirus, Part: 1, Name: "X", Text: "Virus X"}), want: "infected", deliver: true, replaced: []string{"2"}, postmstr: true},
		{name: "error without part holds whole", m: msg(message.Report{Kind: message.KindError, Part: -1, Text: "unparsable", Action: message.ActionReplace}), want: "blocked", whole: true, postmstr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := settings()
			if tc.s != nil {
				tc.s(&s)
			}
			d := Decide(tc.m, s)
			var paths []string
			for _, r := range d.Replace {
				paths = append(paths, r.MIMEPath)
			}
			if d.Verdict != tc.want || d.Deliver != tc.deliver || d.QuarantineWhole != tc.whole ||
				strings.Join(paths, ",") != strings.Join(tc.replaced, ",") || d.NotifyPostmaster != tc.postmstr {
				t.Errorf("Decide = verdict %q deliver %v whole %v replace %v postmaster %v; want %q %v %v %v %v",
					d.Verdict, d.Deliver, d.QuarantineWhole, paths, d.NotifyPostmaster, tc.want, tc.deliver, tc.whole, tc.replaced, tc.postmstr)
			}
			if d.Deliver && len(d.Replace) > 0 && !d.QuarantineParts {
				t.Error("replaced parts are not quarantined")
			}
		})
	}
}

func TestReplaceWhole(t *testing.T) {
	s := settings()
	s.ReplaceWhole = true
	m := msg(message.Report{Kind: message.KindSize, Part: -1, Text: "Message is too large", Action: message.ActionQuarantine})
	d := Decide(m, s)
	if !d.Deliver || d.QuarantineWhole || len(d.Replace) != 1 || d.Replace[0].Part != -1 || !d.QuarantineParts {
		t.Errorf("Decide with replace_whole = %+v", d)
	}
	s.ReplaceWhole = false
	if d := Decide(m, s); d.Deliver || !d.QuarantineWhole {
		t.Errorf("Decide without replace_whole = %+v", d)
	}
}

func TestUnscannableDelivered(t *testing.T) {
	s := settings()
	s.UnscannedValue = "Not scanned: too large"
	m := msg(message.Report{Kind: message.KindError, Part: 1, Engine: "clamd", Text: "file x was too large to be scanned"})
	d := Decide(m, s)
	if !d.Deliver || d.HeaderValue != "Not scanned: too large" || len(d.Replace) != 0 {
		t.Errorf("Decide = deliver %v header %q replace %v", d.Deliver, d.HeaderValue, d.Replace)
	}
}

func TestDecideSpam(t *testing.T) {
	for _, tc := range []struct {
		level   message.SpamLevel
		want    message.Verdict
		deliver bool
		store   bool
		headers int
	}{
		{"ham", "clean", true, false, 0},
		{"spam", "spam", true, false, 1},
		{"high", "high-spam", false, true, 0},
	} {
		m := msg()
		m.Spam = &message.SpamResult{Level: tc.level, Score: 7, Required: 5}
		d := Decide(m, settings())
		if d.Verdict != tc.want || d.Deliver != tc.deliver || d.StoreSpam != tc.store || len(d.Headers) != tc.headers {
			t.Errorf("level %s: Decide = %q deliver %v store %v headers %v", tc.level, d.Verdict, d.Deliver, d.StoreSpam, d.Headers)
		}
	}
	m := msg()
	m.Spam = &message.SpamResult{Level: "spam"}
	s := settings()
	s.SpamActions = acts("forward spam@example.org", "delete")
	if d := Decide(m, s); !d.Deliver || !d.ForwardOnly || len(d.Forward) != 1 || d.Forward[0] != "spam@example.org" {
		t.Errorf("forward+delete: %+v", d)
	}
	s.SpamActions = acts("deliver", "forward copy@example.org")
	if d := Decide(m, s); !d.Deliver || d.ForwardOnly || len(d.Forward) != 1 {
		t.Errorf("deliver+forward: %+v", d)
	}
}

// A filename rule with an address list sends the message to those
// addresses instead of its recipients (MailScanner's filename rules).
func TestDecideRedirect(t *testing.T) {
	note := message.Report{Kind: message.KindFilename, Part: 1, Text: "Filename: x.cab: redirected", Redirect: []string{"b@example.org", "a@example.org"}}
	deny := message.Report{Kind: message.KindFilename, Part: 1, Text: "Filename: x.exe", Action: message.ActionReplace, Redirect: []string{"c@example.org"}}
	for _, tc := range []struct {
		name    string
		m       *message.Message
		verdict message.Verdict
		forward []string
	}{
		{"address list only", msg(note), "clean", []string{"a@example.org", "b@example.org"}},
		{"deny with addresses", msg(deny), "blocked", []string{"c@example.org"}},
	} {
		d := Decide(tc.m, settings())
		if d.Verdict != tc.verdict || !d.Deliver || !d.ForwardOnly || strings.Join(d.Forward, ",") != strings.Join(tc.forward, ",") {
			t.Errorf("%s: Decide = verdict %s deliver %v forward-only %v to %v; want %s, delivered only to %v",
				tc.name, d.Verdict, d.Deliver, d.ForwardOnly, d.Forward, tc.verdict, tc.forward)
		}
	}
}

// acts parses a spam action list, as the configuration is parsed.
func acts(words ...string) message.SpamActions {
	as, err := spam.ParseActions(strings.Join(words, " "))
	if err != nil {
		panic(err)
	}
	return as
}

// TestDecideRename: a rename report delivers the part under its new
// name (not a block, no postmaster report, said in the reason); a part
// that is replaced anyway is not renamed.
func TestDecideRename(t *testing.T) {
	ren := message.Report{Kind: message.KindFilename, Part: 0, Text: "Filename: a.pps: renamed to a.ppt", Action: message.ActionRename, Rename: "a.ppt"}
	d := Decide(msg(ren), settings())
	if d.Verdict != message.VerdictClean || !d.Deliver || len(d.Replace) != 0 || d.NotifyPostmaster || d.QuarantineParts {
		t.Errorf("Decide(rename) = %+v, want clean, delivered, nothing replaced", d)
	}
	if len(d.Rename) != 1 || d.Rename[0].MIMEPath != "1" || d.Rename[0].Rename != "a.ppt" {
		t.Errorf("Decide(rename).Rename = %+v, want part 1 as a.ppt", d.Rename)
	}
	if !strings.Contains(d.Reason, "renamed to a.ppt") {
		t.Errorf("Decide(rename).Reason = %q, want the rename", d.Reason)
	}
	deny := message.Report{Kind: message.KindVirus, Part: 0, Name: "X", Text: "Virus X", Action: message.ActionReplace}
	if d := Decide(msg(ren, deny), settings()); len(d.Rename) != 0 || len(d.Replace) != 1 {
		t.Errorf("Decide(rename+virus) = rename %+v replace %+v, want the replacement only", d.Rename, d.Replace)
	}
}

// TestDecideSilentOptions: a non-forging name is never silent (the
// message is cleaned and reported); deliver_silent delivers a silent
// virus's message cleaned, still without a postmaster report.
func TestDecideSilentOptions(t *testing.T) {
	klez := message.Report{Kind: message.KindVirus, Part: 1, Name: "Klez.H", Text: "Klez", Action: message.ActionReplace}
	s := settings()
	if d := Decide(msg(klez), s); d.Verdict != message.VerdictSilent || d.Deliver {
		t.Fatalf("silent virus: %+v, want silent, not delivered", d)
	}
	s.NonForging = []*regexp.Regexp{regexp.MustCompile(`(?i)klez\.h`)}
	if d := Decide(msg(klez), s); d.Verdict != message.VerdictInfected || !d.Deliver || !d.NotifyPostmaster || len(d.Replace) != 1 {
		t.Errorf("non-forging: %+v, want infected, cleaned, postmaster told", d)
	}
	flagged := klez
	flagged.Silent = true // the engine stage said silent: non-forging still wins
	if d := Decide(msg(flagged), s); d.Verdict != message.VerdictInfected {
		t.Errorf("non-forging over the engine's silent flag: %s", d.Verdict)
	}
	s = settings()
	s.DeliverSilent = true
	if d := Decide(msg(klez), s); !d.Deliver || d.NotifyPostmaster || len(d.Replace) != 1 || d.QuarantineWhole {
		t.Errorf("deliver_silent: %+v, want delivered cleaned, no postmaster report", d)
	}
}

// TestDecideSpamVirus: a virus name listed as spam is no virus: the part
// stays, the message is spam and gets the spam actions.
func TestDecideSpamVirus(t *testing.T) {
	junk := message.Report{Kind: message.KindVirus, Part: 1, Name: "Sanesecurity.Junk.1234.UNOFFICIAL", Text: "Virus Junk", Action: message.ActionReplace}
	s := settings()
	s.SpamVirus = SpamVirusMatcher([]string{"Sane*UNOFFICIAL", "HTML/*"})
	d := Decide(msg(junk), s)
	if d.Verdict != message.VerdictSpam || len(d.Replace) != 0 || d.NotifyPostmaster || d.Spam == nil || d.Spam.Level != message.SpamSpam {
		t.Fatalf("spam-virus: %+v, want spam, nothing replaced", d)
	}
	if len(d.Headers) == 0 || d.Headers[0][0] != "X-Spam-Status" {
		t.Errorf("spam-virus: the spam actions did not apply: %+v", d.Headers)
	}
	if got := d.Spam.Rules; len(got) != 1 || !strings.Contains(got[0].Name, "Sanesecurity.Junk") {
		t.Errorf("spam rules = %+v", got)
	}
	// The match is on the whole name and case-sensitive, as MailScanner's.
	for _, name := range []string{"sanesecurity.Junk.UNOFFICIAL", "Sanesecurity.Junk.UNOFFICIAL.x", "W32/HTML/x"} {
		if s.SpamVirus(name) {
			t.Errorf("SpamVirus(%q) = true", name)
		}
	}
	other := message.Report{Kind: message.KindVirus, Part: 1, Name: "Win.Trojan.X", Text: "Virus X", Action: message.ActionReplace}
	if d := Decide(msg(junk, other), s); d.Verdict != message.VerdictInfected || len(d.Replace) != 1 {
		t.Errorf("spam-virus beside a real virus: %+v", d)
	}
}

// TestDecideArchiveTo: the archive addresses get a copy of a delivered
// message, none of a message kept back or redirected.
func TestDecideArchiveTo(t *testing.T) {
	s := settings()
	s.ArchiveTo = []string{"archive@example.com"}
	if d := Decide(msg(), s); !d.Deliver || d.ForwardOnly || len(d.Forward) != 1 || d.Forward[0] != "archive@example.com" {
		t.Errorf("clean: %+v, want delivered with a copy to the archive", d)
	}
	whole := message.Report{Kind: message.KindContent, Part: 0, Text: "partial", Action: message.ActionQuarantine}
	if d := Decide(msg(whole), s); len(d.Forward) != 0 {
		t.Errorf("kept back: forward %v, want none", d.Forward)
	}
}
