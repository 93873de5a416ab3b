package explode

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

// binhexOf encodes a BinHex 4.0 block (CRCs left zero: the decoder does
// not check them) whose data fork is rle, already run-length encoded.
func binhexOf(name string, dataLen int, rle []byte) string {
	var raw bytes.Buffer
	raw.WriteByte(byte(len(name)))
	raw.WriteString(name)
	raw.WriteByte(0)
	raw.WriteString("TEXTttxt\x00\x00")
	binary.Write(&raw, binary.BigEndian, []uint32{uint32(dataLen), 0})
	raw.Write([]byte{0, 0})
	raw.Write(rle)
	var out strings.Builder
	out.WriteString(binhexMarker + " 4.0)\n:")
	b := raw.Bytes()
	var acc uint32
	bits, col := 0, 1
	for _, c := range b {
		acc = acc<<8 | uint32(c)
		bits += 8
		for bits >= 6 {
			bits -= 6
			out.WriteByte(binhexAlphabet[acc>>bits&63])
			if col++; col == 64 {
				out.WriteByte('\n')
				col = 0
			}
		}
	}
	if bits > 0 {
		out.WriteByte(binhexAlphabet[acc<<(6-bits)&63])
	}
	out.WriteString(":\n")
	return out.String()
}

// rleEscape run-length encodes data for BinHex without runs: each 0x90
// becomes 0x90 0x00.
func rleEscape(data []byte) []byte {
	return bytes.ReplaceAll(data, []byte{0x90}, []byte{0x90, 0})
}

// binhexBomb is a BinHex block whose data fork runs "A" out to n bytes.
func binhexBomb(n int) string {
	rle := []byte{'A'}
	for left := n - 1; left > 0; left -= 254 {
		rle = append(rle, 0x90, byte(min(left, 254)+1))
	}
	return binhexOf("bomb.txt", n, rle)
}

// uuOf uuencodes data as a "begin 644 name" block.
func uuOf(name string, data []byte) string {
	var b strings.Builder
	b.WriteString("begin 644 " + name + "\n")
	for len(data) > 0 {
		n := min(45, len(data))
		line := data[:n]
		data = data[n:]
		b.WriteByte(byte(' ' + n))
		for i := 0; i < len(line); i += 3 {
			var g [3]byte
			copy(g[:], line[i:])
			for _, v := range []byte{g[0] >> 2, g[0]<<4&63 | g[1]>>4, g[1]<<2&63 | g[2]>>6, g[2] & 63} {
				if v == 0 {
					v = 64
				}
				b.WriteByte(' ' + v)
			}
		}
		b.WriteByte('\n')
	}
	b.WriteString("`\nend\n")
	return b.String()
}

// yencOf yEnc-encodes data.
func yencOf(name string, data []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "=ybegin line=128 size=%d name=%s\n", len(data), name)
	for i, c := range data {
		e := c + 42
		if e == 0 || e == '\n' || e == '\r' || e == '=' {
			b.WriteByte('=')
			e += 64
		}
		b.WriteByte(e)
		if i%128 == 127 {
			b.WriteByte('\n')
		}
	}
	fmt.Fprintf(&b, "\n=yend size=%d\n", len(data))
	return b.String()
}

// textMail puts each text in a text/plain part of its own.
func textMail(texts ...string) []byte {
	var b strings.Builder
	b.WriteString("From: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n")
	for _, t := range texts {
		b.WriteString("--b\nContent-Type: text/plain\n\n" + t + "\n")
	}
	b.WriteString("--b--\n")
	return []byte(b.String())
}

// decodedBytes sums what the decoders put into the parts: everything but
// the MIME leaves sent without transfer encoding.
func decodedBytes(res *Result) int64 {
	var n int64
	for _, p := range res.Parts {
		if !p.Verbatim {
			n += int64(len(p.Data))
		}
	}
	return n
}

// Every decoder draws on one expansion budget per message: the output
// never goes beyond it, and the message gets a verdict when it runs out.
func TestExpansionBudget(t *testing.T) {
	const budget = 1 << 20
	big := bytes.Repeat([]byte("0123456789abcdef"), 3*budget/16/2) // 1.5 budgets
	blocks := make([]string, 6)
	for i := range blocks {
		blocks[i] = binhexBomb(budget / 2)
	}
	qp := strings.Repeat("=41=42=43", budget/2)
	tests := []struct {
		name string
		raw  []byte
	}{
		{"binhex blocks in one part", textMail(strings.Join(blocks, "\n"))},
		{"binhex blocks in parts", textMail(blocks...)},
		{"uuencode", textMail(uuOf("a.bin", big))},
		{"uuencode in parts", textMail(uuOf("a.bin", big[:budget/2]), uuOf("b.bin", big[:budget/2]), uuOf("c.bin", big[:budget/2]))},
		{"yenc", textMail(yencOf("a.bin", big))},
		{"base64", mailWith("a.bin", big)},
		{"quoted-printable", []byte("From: a@example.com\nContent-Transfer-Encoding: quoted-printable\n\n" + qp + "\n")},
		{"tnef", mailWith("winmail.dat", tnefOf("a.bin", big))},
		{"gzip", mailWith("a.gz", gzipOf(t, big))},
	}
	lim := DefaultLimits()
	lim.MaxExpandedBytes = budget
	for _, tt := range tests {
		var res *Result
		alloc := allocated(func() { res = explodeFile(t, tt.raw, lim) })
		if _, ok := hasReport(res, TextExpandLimit); !ok {
			if _, ok := hasReport(res, TextArchiveExpand); !ok {
				t.Errorf("%s: no %q report in\n%s", tt.name, TextExpandLimit, dump(res))
			}
		}
		if n := decodedBytes(res); n > budget+1 {
			t.Errorf("%s: %d decoded bytes in the parts, budget %d", tt.name, n, budget)
		}
		// Decoders allocate about what they may produce, plus copies of
		// the encoded input; never the size of the bomb.
		if limit := uint64(4*budget + 4*len(tt.raw)); alloc > limit {
			t.Errorf("%s: %d bytes allocated, want at most %d", tt.name, alloc, limit)
		}
	}
}

// An RLE bomb with the default limits: the first block is cut at the
// per-part limit, the others at the message's budget.
func TestBinHexBombDefaults(t *testing.T) {
	lim := DefaultLimits()
	lim.MaxPartBytes = 4 << 20
	lim.MaxExpandedBytes = 10 << 20
	blocks := make([]string, 8)
	for i := range blocks {
		blocks[i] = binhexBomb(6 << 20)
	}
	res := explodeFile(t, textMail(blocks...), lim)
	r, ok := hasReport(res, TextExpandLimit)
	if !ok || r.Part < 0 || r.Action != "replace" {
		t.Errorf("no part-level %q report in\n%s", TextExpandLimit, dump(res))
	}
	if n := decodedBytes(res); n > lim.MaxExpandedBytes {
		t.Errorf("%d decoded bytes, budget %d", n, lim.MaxExpandedBytes)
	}
}

// Small BinHex, uuencode and yEnc files still come out whole, every block.
func TestEmbeddedFilesDecoded(t *testing.T) {
	pe := []byte(peStub)
	raw := textMail(binhexOf("a.exe", len(pe), rleEscape(pe))+"\n"+binhexOf("b.exe", len(pe), rleEscape(pe)),
		uuOf("c.exe", pe)+uuOf("d.exe", pe), yencOf("e.exe", pe),
		"begin-base64 644 f.exe\n"+base64.StdEncoding.EncodeToString(pe)+"\n====\n")
	res := explodeFile(t, raw, DefaultLimits())
	for _, name := range []string{"a.exe", "b.exe", "c.exe", "d.exe", "e.exe", "f.exe"} {
		found := false
		for _, p := range res.Parts {
			if p.Filename == name {
				found = true
				if !bytes.Equal(p.Data, pe) {
					t.Errorf("%s: data %q, want %q", name, p.Data, pe)
				}
			}
		}
		if !found {
			t.Errorf("no part %s in\n%s", name, dump(res))
		}
	}
}

// gzipOf compresses data.
func gzipOf(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
