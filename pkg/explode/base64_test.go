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
			if got := decodeBase64(lined.Bytes()); !bytes.Equal(got, data) {
				t.Errorf("decodeBase64 of %d bytes, lines ending %q: got %d bytes, mismatch", n, eol, len(got))
			}
		}
	}
	if got := decodeBase64([]byte("QUJD\n!!RA==junk")); string(got) != "ABCD" {
		t.Errorf("lenient decode = %q", got)
	}
}
