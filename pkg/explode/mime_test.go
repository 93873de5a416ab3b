package explode

import (
	"bytes"
	"encoding/base64"
	"runtime"
	"strings"
	"testing"
)

// A part without Content-Type still has its file name read: the MIME
// library alone drops the Content-Disposition of such a part.
func TestFilenameWithoutContentType(t *testing.T) {
	raw := []byte("From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n" +
		"--b\nContent-Type: text/plain\n\nhello\n" +
		"--b\nContent-Disposition: attachment; filename=\"evil.exe\"\n\nMZ\x90\x00\n--b--\n")
	res, err := Explode(raw, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	p, ok := findPart(res, "2")
	if !ok || p.Filename != "evil.exe" || p.DeclaredType != "" {
		t.Fatalf("part 2 = %+v (found %v), want evil.exe without a declared type\n%s", p, ok, dump(res))
	}
}

// Parts read without transfer encoding share the message's bytes but can
// never write into them.
func TestPartDataDoesNotAliasWritably(t *testing.T) {
	raw := []byte("From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n" +
		"--b\nContent-Type: text/plain\n\nfirst\n--b\nContent-Type: text/plain\n\nsecond\n--b--\n")
	orig := bytes.Clone(raw)
	res, err := Explode(raw, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Parts {
		_ = append(p.Data, "XXXXXXXXXXXXXXXX"...)
	}
	if !bytes.Equal(raw, orig) {
		t.Fatalf("appending to a part changed the message:\n%s", raw)
	}
	if p, _ := findPart(res, "1"); string(p.Data) != "first" {
		t.Fatalf("part 1 = %q", p.Data)
	}
}

// A large attachment costs about its decoded size in allocations: no
// copy of the encoded part, no buffer growth (bad-inputs BI-37).
func TestLargePartAllocations(t *testing.T) {
	const size = 8 << 20
	data := bytes.Repeat([]byte("0123456789abcdef\x00\xff"), size/18)
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	b.WriteString("From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n" +
		"--b\nContent-Type: text/plain\n\nsee attached\n--b\nContent-Type: application/octet-stream\n" +
		"Content-Disposition: attachment; filename=\"big.bin\"\nContent-Transfer-Encoding: base64\n\n")
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\n--b--\n")
	raw := []byte(b.String())
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := Explode(raw, DefaultLimits())
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := findPart(res, "2")
	if !ok || !bytes.Equal(p.Data, data) {
		t.Fatalf("part 2 not decoded right (found %v, %d bytes)", ok, len(p.Data))
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	if limit := uint64(len(data))*5/4 + 1<<20; alloc > limit {
		t.Errorf("Explode of a %d MB message allocated %d MB, want at most %d MB", len(raw)>>20, alloc>>20, limit>>20)
	}
	t.Logf("%d-byte message, %d-byte attachment: %d bytes allocated", len(raw), len(data), alloc)
}

// Verbatim marks the parts whose bytes stand as they are in the message:
// not decoded ones, nor those inside an encoded message/rfc822.
func TestVerbatim(t *testing.T) {
	inner := "Subject: inner\nContent-Type: multipart/mixed; boundary=i\n\n--i\nContent-Type: text/plain\n\ninner text\n--i--\n"
	raw := []byte("From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n" +
		"--b\nContent-Type: text/plain\n\nplain\n" +
		"--b\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n" + base64.StdEncoding.EncodeToString([]byte("decoded\n")) + "\n" +
		"--b\nContent-Type: message/rfc822\n\n" + inner +
		"--b\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n" + base64.StdEncoding.EncodeToString([]byte(inner)) + "\n" +
		"--b--\n")
	res, err := Explode(raw, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"1": true, "2": false, "3.1": true, "4.1": false}
	for path, v := range want {
		p, ok := findPart(res, path)
		if !ok || p.Verbatim != v {
			t.Errorf("part %s: found %v, Verbatim %v, want %v\n%s", path, ok, p.Verbatim, v, dump(res))
		}
	}
}
