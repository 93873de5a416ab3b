package notify

import (
	"fmt"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/message"
)

// bigBatch is a batch's report data: messages whose notices are huge
// (100,000 recipients, or long reports and member names) and, after
// them, another sender's virus that must be reported whatever the first
// ones did.
func bigBatch(huge func(m *message.Message), copies int) PostmasterData {
	var ns []Notice
	for i := range copies {
		id := fmt.Sprintf("6AM8Fa4W00839%d", i+1)
		m := &message.Message{ID: id, Envelope: message.Envelope{Sender: "bulk@example.org", Recipients: []string{"a@example.test"}}}
		huge(m)
		ns = append(ns, NewNotice(m, "/q/"+id, true))
	}
	m2 := &message.Message{ID: "6AM8Fa4W008399", Envelope: message.Envelope{Sender: "other@example.net", Recipients: []string{"b@example.test"}},
		Reports: []message.Report{{Kind: message.KindVirus, Part: -1, Name: "Other-Virus", Text: "Virus 'Other-Virus' found in the message"}}}
	return PostmasterData{Site: Site{Hostname: "mx1.example.org"}, Date: "Mon, 23 Nov 2026 08:00:00 +0000",
		Messages: append(ns, NewNotice(m2, "/q/6AM8Fa4W008399", false))}
}

// TestPostmasterReportShortened: a postmaster report over MaxBytes is
// shortened, with a note saying so, never dropped: the other message's
// virus is still reported. One at the limit is rendered as it is.
func TestPostmasterReportShortened(t *testing.T) {
	cases := map[string]struct {
		copies int
		huge   func(m *message.Message)
	}{
		"100,000 recipients": {1, func(m *message.Message) {
			m.Envelope.Recipients = nil
			for i := range 100000 {
				m.Envelope.Recipients = append(m.Envelope.Recipients, fmt.Sprintf("user%06d@example.test", i))
			}
			m.Reports = []message.Report{{Kind: message.KindVirus, Part: -1, Name: "Bulk-Virus", Text: "Virus 'Bulk-Virus' found in the message"}}
		}},
		"long member names": {3, func(m *message.Message) {
			for i := range 300 {
				name := fmt.Sprintf("%03d-%s.exe", i, strings.Repeat("long-name-", 90))
				m.Parts = append(m.Parts, message.Part{Index: i, Parent: -1, Filename: name})
				m.Reports = append(m.Reports, message.Report{Kind: message.KindFilename, Part: i, Text: "Filename: " + name + ": executable"})
			}
			m.Header = []byte("Subject: " + strings.Repeat("s", 900) + "\n" + strings.Repeat("X-Long: "+strings.Repeat("h", 900)+"\n", 40))
		}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			tm := load(t, "en")
			data := bigBatch(c.huge, c.copies)
			got, err := tm.Render(Postmaster, data)
			if err != nil {
				t.Fatalf("Render(report over %d bytes) = %v, want it shortened", DefaultMaxBytes, err)
			}
			if len(got) > DefaultMaxBytes {
				t.Errorf("shortened report is %d bytes, over %d", len(got), DefaultMaxBytes)
			}
			for _, want := range []string{"Other-Virus", "6AM8Fa4W008399", "other@example.net", "6AM8Fa4W008391", "shortened"} {
				if !strings.Contains(string(got), want) {
					t.Errorf("shortened report lacks %q", want)
				}
			}
			if _, err := tm.Subject(Postmaster, data); err != nil {
				t.Errorf("Subject = %v", err)
			}
		})
	}
}

// TestPostmasterReportAtTheLimit: the two sides of MaxBytes. A report of
// exactly MaxBytes goes as it is; one a byte larger is shortened to fit,
// with the note, and keeps every message's virus line.
func TestPostmasterReportAtTheLimit(t *testing.T) {
	tm := load(t, "en")
	data := bigBatch(func(m *message.Message) {
		for i := range 40 {
			m.Envelope.Recipients = append(m.Envelope.Recipients, fmt.Sprintf("user%03d@example.test", i))
		}
		m.Reports = []message.Report{{Kind: message.KindVirus, Part: -1, Name: "Bulk-Virus", Text: "Virus 'Bulk-Virus' found in the message"}}
	}, 1)
	full, err := tm.Render(Postmaster, data)
	if err != nil {
		t.Fatal(err)
	}
	tm.MaxBytes = len(full)
	at, err := tm.Render(Postmaster, data)
	if err != nil || string(at) != string(full) {
		t.Errorf("Render at MaxBytes = %d bytes, %v; want the whole report unchanged", len(at), err)
	}
	tm.MaxBytes = len(full) - 1
	over, err := tm.Render(Postmaster, data)
	if err != nil {
		t.Fatalf("Render one byte over MaxBytes = %v, want it shortened", err)
	}
	if len(over) > tm.MaxBytes {
		t.Errorf("shortened report is %d bytes, over %d", len(over), tm.MaxBytes)
	}
	for _, want := range []string{"Bulk-Virus", "Other-Virus", "shortened"} {
		if !strings.Contains(string(over), want) {
			t.Errorf("shortened report lacks %q:\n%s", want, over)
		}
	}
}

// TestPostmasterReportManyMessages: when even the shortest notices do not
// fit, the report shows as many messages as fit and names the others.
func TestPostmasterReportManyMessages(t *testing.T) {
	tm := load(t, "en")
	tm.MaxBytes = 4096
	var ns []Notice
	for i := range 100 {
		m := &message.Message{ID: fmt.Sprintf("6AM8Fa4W%06d", i), Envelope: message.Envelope{Sender: "s@example.org", Recipients: []string{"r@example.test"}},
			Reports: []message.Report{{Kind: message.KindVirus, Part: -1, Name: "V", Text: "Virus 'V' found in the message"}}}
		ns = append(ns, NewNotice(m, "", false))
	}
	got, err := tm.Render(Postmaster, PostmasterData{Site: Site{Hostname: "mx1"}, Messages: ns})
	if err != nil {
		t.Fatalf("Render(100 messages, MaxBytes 4096) = %v, want it shortened", err)
	}
	if len(got) > tm.MaxBytes {
		t.Errorf("report is %d bytes, over %d", len(got), tm.MaxBytes)
	}
	for _, want := range []string{"6AM8Fa4W000000", "86 more messages not shown: 6AM8Fa4W000014 "} {
		if !strings.Contains(string(got), want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
}
