package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/ruleset"
)

// TestScanRenamesWithStockRules: with MailScanner v5's shipped filename
// rules, unchanged, "rename \.fdf$" delivers form.fdf as
// form.fdf.disarmed: its body and the other parts are the same bytes.
func TestScanRenamesWithStockRules(t *testing.T) {
	stock, err := filepath.Abs("../../pkg/content/testdata/mailscanner-v5/filename.rules.conf")
	if err != nil {
		t.Fatal(err)
	}
	_, cfg := demo(t, "[spam]\nengines = []\n[content]\nfilename_rules = [\""+stock+"\"]\n")
	raw := "From: a@example.org\nTo: b@example.test\nSubject: form\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/mixed; boundary=\"B\"\n\n--B\nContent-Type: text/plain\n\nsee the form\n" +
		"--B\nContent-Type: application/vnd.fdf; name=\"form.fdf\"\nContent-Disposition: attachment; filename=\"form.fdf\"\n" +
		"Content-Transfer-Encoding: base64\n\nJUZERi0xLjIK\n--B--\n"
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.eml"), filepath.Join(dir, "out.eml")
	os.WriteFile(in, []byte(raw), 0o600)
	res, code := qscan(t, "scan", "-c", cfg, "--json", "-o", out, in)
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("scan -o = %d, wrote nothing: %v\n%s", code, err, res)
	}
	want := strings.Replace(raw[strings.Index(raw, "\n\n")+2:], "name=\"form.fdf\"\nContent-Disposition: attachment; filename=\"form.fdf\"",
		"\n\tname=\"form.fdf.disarmed\"\nContent-Disposition: attachment;\n\tfilename=\"form.fdf.disarmed\"", 1)
	want = strings.Replace(want, "application/vnd.fdf; \n", "application/vnd.fdf;\n", 1)
	if _, body := splitRaw(got); string(body) != want {
		t.Errorf("delivered body:\n%s\nwant:\n%s", body, want)
	}
	if !strings.Contains(res, `"action":"rename"`) || !strings.Contains(res, "renamed to form.fdf.disarmed") {
		t.Errorf("scan result does not report the rename: %s", res)
	}
	if bytes.Contains(got, []byte("VirusWarning")) {
		t.Errorf("the part was replaced, not renamed:\n%s", got)
	}
}

func TestHeaderNames(t *testing.T) {
	got := headerNames("X-Mozilla-Status: X-Mozilla-Status2:, X-Bad:Name  Received")
	want := []string{"X-Mozilla-Status", "X-Mozilla-Status2", "Received"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("headerNames = %q, want %q", got, want)
	}
	if removeHeaders(ruleset.Setting{Plain: " "}) != nil {
		t.Error("an empty remove list gives a function")
	}
}
