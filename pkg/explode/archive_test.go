package explode

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/message"
)

// mailWith wraps data as a base64 attachment called name.
func mailWith(name string, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("From: a@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\n")
	b.WriteString("Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n")
	b.WriteString("Content-Type: text/plain\r\n\r\nsee attachment\r\n--b1\r\n")
	b.WriteString("Content-Type: application/octet-stream; name=\"" + name + "\"\r\n")
	b.WriteString("Content-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--b1--\r\n")
	return b.Bytes()
}

// zipOf builds a zip with the given members (name, content) in order.
func zipOf(t testing.TB, members ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(members); i += 2 {
		w, err := zw.Create(members[i])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(members[i+1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const peStub = "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" +
	"\xb8\x00\x00\x00\x00\x00\x00\x00\x40\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x40\x00\x00\x00" +
	"PE\x00\x00\x4c\x01\x03\x00"

func findPart(res *Result, path string) (message.Part, bool) {
	for _, p := range res.Parts {
		if p.Path == path {
			return p, true
		}
	}
	return message.Part{}, false
}

func TestZipInZip(t *testing.T) {
	inner := zipOf(t, "invoice.pdf.exe", peStub, "readme.txt", "hello")
	outer := zipOf(t, "inner.zip", string(inner))
	res := explodeFile(t, mailWith("outer.zip", outer), DefaultLimits())
	p, ok := findPart(res, "2/inner.zip/invoice.pdf.exe")
	if !ok {
		t.Fatalf("no member 2/inner.zip/invoice.pdf.exe in\n%s", dump(res))
	}
	if p.Depth != 2 || p.Filename != "invoice.pdf.exe" || p.DetectedType != "application/vnd.microsoft.portable-executable" {
		t.Errorf("member = %+v", p)
	}
	if in, _ := findPart(res, "2/inner.zip"); !in.Archive || in.Parent != 1 || p.Parent != in.Index {
		t.Errorf("inner.zip = %+v, member parent %d", in, p.Parent)
	}
	if p.MIMEPath != "2" {
		t.Errorf("MIMEPath = %q, want 2", p.MIMEPath)
	}
}

func TestTarGz(t *testing.T) {
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	for _, n := range []string{"a/run.sh", "../../etc/passwd"} {
		tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: 5})
		tw.Write([]byte("echo\n"))
	}
	tw.Close()
	var gb bytes.Buffer
	gw := gzip.NewWriter(&gb)
	gw.Write(tb.Bytes())
	gw.Close()
	res := explodeFile(t, mailWith("x.tgz", gb.Bytes()), DefaultLimits())
	for _, want := range []string{"2/x/a/run.sh", "2/x/../../etc/passwd"} {
		if _, ok := findPart(res, want); !ok {
			t.Errorf("no part %q in\n%s", want, dump(res))
		}
	}
}

func TestEncryptedZip(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "secret.exe", Flags: 1, Method: zip.Store})
	w.Write([]byte("not really encrypted"))
	zw.Close()
	for _, allow := range []bool{true, false} {
		lim := DefaultLimits()
		lim.AllowPasswordArchives = allow
		res := explodeFile(t, mailWith("s.zip", buf.Bytes()), lim)
		r, ok := hasReport(res, TextPassword)
		if !ok {
			t.Fatalf("allow=%v: no password report in\n%s", allow, dump(res))
		}
		want := message.ActionReplace
		if allow {
			want = message.ActionNone
		}
		if r.Action != want {
			t.Errorf("allow=%v: action %q, want %q", allow, r.Action, want)
		}
		if p, ok := findPart(res, "2/secret.exe"); !ok || !p.Encrypted || p.Data != nil {
			t.Errorf("allow=%v: member = %+v", allow, p)
		}
	}
}

func TestArchiveLimits(t *testing.T) {
	nested := zipOf(t, "x.txt", "x")
	for range 4 {
		nested = zipOf(t, "n.zip", string(nested))
	}
	many := make([]string, 0, 40)
	for i := range 20 {
		many = append(many, strings.Repeat("m", i+1)+".txt", "x")
	}
	lim := DefaultLimits()
	lim.MaxArchiveDepth = 3
	lim.MaxArchiveMembers = 10
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"depth", nested, TextArchiveDepth},
		{"members", zipOf(t, many...), TextArchiveMembers},
		{"unreadable", append([]byte("PK\x03\x04"), make([]byte, 100)...), TextUnreadable},
	}
	for _, tt := range tests {
		res := explodeFile(t, mailWith(tt.name+".zip", tt.data), lim)
		r, ok := hasReport(res, tt.want)
		if !ok {
			t.Errorf("%s: no %q report in\n%s", tt.name, tt.want, dump(res))
			continue
		}
		if r.Action != message.ActionReplace || r.Part < 0 {
			t.Errorf("%s: report %+v, want part-level replace", tt.name, r)
		}
	}
}

// zerosDeflate returns a raw deflate stream of n zero bytes.
func zerosDeflate(t testing.TB, n int) []byte {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	chunk := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, len(chunk))
		fw.Write(chunk[:k])
		n -= k
	}
	fw.Close()
	return buf.Bytes()
}

// overlapZip builds a non-recursive zip bomb: one local file (n zeros,
// deflated) and count central-directory entries that all point at it.
func overlapZip(t testing.TB, n, count int) []byte {
	comp := zerosDeflate(t, n)
	crc := crc32.ChecksumIEEE(make([]byte, n))
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	le(uint32(0x04034b50))
	le([]uint16{20, 0, 8, 0, 0})
	le([]uint32{crc, uint32(len(comp)), uint32(n)})
	le([]uint16{1, 0})
	b.WriteString("a")
	b.Write(comp)
	cd := b.Len()
	for i := range count {
		name := []byte{byte('a' + i%26), byte('a' + i/26%26), byte('a' + i/676%26)}
		le(uint32(0x02014b50))
		le([]uint16{20, 20, 0, 8, 0, 0})
		le([]uint32{crc, uint32(len(comp)), uint32(n)})
		le([]uint16{uint16(len(name)), 0, 0, 0, 0})
		le([]uint32{0, 0})
		b.Write(name)
	}
	end := b.Len()
	le(uint32(0x06054b50))
	le([]uint16{0, 0, uint16(count), uint16(count)})
	le([]uint32{uint32(end - cd), uint32(cd)})
	le(uint16(0))
	return b.Bytes()
}

// recursiveZip builds a 42.zip-like bomb: 16 copies of a 64 MiB zero file,
// zipped, then 16 copies of that, levels times.
func recursiveZip(t testing.TB, levels int) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	comp := zerosDeflate(t, 64<<20)
	for i := range 16 {
		w, _ := zw.CreateRaw(&zip.FileHeader{Name: string(rune('a'+i)) + ".bin", Method: zip.Deflate,
			CRC32: crc32.ChecksumIEEE(nil), CompressedSize64: uint64(len(comp)), UncompressedSize64: 64 << 20})
		w.Write(comp)
	}
	zw.Close()
	data := buf.Bytes()
	for range levels {
		m := make([]string, 0, 32)
		for i := range 16 {
			m = append(m, string(rune('a'+i))+".zip", string(data))
		}
		data = zipOf(t, m...)
	}
	return data
}

func TestZipBombs(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"overlap", overlapZip(t, 50<<20, 1000)},
		{"recursive", recursiveZip(t, 4)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m0, m1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m0)
			res := explodeFile(t, mailWith(tt.name+".zip", tt.data), DefaultLimits())
			runtime.ReadMemStats(&m1)
			t.Logf("%s: %d bytes in, %d bytes expanded, %d MiB allocated", tt.name, len(tt.data),
				res.Stats.ExpandedBytes, (m1.TotalAlloc-m0.TotalAlloc)>>20)
			if _, ok := hasReport(res, TextArchiveExpand); !ok {
				t.Errorf("no %q report in\n%s", TextArchiveExpand, dump(res))
			}
		})
	}
}

func BenchmarkOverlapBomb(b *testing.B) {
	raw := mailWith("bomb.zip", overlapZip(b, 50<<20, 1000))
	b.ReportAllocs()
	for b.Loop() {
		Explode(raw, DefaultLimits())
	}
}

// Fixtures made with p7zip 16.02: "7z a [-psecret -mhe=on|off]" and
// "7z a -tzip -psecret -mem=AES256", members invoice.pdf.exe (+ readme.txt).
func TestArchiveFixtures(t *testing.T) {
	tests := []struct {
		file      string
		encrypted bool
		member    string // a member that must be listed ("" = names hidden)
	}{
		{"plain.7z", false, "invoice.pdf.exe"},
		{"hdrenc.7z", true, ""},
		{"dataenc.7z", true, ""},
		{"aes.zip", true, "invoice.pdf.exe"},
	}
	for _, tt := range tests {
		data, err := os.ReadFile("testdata/archives/" + tt.file)
		if err != nil {
			t.Fatal(err)
		}
		res := explodeFile(t, mailWith(tt.file, data), DefaultLimits())
		_, gotEnc := hasReport(res, TextPassword)
		if gotEnc != tt.encrypted {
			t.Errorf("%s: password report %v, want %v\n%s", tt.file, gotEnc, tt.encrypted, dump(res))
		}
		if _, bad := hasReport(res, TextUnreadable); bad {
			t.Errorf("%s: reported unreadable\n%s", tt.file, dump(res))
		}
		if tt.member != "" {
			if _, ok := findPart(res, "2/"+tt.member); !ok {
				t.Errorf("%s: no member %s\n%s", tt.file, tt.member, dump(res))
			}
		}
		if arc := res.Parts[1]; arc.Encrypted != tt.encrypted || !arc.Archive {
			t.Errorf("%s: archive part %+v", tt.file, arc)
		}
	}
}

// TestSevenZipKeyDerivationBomb patches the AES coder of hdrenc.7z to ask
// for 2^62 key-derivation rounds (and fixes the header CRCs): the stock
// reader would spin for ever, we must answer "password-protected" at once.
func TestSevenZipKeyDerivationBomb(t *testing.T) {
	data, err := os.ReadFile("testdata/archives/hdrenc.7z")
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.Clone(data)
	i := bytes.Index(data, []byte{0x06, 0xf1, 0x07, 0x01})
	if i < 0 || i+6 > len(data) {
		t.Fatal("no AES coder in fixture")
	}
	data[i+5] = data[i+5]&^0x3f | 62
	off := 32 + binary.LittleEndian.Uint64(data[12:20])
	size := binary.LittleEndian.Uint64(data[20:28])
	binary.LittleEndian.PutUint32(data[28:32], crc32.ChecksumIEEE(data[off:off+size]))
	binary.LittleEndian.PutUint32(data[8:12], crc32.ChecksumIEEE(data[12:32]))
	res := explodeFile(t, mailWith("bomb.7z", data), DefaultLimits())
	if _, ok := hasReport(res, TextPassword); !ok {
		t.Errorf("no password report in\n%s", dump(res))
	}
}

// tnefOf builds a TNEF stream with one attachment.
func tnefOf(name string, data []byte) []byte {
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	attr := func(id uint32, val []byte) {
		b.WriteByte(tnefLevelAttach)
		le(id)
		le(uint32(len(val)))
		b.Write(val)
		le(uint16(0)) // checksum: not verified
	}
	le(uint32(tnefSignature))
	le(uint16(0x0001))
	attr(tnefAttAttachRend, make([]byte, 14))
	attr(tnefAttAttachName, append([]byte(name), 0))
	attr(tnefAttAttachData, data)
	return b.Bytes()
}

func TestTNEF(t *testing.T) {
	good := tnefOf("payload.exe", []byte(peStub))
	res := explodeFile(t, mailWith("winmail.dat", good), DefaultLimits())
	p, ok := findPart(res, "2/payload.exe")
	if !ok || p.Parent != 1 || p.DetectedType != "application/vnd.microsoft.portable-executable" {
		t.Errorf("TNEF member missing or wrong:\n%s", dump(res))
	}
	if res.Parts[1].Archive {
		t.Error("winmail.dat marked as archive: its members would get the archive rules")
	}
	truncated := good[:len(good)-10]
	res = explodeFile(t, mailWith("winmail.dat", truncated), DefaultLimits())
	if _, ok := hasReport(res, TextTNEF); !ok {
		t.Errorf("truncated TNEF: no report in\n%s", dump(res))
	}
}

// TestPartsPerMessage: archives in archives multiply their members; each
// archive is within max_archive_members, the message is not within
// max_parts. Both sides of the limit.
func TestPartsPerMessage(t *testing.T) {
	var inner []string
	for i := range 10 {
		inner = append(inner, fmt.Sprintf("m%d.txt", i), "x")
	}
	in := zipOf(t, inner...)
	var outer []string
	for i := range 10 {
		outer = append(outer, fmt.Sprintf("z%d.zip", i), string(in))
	}
	data := zipOf(t, outer...) // 10 + 100 members
	lim := DefaultLimits()
	lim.MaxArchiveMembers = 10
	for _, tt := range []struct {
		maxParts int
		over     bool
	}{{200, false}, {50, true}} {
		lim.MaxParts = tt.maxParts
		res := explodeFile(t, mailWith("outer.zip", data), lim)
		_, over := hasReport(res, TextParts)
		if over != tt.over {
			t.Errorf("max_parts %d: %q report %v, want %v\n%s", tt.maxParts, TextParts, over, tt.over, dump(res))
		}
		if len(res.Parts) > tt.maxParts+1 {
			t.Errorf("max_parts %d: %d parts", tt.maxParts, len(res.Parts))
		}
		if !tt.over && len(res.Parts) < 110 {
			t.Errorf("max_parts %d: %d parts, want every member (110 and the MIME parts)", tt.maxParts, len(res.Parts))
		}
	}
}
