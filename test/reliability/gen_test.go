//go:build reliability

package reliability

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/qscan/qscan/test/stackutil"
)

// Generators of the hostile inputs too big (or too binary) to keep as
// files. Each returns a whole message; div shrinks the big ones for short
// runs.

func mailWith(subject, body string) []byte {
	return []byte("From: a@example.org\nTo: b@example.test\nSubject: " + subject + "\nMessage-ID: <bi@rel.example>\nMIME-Version: 1.0\n" + body)
}

// attach wraps named attachments in a multipart/mixed message.
func attach(subject string, files ...any) []byte {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=\"zz\"\n\n--zz\nContent-Type: text/plain\n\nsee attached\n")
	for i := 0; i+1 < len(files); i += 2 {
		name, data := files[i].(string), files[i+1].([]byte)
		fmt.Fprintf(&b, "--zz\nContent-Type: application/octet-stream; name=\"%s\"\nContent-Disposition: attachment; filename=\"%s\"\nContent-Transfer-Encoding: base64\n\n%s", name, name, stackutil.Base64Lines(data))
	}
	b.WriteString("--zz--\n")
	return mailWith(subject, b.String())
}

func genEncodedWords(div int) []byte { // BI-07
	n := 200000 / div
	return mailWith(strings.Repeat("=?", n), "Content-Type: multipart/mixed; boundary=\"zz\"\n\n--zz\n"+
		"Content-Type: application/octet-stream; name=\""+strings.Repeat("=?", n/4)+"\"\n\nx\n--zz--\n")
}

func genNestedRFC822(depth int) []byte { // BI-09
	var b strings.Builder
	for i := 0; i < depth; i++ {
		b.WriteString("Content-Type: message/rfc822\n\nSubject: x\n")
	}
	b.WriteString("Content-Type: application/octet-stream; name=\"deep.exe\"\n\nMZ\n")
	return mailWith("nested", b.String())
}

func genNestedSigned(depth int) []byte { // BI-10
	var open, close strings.Builder
	for i := 0; i < depth; i++ {
		fmt.Fprintf(&open, "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=\"s%d\"\n\n--s%d\n", i, i)
		fmt.Fprintf(&close, "--s%d\nContent-Type: application/pkcs7-signature\nContent-Transfer-Encoding: base64\n\nMIIB\n--s%d--\n", depth-1-i, depth-1-i)
	}
	return mailWith("signed", open.String()+"Content-Type: application/pkcs7-mime; smime-type=enveloped-data\nContent-Transfer-Encoding: base64\n\nMIAGCSqGSIb3DQEHA6CAMIACAQAx\n"+close.String())
}

func genManyParts(n int) []byte { // BI-11
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=\"p\"\n\n")
	for i := 0; i < n; i++ {
		b.WriteString("--p\n\nx\n")
	}
	b.WriteString("--p--\n")
	return mailWith("parts", b.String())
}

func genLongHeader(n int) []byte { // BI-12
	return mailWith("long", "X-Long: "+strings.Repeat("a", n)+"\nContent-Type: text/plain\n\nbody\n")
}

func genManyHeaders(n int) []byte { // BI-12
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "X-H%d: v\n", i)
	}
	b.WriteString("no colon in this header line\nContent-Type: text/plain\n\nbody\n")
	return mailWith("headers", b.String())
}

// genOverlapZip builds a non-recursive zip bomb: one deflated member of
// size bytes of zeros, referenced n times from the central directory.
func genOverlapZip(size, n int) []byte { // BI-16
	one := stackutil.ZipOf(map[string][]byte{"a.bin": make([]byte, size)})
	eocd := bytes.LastIndex(one, []byte("PK\x05\x06"))
	cdOff := int(binary.LittleEndian.Uint32(one[eocd+16:]))
	cd := one[cdOff:eocd]
	var out bytes.Buffer
	out.Write(one[:cdOff])
	for i := 0; i < n; i++ {
		e := bytes.Clone(cd)
		name := fmt.Sprintf("%05d", i)
		copy(e[46:], name) // "a.bin" is 5 bytes too
		out.Write(e)
	}
	end := bytes.Clone(one[eocd:])
	binary.LittleEndian.PutUint16(end[8:], uint16(n))
	binary.LittleEndian.PutUint16(end[10:], uint16(n))
	binary.LittleEndian.PutUint32(end[12:], uint32(len(cd)*n))
	out.Write(end)
	return attach("overlap bomb", "bomb.zip", out.Bytes())
}

func genNestedZip(depth int) []byte { // BI-17
	data := []byte("MZ deep payload")
	name := "deep.exe"
	for i := 0; i < depth; i++ {
		data = stackutil.ZipOf(map[string][]byte{name: data})
		name = fmt.Sprintf("level%d.zip", i)
	}
	return attach("42", "42.zip", data)
}

// genZeroedZip zeroes the local header names and mismatches a name.
func genZeroedZip() []byte { // BI-18
	z := stackutil.ZipOf(map[string][]byte{"evil.exe": []byte("MZ"), "ok.txt": []byte("hello")})
	z1 := bytes.Clone(z)
	for i := bytes.Index(z1, []byte("PK\x03\x04")); i >= 0 && i < len(z1)-30; {
		for j := 4; j < 30; j++ {
			z1[i+j] = 0
		}
		next := bytes.Index(z1[i+4:], []byte("PK\x03\x04"))
		if next < 0 {
			break
		}
		i += 4 + next
	}
	z2 := bytes.Replace(bytes.Clone(z), []byte("evil.exe"), []byte("good.txt"), 1) // local only
	return attach("zeroed", "zeroed.zip", z1, "mismatch.zip", z2)
}

func genSlipZip() []byte { // BI-19
	return attach("slip", "slip.zip", stackutil.ZipOf(map[string][]byte{"../../etc/cron.d/x": []byte("* * * * * root id"),
		"/abs/evil.txt": []byte("x"), "link": []byte("/etc/passwd")}))
}

func genEOCD() []byte { // BI-20
	z := stackutil.ZipOf(map[string][]byte{"a.txt": []byte("hello")})
	eocd := bytes.LastIndex(z, []byte("PK\x05\x06"))
	wrap := bytes.Clone(z)
	binary.LittleEndian.PutUint32(wrap[eocd+16:], 0xFFFFFFF0)
	binary.LittleEndian.PutUint32(wrap[eocd+12:], 0xFFFFFF00)
	return attach("eocd", "wrap.zip", wrap, "short.zip", z[:eocd+10])
}

func genRAR() []byte { // BI-21
	r5 := append([]byte("Rar!\x1a\x07\x01\x00"), 0xff, 0xff, 0xff, 0xff, 0x0f, 0x02, 0x03, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)
	r4 := append([]byte("Rar!\x1a\x07\x00"), 0xcf, 0x90, 0x73, 0x00, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x74, 0x04, 0x00)
	return attach("rar", "overflow.rar", r5, "flag10.rar", r4, "setup.part1.exe", []byte("Rar!\x1a\x07\x00 split"))
}

func gen7z() []byte { // BI-22
	r := rand.New(rand.NewPCG(7, 7))
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = byte(r.UintN(256))
	}
	hdr := []byte{'7', 'z', 0xBC, 0xAF, 0x27, 0x1C, 0, 4}
	hdr = binary.LittleEndian.AppendUint32(hdr, 0)
	hdr = binary.LittleEndian.AppendUint64(hdr, 32)
	hdr = binary.LittleEndian.AppendUint64(hdr, 4000)
	hdr = binary.LittleEndian.AppendUint32(hdr, 0)
	return attach("7z", "bogus.7z", append(hdr, junk...))
}

// genEICARContainers puts EICAR in every container Go can write.
func genEICARContainers() []byte { // BI-34
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	tw.WriteHeader(&tar.Header{Name: "e.com", Mode: 0o644, Size: int64(len(stackutil.EICAR))})
	tw.Write([]byte(stackutil.EICAR))
	tw.Close()
	var gz bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write(tb.Bytes())
	gw.Close()
	var g1 bytes.Buffer
	gw = gzip.NewWriter(&g1)
	gw.Write([]byte(stackutil.EICAR))
	gw.Close()
	inner := string(attach("inner", "inner.zip", stackutil.ZipOf(map[string][]byte{"e.com": []byte(stackutil.EICAR)})))
	return []byte(strings.Replace(string(attach("eicar everywhere", "e.zip", stackutil.ZipOf(map[string][]byte{"e.com": []byte(stackutil.EICAR)}),
		"e.tar", tb.Bytes(), "e.tar.gz", gz.Bytes(), "e.gz", g1.Bytes(), "e.com", []byte(stackutil.EICAR))), "--zz--\n",
		"--zz\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n"+strings.ReplaceAll(stackutil.EICAR, "=", "=3D")+"\n"+
			"--zz\nContent-Type: message/rfc822\n\n"+inner+"\n--zz--\n", 1))
}

func genBig(size int) []byte { // BI-37
	r := rand.New(rand.NewPCG(37, 37))
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(r.UintN(256))
	}
	return attach("big", "big.bin", data)
}

func genHTML(div int) []byte { // BI-30
	var b strings.Builder
	for i := 0; i < 100000/div; i++ {
		fmt.Fprintf(&b, "<a href=\"http://l%d.example/%s\">x</a>", i, strings.Repeat("p", i%50))
	}
	b.WriteString(strings.Repeat("<div>", 8190) + "<b><i><table><tr><td>unclosed")
	b.WriteString("<a href=\"http://" + strings.Repeat("u", 100000) + "\">long</a>&nGt")
	return mailWith("html", "Content-Type: text/html\n\n"+b.String())
}

func genBacktrack() []byte { // BI-40
	s := strings.Repeat("a", 60000) + "!"
	return mailWith(s, "Content-Type: multipart/mixed; boundary=\"zz\"\n\n--zz\nContent-Type: text/plain; name=\""+
		strings.Repeat("a.", 300)+"txt\"\n\nx\n--zz--\n")
}

// genOffice: an OLE2 document with a VBA storage name, and a macro-enabled
// document renamed .docx.
func genOffice() []byte { // BI-27
	ole := append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 504)...)
	ole = append(ole, []byte("V\x00B\x00A\x00_\x00P\x00R\x00O\x00J\x00E\x00C\x00T\x00 Attribute VB_Name = \"ThisDocument\" AutoOpen Shell")...)
	docm := stackutil.ZipOf(map[string][]byte{
		"[Content_Types].xml":   []byte(`<Types><Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>`),
		"word/document.xml":     []byte("<w:document/>"),
		"word/vbaProject.bin":   ole,
		"word/_rels/x.xml.rels": []byte("<Relationships/>"),
	})
	return attach("office", "invoice.doc", ole, "report.docx", docm)
}

// genTNEF: winmail.dat holding an executable.
func genTNEF() []byte { // BI-28
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	attr := func(id uint32, val []byte) {
		b.WriteByte(0x02)
		le(id)
		le(uint32(len(val)))
		b.Write(val)
		le(uint16(0))
	}
	le(uint32(0x223E9F78))
	le(uint16(0x0001))
	attr(0x00069002, make([]byte, 14))
	attr(0x00018010, []byte("setup.exe\x00"))
	attr(0x0006800F, append([]byte("MZ\x90\x00"), make([]byte, 200)...))
	return attach("tnef", "winmail.dat", b.Bytes())
}
