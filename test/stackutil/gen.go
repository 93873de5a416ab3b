package stackutil

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// EICAR is the EICAR test string, in two halves so that this file is not
// itself flagged by a scanner.
const EICAR = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STAN` + `DARD-ANTIVIRUS-TEST-FILE!$H+H*`

// Msg is one generated test message.
type Msg struct {
	ID       string // Message-ID, with angle brackets
	Raw      []byte // LF line endings
	Rcpt     string
	Infected bool
}

// Message builds message n of a suite's run tagged tag: a varied,
// deterministic mix (plain text, 8-bit, multipart with attachments, long
// folded headers, dot lines); with infected, a zip holding EICAR rides
// along. The Message-ID is <tag-n@suite.example>, the subject
// "suite tag message n".
func Message(suite string, n int, tag string, infected bool) Msg {
	r := rand.New(rand.NewPCG(uint64(n), 42))
	m := Msg{ID: fmt.Sprintf("<%s-%d@%s.example>", tag, n, suite), Rcpt: fmt.Sprintf("rcpt%d@example.test", n%7), Infected: infected}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Sender %d <sender%d@example.org>\nTo: %s\n", n, n, m.Rcpt)
	fmt.Fprintf(&b, "Subject: %s %s message %d\nDate: Sun, 22 Nov 2026 08:07:06 +0000\nMessage-ID: %s\n", suite, tag, n, m.ID)
	if n%5 == 0 {
		b.WriteString("X-Long: " + strings.Repeat("word ", 100) + "\n\t" + strings.Repeat("more ", 100) + "\n")
	}
	b.WriteString("MIME-Version: 1.0\n")
	if !infected && n%4 < 2 {
		b.WriteString("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n")
		for i := 0; i < 3+r.IntN(40); i++ {
			fmt.Fprintf(&b, "Line %d of message %d: caf\xc3\xa9 na\xc3\xafve %x\n", i, n, r.Uint64())
		}
		b.WriteString(".\n..leading dots survive\n")
		m.Raw = b.Bytes()
		return m
	}
	bd := fmt.Sprintf("b-%d", n)
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=%q\n\n--%s\nContent-Type: text/plain\n\nsee attachment\n--%s\n", bd, bd, bd)
	fmt.Fprintf(&b, "Content-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"data%d.bin\"\nContent-Transfer-Encoding: base64\n\n", n)
	data := make([]byte, 200+r.IntN(20000))
	for i := range data {
		data[i] = byte(r.UintN(256))
	}
	b.WriteString(Base64Lines(data))
	if infected {
		fmt.Fprintf(&b, "--%s\nContent-Type: application/zip\nContent-Disposition: attachment; filename=\"files%d.zip\"\nContent-Transfer-Encoding: base64\n\n", bd, n)
		b.WriteString(Base64Lines(ZipOf(map[string][]byte{"eicar.com": []byte(EICAR)})))
	}
	fmt.Fprintf(&b, "--%s--\n", bd)
	m.Raw = b.Bytes()
	return m
}

// ZipOf returns a zip archive of the given members (sorted by name).
func ZipOf(members map[string][]byte) []byte {
	names := make([]string, 0, len(members))
	for name := range members {
		names = append(names, name)
	}
	slices.Sort(names)
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	for _, name := range names {
		w, _ := zw.Create(name)
		w.Write(members[name])
	}
	zw.Close()
	return zb.Bytes()
}

// Base64Lines encodes data in base64 lines of 76 characters, each ending
// in a newline, as a MIME body part carries it.
func Base64Lines(data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\n")
	return b.String()
}
