package explode

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/qscan/qscan/pkg/message"
)

// forwarded is a message with an .exe and a .js attachment.
func forwarded() string {
	return "From: b@example.org\r\nSubject: fwd\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=in\r\n\r\n" +
		"--in\r\nContent-Type: text/plain\r\n\r\nsee\r\n" +
		"--in\r\nContent-Type: application/octet-stream; name=\"tool.exe\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString([]byte(peStub)) + "\r\n" +
		"--in\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"run.js\"\r\n\r\nWScript.Echo(1);\r\n" +
		"--in--\r\n"
}

// attached wraps data as a base64 attachment with the given part header.
func attached(partHeader string, data []byte) []byte {
	return []byte("From: a@example.com\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b1\r\n" + partHeader +
		"Content-Transfer-Encoding: base64\r\n\r\n" + base64.StdEncoding.EncodeToString(data) + "\r\n--b1--\r\n")
}

// wantMembers checks that each name is a part below a part called under.
func wantMembers(t *testing.T, what string, res *Result, names ...string) {
	t.Helper()
	for _, name := range names {
		found := false
		for _, p := range res.Parts {
			if p.Filename == name && p.Parent >= 0 {
				found = true
				if p.MIMEPath != "2" {
					t.Errorf("%s: %s has MIMEPath %q, want 2 (the attachment that holds it)", what, name, p.MIMEPath)
				}
			}
		}
		if !found {
			t.Errorf("%s: no member %s in\n%s", what, name, dump(res))
		}
	}
}

// A forwarded message is opened however it is attached: a mail client
// shows its attachments.
func TestEmbeddedMessages(t *testing.T) {
	fwd := []byte(forwarded())
	tests := []struct {
		name string
		raw  []byte
	}{
		{"octet-stream forward.eml", attached("Content-Type: application/octet-stream; name=\"forward.eml\"\r\n", fwd)},
		{"no type, forward.eml", attached("Content-Disposition: attachment; filename=\"forward.eml\"\r\n", fwd)},
		{"octet-stream, no name", attached("Content-Type: application/octet-stream\r\n", fwd)},
		{"eml in a zip", mailWith("mail.zip", zipOf(t, "forward.eml", string(fwd)))},
		{"eml in an eml", attached("Content-Type: application/octet-stream; name=\"a.eml\"\r\n",
			attached("Content-Type: application/octet-stream; name=\"forward.eml\"\r\n", fwd))},
	}
	for _, tt := range tests {
		res := explodeFile(t, tt.raw, DefaultLimits())
		wantMembers(t, tt.name, res, "tool.exe", "run.js")
		for _, r := range res.Reports {
			if r.Action != message.ActionNone {
				t.Errorf("%s: unexpected report %+v", tt.name, r)
			}
		}
	}
	// A text part that merely looks like a header is left alone.
	res := explodeFile(t, attached("Content-Type: text/plain\r\n", fwd), DefaultLimits())
	if len(res.Parts) != 2 {
		t.Errorf("text/plain part opened as a message\n%s", dump(res))
	}
}

// newc builds an SVR4 cpio archive; odc a POSIX one.
func cpioOf(odc bool, members ...string) []byte {
	var b bytes.Buffer
	add := func(name string, mode int, data string) {
		if odc {
			fmt.Fprintf(&b, "070707%06o%06o%06o%06o%06o%06o%06o%011o%06o%011o", 0, 1, mode, 0, 0, 1, 0, 0, len(name)+1, len(data))
			b.WriteString(name + "\x00" + data)
			return
		}
		fmt.Fprintf(&b, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", 1, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
		b.WriteString(name + "\x00")
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
		b.WriteString(data)
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
	}
	add("dir", 0o40755, "")
	for i := 0; i+1 < len(members); i += 2 {
		add(members[i], 0o100644, members[i+1])
	}
	add("TRAILER!!!", 0, "")
	return b.Bytes()
}

// arOf builds an ar archive with GNU long names.
func arOf(members ...string) []byte {
	var b, names bytes.Buffer
	b.WriteString("!<arch>\n")
	hdr := func(name string, size int) {
		fmt.Fprintf(&b, "%-16s%-12d%-6d%-6d%-8o%-10d`\n", name, 0, 0, 0, 0o644, size)
	}
	for i := 0; i+1 < len(members); i += 2 {
		if len(members[i]) > 15 {
			names.WriteString(members[i] + "/\n")
		}
	}
	if names.Len() > 0 {
		hdr("//", names.Len())
		b.Write(names.Bytes())
		if names.Len()%2 == 1 {
			b.WriteByte('\n')
		}
	}
	off := 0
	for i := 0; i+1 < len(members); i += 2 {
		name, data := members[i]+"/", members[i+1]
		if len(members[i]) > 15 {
			name = fmt.Sprintf("/%d", off)
			off += len(members[i]) + 2
		}
		hdr(name, len(data))
		b.WriteString(data)
		if len(data)%2 == 1 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// rpmOf builds a minimal rpm: lead, two empty headers, a gzipped payload.
func rpmOf(t *testing.T, payload []byte) []byte {
	var b bytes.Buffer
	lead := make([]byte, 96)
	copy(lead, "\xed\xab\xee\xdb\x03\x00")
	b.Write(lead)
	for range 2 {
		b.Write([]byte{0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0})
		binary.Write(&b, binary.BigEndian, []uint32{0, 0})
	}
	b.Write(gzipOf(t, payload))
	return b.Bytes()
}

// The Unix archives are opened and their members checked (they were
// reported "unsupported" and let through).
func TestUnixArchives(t *testing.T) {
	long := "a-rather-long-member-name.exe"
	deb := arOf("debian-binary", "2.0\n", "data.tar.gz", string(gzipOf(t, tarOf(t, "usr/bin/tool.exe", peStub))))
	tests := []struct {
		name  string
		data  []byte
		files []string
	}{
		{"a.cpio", cpioOf(false, "tool.exe", peStub, "run.js", "x"), []string{"tool.exe", "run.js"}},
		{"b.cpio", cpioOf(true, "tool.exe", peStub, "run.js", "x"), []string{"tool.exe", "run.js"}},
		{"c.a", arOf("tool.exe", peStub, long, "y"), []string{"tool.exe", long}},
		{"d.deb", deb, []string{"usr/bin/tool.exe"}},
		{"e.rpm", rpmOf(t, cpioOf(false, "./usr/bin/tool.exe", peStub)), []string{"./usr/bin/tool.exe"}},
	}
	for _, tt := range tests {
		res := explodeFile(t, mailWith(tt.name, tt.data), DefaultLimits())
		wantMembers(t, tt.name, res, tt.files...)
		if len(res.Reports) > 0 {
			t.Errorf("%s: unexpected reports\n%s", tt.name, dump(res))
		}
	}
}

// Containers qscan cannot open are taken out unless allowed.
func TestUnopenedContainers(t *testing.T) {
	iso := make([]byte, 0x9000)
	copy(iso[0x8001:], "CD001")
	cab := append([]byte("MSCF\x00\x00\x00\x00"), make([]byte, 64)...)
	for _, tt := range []struct {
		name, format string
		data         []byte
	}{{"a.iso", "iso9660", iso}, {"b.cab", "cab", cab}} {
		for _, allow := range []bool{false, true} {
			lim := DefaultLimits()
			lim.AllowUnopenedArchives = allow
			res := explodeFile(t, mailWith(tt.name, tt.data), lim)
			r, ok := hasReport(res, TextUnsupported+": "+tt.format)
			want := message.ActionReplace
			if allow {
				want = message.ActionNone
			}
			if !ok || r.Action != want || r.Part != 1 {
				t.Errorf("%s allow=%v: report %+v (found %v), want part 1 %q\n%s", tt.name, allow, r, ok, want, dump(res))
			}
		}
	}
}

// Files hidden in a text file are decoded wherever the text file is: a
// uuencoded program in a .txt in a zip.
func TestTextFilesInArchives(t *testing.T) {
	res := explodeFile(t, mailWith("notes.zip", zipOf(t, "notes.txt", "hello\n"+uuOf("tool.exe", []byte(peStub)))), DefaultLimits())
	p, ok := findPart(res, "2/notes.txt/tool.exe")
	if !ok || !bytes.Equal(p.Data, []byte(peStub)) {
		t.Errorf("no decoded 2/notes.txt/tool.exe in\n%s", dump(res))
	}
}

// A zip behind junk (a self-extracting program's stub) is opened, as zip
// readers do.
func TestZipBehindJunk(t *testing.T) {
	data := append([]byte(peStub+"stub code"), zipOf(t, "run.js", "x")...)
	res := explodeFile(t, mailWith("setup.exe", data), DefaultLimits())
	wantMembers(t, "sfx", res, "run.js")
}

// tarOf builds a tar archive.
func tarOf(t *testing.T, members ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for i := 0; i+1 < len(members); i += 2 {
		tw.WriteHeader(&tar.Header{Name: members[i], Mode: 0o644, Size: int64(len(members[i+1]))})
		tw.Write([]byte(members[i+1]))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
