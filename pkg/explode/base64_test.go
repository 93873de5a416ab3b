package explode

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"testing"
)

func TestDecodeBase64Chunks(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 3, 47, 48, 49, 64<<10 - 1, 64 << 10, 64<<10 + 1, 200001} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(r.UintN(256))
		}
		enc := base64.StdEncoding.EncodeToString(data)
		// Clean lines take the library's path; a blank before each line
		// break (seen in the wild) the lenient chunked one.
		for _, eol := range []string{"\r\n", " \n"} {
			var lined bytes.Buffer
			rest := enc
			for len(rest) > 76 {
				lined.WriteString(rest[:76] + eol)
				rest = rest[76:]
			}
			lined.WriteString(rest + eol)
			if got := decodeBase64(lined.Bytes(), 1<<30); !bytes.Equal(got.Data, data) || got.Alt != nil || got.Cut {
				t.Errorf("decodeBase64 of %d bytes, lines ending %q: got %d bytes (alt %d, cut %v), mismatch", n, eol, len(got.Data), len(got.Alt), got.Cut)
			}
		}
	}
}

// Base64 is decoded past a padding '=' (some clients deliver what follows
// an early "QQ=="), garbage is skipped, and the reading of the decoders
// that drop a mid-stream '=' without ending the group is returned too.
func TestDecodeBase64Permissive(t *testing.T) {
	enc := base64.StdEncoding.EncodeToString
	tests := []struct {
		in        string
		want, alt string
	}{
		{"QUJD\n!!RA==", "ABCD", ""},
		{"QQ==" + enc([]byte("hidden payload")), "A" + "hidden payload", ""},
		{"QQ==\r\n" + enc([]byte("X5O!P%@AP")) + "\r\n", "AX5O!P%@AP", ""},
		{"QUI=QUJD", "ABABC", ""},
		{"Q" + "\x00\xff*" + "UJD", "ABC", ""},
		// Per-line padding (old encoders): the realigned reading is right.
		{enc([]byte("ab")) + "\n" + enc([]byte("cd")) + "\n", "abcd", ""},
	}
	for _, tt := range tests {
		got := decodeBase64([]byte(tt.in), 1<<20)
		if string(got.Data) != tt.want {
			t.Errorf("decodeBase64(%q) = %q, want %q", tt.in, got.Data, tt.want)
		}
	}
	// The decoders that skip '=' read "QQ==QUJD" as "QQQUJD".
	shifted, _ := base64.RawStdEncoding.DecodeString("QQQUJD")
	got := decodeBase64([]byte("QQ==QUJD"), 1<<20)
	if string(got.Alt) != string(shifted) {
		t.Errorf("decodeBase64(QQ==QUJD).Alt = %q, want %q", got.Alt, shifted)
	}
	// Output is bounded.
	got = decodeBase64([]byte(enc(bytes.Repeat([]byte("x"), 1000))), 100)
	if !got.Cut || len(got.Data) > 100 {
		t.Errorf("decodeBase64 of 1000 bytes with room 100: %d bytes, cut %v", len(got.Data), got.Cut)
	}
}

// Data after an early padding reaches the checks, and so does the other
// reading of it.
func TestExplodeBase64AfterPadding(t *testing.T) {
	payload := zipOf(t, "invoice.exe", peStub)
	body := "QQ==\r\n" + base64.StdEncoding.EncodeToString(payload) + "\r\n"
	raw := []byte("From: a@example.com\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: application/octet-stream; name=\"a.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		body + "--b--\r\n")
	res := explodeFile(t, raw, DefaultLimits())
	if p, _ := findPart(res, "1"); !bytes.Contains(p.Data, payload) {
		t.Errorf("part 1 lacks the data after the padding\n%s", dump(res))
	}
	found := false
	for _, p := range res.Parts {
		found = found || p.Filename == "invoice.exe"
	}
	if !found {
		t.Errorf("the zip after the padding was not opened\n%s", dump(res))
	}
	if _, ok := hasReport(res, TextAmbiguousCTE); !ok {
		t.Errorf("no %q report\n%s", TextAmbiguousCTE, dump(res))
	}
	if _, ok := findPart(res, "1/other-decoding"); !ok {
		t.Errorf("no part 1/other-decoding\n%s", dump(res))
	}
}
