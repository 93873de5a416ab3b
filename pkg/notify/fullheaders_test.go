package notify

import (
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/etc"
	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/ruleset"
)

// TestPostmasterFullHeaders: the postmaster report shows the message's
// header only where full_headers says yes for it (a ruleset here).
func TestPostmasterFullHeaders(t *testing.T) {
	reports, err := fs.Sub(etc.Reports, "reports")
	if err != nil {
		t.Fatal(err)
	}
	ts, err := LoadLanguages(reports, []string{"en"})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := ruleset.Parse("full.rules", []byte("From:\t*@partner.example\tyes\nFromOrTo:\tdefault\tno\n"), ruleset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		full   ruleset.Setting
		sender string
		want   bool
	}{
		{ruleset.Setting{Plain: "no"}, "a@partner.example", false},
		{ruleset.Setting{Plain: "yes"}, "a@other.example", true},
		{ruleset.Setting{Rules: rules}, "a@partner.example", true},
		{ruleset.Setting{Rules: rules}, "a@other.example", false},
	} {
		n, err := NewNotifier(NotifierOptions{Templates: ts, Language: ruleset.Setting{Plain: "en"},
			Postmaster: ruleset.Setting{Plain: "postmaster@example.test"}, FullHeaders: tc.full,
			Now: func() time.Time { return time.Unix(0, 0) }})
		if err != nil {
			t.Fatal(err)
		}
		x := Event{ID: "6AM876nc000001", Envelope: message.Envelope{Sender: tc.sender, Recipients: []string{"b@example.test"}},
			Header: []byte("From: " + tc.sender + "\nX-Marker: header-shown\nSubject: hi\n"), Postmaster: true,
			Reports: []message.Report{{Kind: message.KindVirus, Part: -1, Name: "Eicar", Text: "Virus Eicar"}}}
		mails, err := n.Postmaster([]Event{x})
		if err != nil || len(mails) != 1 {
			t.Fatalf("Postmaster = %d mails, %v", len(mails), err)
		}
		if got := strings.Contains(string(mails[0].Body), "X-Marker: header-shown"); got != tc.want {
			t.Errorf("full_headers %+v, sender %s: header shown = %v, want %v", tc.full, tc.sender, got, tc.want)
		}
	}
}
