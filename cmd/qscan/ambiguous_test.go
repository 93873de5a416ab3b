package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScanEveryReading: qscan scan reports the virus and the blocked name
// that only the second reading of an ambiguous message holds (another
// boundary, another transfer encoding), not only "ambiguous MIME".
func TestScanEveryReading(t *testing.T) {
	_, cfg := demo(t, "[spam]\nengines = []\n")
	eicar := `X5O!P%@AP[4\PZX54(P^)7CC)7}$` + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
	hdr := "From: a@example.org\nTo: b@example.test\nSubject: test\nMIME-Version: 1.0\n"
	dir := t.TempDir()
	for name, tc := range map[string]struct{ body, want string }{
		"boundary.eml": {"Content-Type: multipart/mixed; boundary=\"A\"; boundary=\"B\"\n\n--A\nContent-Type: text/plain\n\nharmless\n" +
			"--B\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"evil.exe\"\n\nMZ\n--B--\n--A--\n", "evil.exe"},
		"encoding.eml": {"Content-Type: multipart/mixed; boundary=A\n\n--A\nContent-Type: application/octet-stream; name=\"x.bin\"\n" +
			"Content-Transfer-Encoding: 7bit\nContent-Transfer-Encoding: base64\n\n" + base64.StdEncoding.EncodeToString([]byte(eicar)) + "\n--A--\n", "Eicar-Test-Signature"},
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(hdr+tc.body), 0o600); err != nil {
			t.Fatal(err)
		}
		out, code := qscan(t, "scan", "-c", cfg, "--json", p)
		if code != scanBlocked || !strings.Contains(out, tc.want) || !strings.Contains(out, "ambiguous MIME structure") {
			t.Errorf("scan %s = %d, want %d naming %q and the ambiguity:\n%s", name, code, scanBlocked, tc.want, out)
		}
	}
}
