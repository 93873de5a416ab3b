package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// attachmentEML writes a message with data attached as name.
func attachmentEML(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name+".eml")
	s := "From: a@sender.example\nTo: c@example.test\nSubject: t\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n" +
		"--b\nContent-Type: text/plain\n\nsee attachment\n--b\nContent-Type: application/octet-stream; name=" + name +
		"\nContent-Transfer-Encoding: base64\n\n" + base64.StdEncoding.EncodeToString(data) + "\n--b--\n"
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// scanReports runs `qscan scan --json` and returns the reports' kinds
// with their texts.
func scanReports(t *testing.T, cfg, eml string) []scanReport {
	t.Helper()
	out, errOut, code := qscanSplit(t, "scan", "--json", "-c", cfg, eml)
	var r scanResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("scan = %d: %v\nstdout:\n%s\nstderr:\n%s", code, err, out, errOut)
	}
	return r.Reports
}

// TestScanSevenZipArchives: an ARJ and a CAB with clam.exe inside are
// caught by the filename rules and by the built-in engine when 7-Zip is
// installed ("auto"); with 7-Zip off they are taken out as archives that
// could not be opened.
func TestScanSevenZipArchives(t *testing.T) {
	if _, err := exec.LookPath("7zz"); err != nil {
		if _, err := exec.LookPath("7z"); err != nil {
			t.Skip("7-Zip not installed (apt-get install 7zip)")
		}
	}
	sigs, _ := filepath.Abs("../../etc/signatures")
	for _, name := range []string{"clam.arj", "clam.cab"} {
		data, err := os.ReadFile(filepath.Join("/work/shared/corpus/av", name))
		if err != nil {
			t.Skipf("corpus file %s absent: %v", name, err)
		}
		for _, sevenzip := range []string{"auto", ""} {
			root, cfg := demo(t, "[spam]\nengines = []\n[archives]\nsevenzip = \""+sevenzip+"\"\n")
			os.WriteFile(cfg, []byte(strings.Replace(mustRead(t, cfg), "signatures = \"\"", "signatures = \""+sigs+"\"", 1)), 0o600)
			got := map[string]string{}
			for _, r := range scanReports(t, cfg, attachmentEML(t, root, name, data)) {
				got[string(r.Kind)] += r.Path + ": " + r.Text + "; "
			}
			if sevenzip == "" {
				if !strings.Contains(got["content"], "archive could not be opened") {
					t.Errorf("%s, 7-Zip off: reports %v, want \"archive could not be opened\"", name, got)
				}
				continue
			}
			if !strings.Contains(got["filename"], name+"/clam.exe: Filename: clam.exe") {
				t.Errorf("%s: filename reports %q, want clam.exe denied", name, got["filename"])
			}
			if !strings.Contains(got["virus"], name+"/clam.exe: Virus 'Clamav.Test.File") {
				t.Errorf("%s: virus reports %q, want the built-in engine's Clamav.Test.File", name, got["virus"])
			}
		}
	}
}

// TestLintSevenZipMissing: a configured 7-Zip that is not there is a
// warning, not an error.
func TestLintSevenZipMissing(t *testing.T) {
	_, cfg := demo(t, "[archives]\nsevenzip = \"/nonexistent/7zz\"\n")
	out, errOut, code := qscanSplit(t, "lint", "--no-engines", "-c", cfg)
	if code != 0 || !strings.Contains(errOut, "warning: archives.sevenzip: /nonexistent/7zz is not an executable file") {
		t.Errorf("lint = %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	_, cfg = demo(t, "[archives]\nsevenzip = \"\"\n")
	if _, errOut, code := qscanSplit(t, "lint", "--no-engines", "-c", cfg); code != 0 || strings.Contains(errOut, "sevenzip") {
		t.Errorf("lint with 7-Zip off = %d, stderr %q", code, errOut)
	}
}
