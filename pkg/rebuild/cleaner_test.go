package rebuild

import (
	"bytes"
	"os"
	"testing"

	"github.com/qscan/qscan/pkg/message"
)

// TestCleanSpamTransforms: striphtml turns the HTML alternative into text,
// attachment wraps the result under an explanation; the header edits give
// the new structure.
func TestCleanSpamTransforms(t *testing.T) {
	raw, err := os.ReadFile("testdata/clean/html-alternative.eml")
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(raw, []byte("\n\n"))
	m := &message.Message{ID: "6AM876nc000001", Header: raw[:i+1], Body: raw[i+2:], Spam: &message.SpamResult{Level: "spam", Score: 7.5, Required: 5}}
	c := &Cleaner{}
	body, edits, err := c.Clean(m, &message.Decision{StripHTML: true, SpamAttachment: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"classified as spam (score 7.5", "message/rfc822", "Buy now here <http://x.example/>", "plain offer"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
	if bytes.Contains(body, []byte("<script>")) {
		t.Error("the HTML survived striphtml")
	}
	var ct string
	for _, e := range edits {
		if e.Name == "Content-Type" {
			ct = e.Value
		}
	}
	if !bytes.HasPrefix([]byte(ct), []byte("multipart/mixed;")) {
		t.Errorf("Content-Type edit = %q", ct)
	}
	// Without the spam actions nothing changes: no body (the df is linked).
	body, edits, err = c.Clean(m, &message.Decision{})
	if err != nil || body != nil || len(edits) != 0 {
		t.Errorf("Clean with nothing to do changed the message: %v %d", err, len(edits))
	}
}
