package explode

import (
	"crypto/md5"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// clamExeMD5 is the MD5 of clam.exe, the ClamAV test program that
// clamav-testfiles hides in many containers.
const clamExeMD5 = "aa15bcf478d165efd2065190eb473bcb"

const clamDir = "/usr/share/clamav-testfiles"

// TestClamAVContainers explodes each container of clamav-testfiles
// (attached to a message, or as the message for .mail/.mbox) and looks for
// clam.exe among the parts. Formats we do not reach are logged, not failed:
// the list documents what the virus engine alone must see.
func TestClamAVContainers(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(clamDir, "clam*"))
	if len(files) == 0 {
		t.Skipf("%s not installed (apt-get install clamav-testfiles)", clamDir)
	}
	var missed []string
	reached := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(f)
		raw, skip := mailWith(base, data), "2" // the attachment itself does not count
		if strings.HasSuffix(base, ".mail") || strings.Contains(base, ".mbox.") {
			raw, skip = data, ""
		}
		res, err := Explode(raw, DefaultLimits())
		if err != nil {
			t.Fatalf("%s: Explode: %v", base, err)
		}
		found := ""
		for _, p := range res.Parts {
			sum := md5.Sum(p.Data)
			if hex.EncodeToString(sum[:]) == clamExeMD5 && p.Path != skip {
				found = p.Path
			}
		}
		if found == "" {
			if base != "clam.exe" {
				missed = append(missed, base)
			}
			continue
		}
		reached++
		t.Logf("%s: clam.exe at %s", base, found)
	}
	sort.Strings(missed)
	t.Logf("clam.exe reached in %d containers; not reached in %d: %s", reached, len(missed), strings.Join(missed, " "))
	// These containers are formats we claim to read: not finding clam.exe
	// there is a bug.
	for _, must := range []string{"clam.zip", "clam.7z", "clam.tar.gz", "clam.bz2.zip", "clam.exe.bz2",
		"clam.exe.mbox.base64", "clam.exe.mbox.uu", "clam.mail", "clam.tnef", "clam.exe.binhex"} {
		for _, m := range missed {
			if m == must {
				t.Errorf("clam.exe not found in %s", must)
			}
		}
	}
}
