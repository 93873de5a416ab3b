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
		var lined bytes.Buffer
		for len(enc) > 76 {
			lined.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		lined.WriteString(enc + "\n")
		if got := decodeBase64(lined.Bytes()); !bytes.Equal(got, data) {
			t.Errorf("decodeBase64 of %d bytes: got %d bytes, mismatch", n, len(got))
		}
	}
	if got := decodeBase64([]byte("QUJD\n!!RA==junk")); string(got) != "ABCD" {
		t.Errorf("lenient decode = %q", got)
	}
}
