package spamcheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qscan/qscan/internal/golden"
	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/spam"
)

// headerCase is testdata/headers/NAME.json: the spam result and options.
type headerCase struct {
	Result       *message.SpamResult `json:"result"`
	AlwaysReport *bool               `json:"always_report"`
}

// TestHeadersGolden runs Headers and message.EditHeader on testdata/headers/NAME.eml
// with NAME.json and compares the edits and the new header block with
// NAME.want.
func TestHeadersGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/headers/*.eml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, eml := range files {
		name := strings.TrimSuffix(eml, ".eml")
		t.Run(filepath.Base(name), func(t *testing.T) {
			header, err := os.ReadFile(eml)
			if err != nil {
				t.Fatal(err)
			}
			var c headerCase
			data, err := os.ReadFile(name + ".json")
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &c); err != nil {
				t.Fatalf("%s.json: %v", name, err)
			}
			opts := DefaultHeaderOptions()
			opts.Lists = []string{"SBL", "SPAMCOP"}
			if c.AlwaysReport != nil {
				opts.AlwaysReport = *c.AlwaysReport
			}
			edits, err := Headers(c.Result, header, "Example", opts)
			if err != nil {
				t.Fatalf("Headers: %v", err)
			}
			var got bytes.Buffer
			for _, e := range edits {
				fmt.Fprintf(&got, "%s %s: %q\n", e.Op, e.Name, e.Value)
			}
			got.WriteString("----\n")
			got.Write(message.EditHeader(header, edits))
			golden.Check(t, name+".want", got.Bytes())
		})
	}
}

func TestHeadersBadOrg(t *testing.T) {
	if _, err := Headers(&message.SpamResult{Level: "ham"}, nil, "Bad Org", DefaultHeaderOptions()); err == nil {
		t.Error("Headers with org \"Bad Org\" succeeded")
	}
}

func TestHeadersSubject(t *testing.T) {
	spamRes := &message.SpamResult{Level: "spam", Score: 6, Required: 5, Engines: []string{NameSpamAssassin}}
	tests := []struct {
		header string
		opts   func(*HeaderOptions)
		want   string // Subject after Apply; "-" for no Subject edit
	}{
		{"Subject: cheap\n", nil, "{Spam?} cheap"},
		{"Subject: {Spam?} cheap\n", nil, "-"}, // tagged once only
		{"Subject: cheap\n", func(o *HeaderOptions) { o.SubjectPosition = spam.PositionEnd }, "cheap {Spam?}"},
		{"Subject: cheap\n", func(o *HeaderOptions) { o.SubjectPosition = spam.PositionNone }, "-"},
		{"Subject: cheap\n", func(o *HeaderOptions) { o.SubjectTag = "" }, "-"},
		{"Subject: cheap\n", func(o *HeaderOptions) { o.SubjectTag = "[SPAM _SCORE_]" }, "[SPAM 6.0] cheap"},
		{"To: x@y.example\n", nil, "{Spam?}"},
		{"Subject: one\nSubject: two\n", nil, "{Spam?} one"},
	}
	for _, tt := range tests {
		opts := DefaultHeaderOptions()
		if tt.opts != nil {
			tt.opts(&opts)
		}
		edits, err := Headers(spamRes, []byte(tt.header), "Example", opts)
		if err != nil {
			t.Fatal(err)
		}
		got := "-"
		for _, e := range edits {
			if e.Name == "Subject" {
				out := message.EditHeader([]byte(tt.header), edits)
				got = message.HeaderFields(out)[subjectIndex(out)].Value()
			}
		}
		if got != tt.want {
			t.Errorf("Headers(%q, %+v): Subject = %q, want %q", tt.header, opts, got, tt.want)
		}
	}
	edits, _ := Headers(&message.SpamResult{Level: "ham", Engines: []string{NameSpamAssassin}}, []byte("Subject: x\n"), "Example", DefaultHeaderOptions())
	for _, e := range edits {
		if e.Name == "Subject" {
			t.Errorf("ham got a subject edit %+v", e)
		}
	}
}

func subjectIndex(header []byte) int {
	for i, f := range message.HeaderFields(header) {
		if strings.EqualFold(f.Name, "Subject") {
			return i
		}
	}
	return -1
}
