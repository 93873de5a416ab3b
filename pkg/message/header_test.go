package message

import (
	"reflect"
	"strings"
	"testing"
)

func TestEditHeader(t *testing.T) {
	tests := []struct {
		header string
		edits  []HeaderEdit
		want   string
	}{
		{"A: 1\nB: 2\n  more\nA: 3\n", []HeaderEdit{{Op: HeaderDelete, Name: "a"}}, "B: 2\n  more\n"},
		{"A: 1\nB: 2\n  more\n", []HeaderEdit{{Op: HeaderDelete, Name: "b"}, {Op: HeaderAdd, Name: "B", Value: "new"}}, "A: 1\nB: new\n"},
		{"A: 1\nB: 2\n", []HeaderEdit{{Op: HeaderReplace, Name: "A", Value: "x"}}, "A: x\nB: 2\n"},
		{"B: 2", []HeaderEdit{{Op: HeaderReplace, Name: "A", Value: "x"}}, "B: 2\nA: x\n"},
		{"A: 1\r\n", []HeaderEdit{{Op: HeaderAdd, Name: "C", Value: "long\r\n\tfolded"}}, "A: 1\r\nC: long\r\n\tfolded\r\n"},
		{"A: 1\n", []HeaderEdit{{Op: HeaderAdd, Name: "C", Value: "evil\nBcc: x@y.example\n \n"}}, "A: 1\nC: evil Bcc: x@y.example   \n"},
		{"A: 1\n", []HeaderEdit{{Op: HeaderAdd, Name: "Bad Name", Value: "v"}, {Op: HeaderAdd, Name: "X:Y", Value: "v"}}, "A: 1\n"},
		{" orphan\nnot a field\nA: 1\n", []HeaderEdit{{Op: HeaderDelete, Name: ""}}, " orphan\nnot a field\nA: 1\n"},
		{"", []HeaderEdit{{Op: HeaderAdd, Name: "A", Value: "1"}}, "A: 1\n"},
	}
	for _, tt := range tests {
		if got := string(EditHeader([]byte(tt.header), tt.edits)); got != tt.want {
			t.Errorf("EditHeader(%q, %+v) = %q, want %q", tt.header, tt.edits, got, tt.want)
		}
	}
}

func TestHeaderFields(t *testing.T) {
	header := "Subject: a\n\tb\r\nX:\n:bad\nno colon\n\tcont\nLast: v"
	var got []string
	for _, f := range HeaderFields([]byte(header)) {
		got = append(got, f.Name+"|"+string(f.Raw))
	}
	want := []string{"Subject|Subject: a\n\tb\r\n", "X|X:\n", "|:bad\n", "|no colon\n\tcont\n", "Last|Last: v"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("HeaderFields(%q) = %q, want %q", header, got, want)
	}
}

func TestQScanHeader(t *testing.T) {
	tests := []struct{ org, want string }{
		{"yoursite", "X-yoursite-QScan-Released"},
		{"Example Org", "X-ExampleOrg-QScan-Released"},
		{"", "X-QScan-Released"},
		{": \r\n", "X-QScan-Released"},
		{"-a-", "X-a-QScan-Released"},
		{strings.Repeat("o", 50), "X-" + strings.Repeat("o", 40) + "-QScan-Released"},
	}
	for _, tt := range tests {
		if got := QScanHeader(tt.org, "-Released"); got != tt.want {
			t.Errorf("QScanHeader(%q, \"-Released\") = %q, want %q", tt.org, got, tt.want)
		}
	}
}

// TestEditHeaderTop: additions (and replacements that add) go before the
// first field, each above the one before; replacements in place stay.
func TestEditHeaderTop(t *testing.T) {
	h := []byte("From: a\nSubject: s\n")
	got := string(EditHeaderTop(h, []HeaderEdit{{Op: HeaderAdd, Name: "X-A", Value: "1"}, {Op: HeaderReplace, Name: "X-B", Value: "2"}, {Op: HeaderReplace, Name: "Subject", Value: "t"}}))
	if want := "X-B: 2\nX-A: 1\nFrom: a\nSubject: t\n"; got != want {
		t.Errorf("EditHeaderTop = %q, want %q", got, want)
	}
}
