package explode

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf16"
)

type cfbStream struct {
	name string
	data []byte
}

// buildCFB writes a version 3 compound file (512-byte sectors) holding
// streams: those under 4096 bytes in the mini stream, the others in
// regular sectors.
func buildCFB(streams []cfbStream) []byte {
	const sec = 512
	le := binary.LittleEndian
	var mini, big []cfbStream
	for _, s := range streams {
		if len(s.data) < 4096 {
			mini = append(mini, s)
		} else {
			big = append(big, s)
		}
	}
	pad := func(b []byte, unit int) []byte {
		for len(b)%unit != 0 {
			b = append(b, 0)
		}
		return b
	}
	// The mini stream and the mini FAT.
	var ms []byte
	var miniFAT []uint32
	miniStart := map[string]uint32{}
	for _, s := range mini {
		start := uint32(len(ms) / 64)
		miniStart[s.name] = start
		ms = append(ms, pad(append([]byte(nil), s.data...), 64)...)
		n := uint32(len(ms)/64) - start
		for i := uint32(0); i < n; i++ {
			next := start + i + 1
			if i == n-1 {
				next = cfbEndOfChain
			}
			miniFAT = append(miniFAT, next)
		}
	}
	ms = pad(ms, sec)
	// Sectors: 0 FAT, 1 directory, 2 mini FAT, then the mini stream, then the big streams.
	fat := []uint32{0xfffffffd, cfbEndOfChain, cfbEndOfChain}
	var body []byte
	chain := func(b []byte) uint32 {
		start := uint32(len(fat))
		n := uint32(len(pad(b, sec)) / sec)
		for i := uint32(0); i < n; i++ {
			next := start + i + 1
			if i == n-1 {
				next = cfbEndOfChain
			}
			fat = append(fat, next)
		}
		body = append(body, pad(append([]byte(nil), b...), sec)...)
		return start
	}
	rootStart := uint32(cfbEndOfChain)
	if len(ms) > 0 {
		rootStart = chain(ms)
	}
	bigStart := map[string]uint32{}
	for _, s := range big {
		bigStart[s.name] = chain(s.data)
	}
	entry := func(name string, typ byte, start uint32, size int) []byte {
		e := make([]byte, 128)
		u := utf16.Encode([]rune(name))
		for i, c := range u {
			le.PutUint16(e[2*i:], c)
		}
		le.PutUint16(e[64:], uint16(2*len(u)+2))
		e[66] = typ
		le.PutUint32(e[68:], cfbFree)
		le.PutUint32(e[72:], cfbFree)
		le.PutUint32(e[76:], cfbFree)
		le.PutUint32(e[116:], start)
		le.PutUint32(e[120:], uint32(size))
		return e
	}
	dir := entry("Root Entry", 5, rootStart, len(ms))
	for _, s := range mini {
		dir = append(dir, entry(s.name, 2, miniStart[s.name], len(s.data))...)
	}
	for _, s := range big {
		dir = append(dir, entry(s.name, 2, bigStart[s.name], len(s.data))...)
	}
	hdr := make([]byte, sec)
	copy(hdr, cfbMagic)
	le.PutUint16(hdr[0x18:], 0x3e)
	le.PutUint16(hdr[0x1a:], 3)
	le.PutUint16(hdr[0x1c:], 0xfffe)
	le.PutUint16(hdr[0x1e:], 9)
	le.PutUint16(hdr[0x20:], 6)
	le.PutUint32(hdr[0x2c:], 1)
	le.PutUint32(hdr[0x30:], 1)
	le.PutUint32(hdr[0x38:], 4096)
	le.PutUint32(hdr[0x3c:], 2)
	le.PutUint32(hdr[0x40:], 1)
	le.PutUint32(hdr[0x44:], cfbEndOfChain)
	for i := 0; i < 109; i++ {
		le.PutUint32(hdr[0x4c+4*i:], cfbFree)
	}
	le.PutUint32(hdr[0x4c:], 0)
	fatSec := make([]byte, sec)
	for i := 0; i < sec/4; i++ {
		v := uint32(cfbFree)
		if i < len(fat) {
			v = fat[i]
		}
		le.PutUint32(fatSec[4*i:], v)
	}
	mfSec := make([]byte, sec)
	for i := 0; i < sec/4; i++ {
		v := uint32(cfbFree)
		if i < len(miniFAT) {
			v = miniFAT[i]
		}
		le.PutUint32(mfSec[4*i:], v)
	}
	out := append(append(append(append(hdr, fatSec...), pad(dir, sec)...), mfSec...), body...)
	return out
}

// ole10 is an Ole10Native packager stream.
func ole10(label, path, temp string, data []byte) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	b.Write([]byte{0, 0, 0, 0, 2, 0})
	b.WriteString(label + "\x00" + path + "\x00")
	b.Write([]byte{0, 0, 3, 0})
	binary.Write(&b, le, uint32(len(temp)+1))
	b.WriteString(temp + "\x00")
	binary.Write(&b, le, uint32(len(data)))
	b.Write(data)
	out := b.Bytes()
	le.PutUint32(out, uint32(len(out)-4))
	return out
}

func TestOleNative(t *testing.T) {
	exe := append([]byte("MZ"), bytes.Repeat([]byte{0x90}, 5000)...)
	doc := buildCFB([]cfbStream{
		{"WordDocument", bytes.Repeat([]byte("w"), 4200)},
		{ole10Native, ole10("invoice.pdf", `C:\Users\x\evil.exe`, `C:\Temp\evil.exe`, exe)},
		{"\x01CompObj", []byte("small")},
	})
	files, err := oleNative(doc, 10)
	if err != nil || len(files) != 1 {
		t.Fatalf("oleNative = %d files, %v", len(files), err)
	}
	f := files[0]
	if f.Name != "invoice.pdf" || strings.Join(f.Alt, "|") != "evil.exe" || !bytes.Equal(f.Data, exe) {
		t.Errorf("file = %q %q %d bytes", f.Name, f.Alt, len(f.Data))
	}
	// A small package lives in the mini stream.
	small := buildCFB([]cfbStream{{ole10Native, ole10("", `D:\run.js`, "", []byte("WScript.Echo(1)"))}})
	files, err = oleNative(small, 10)
	if err != nil || len(files) != 1 || files[0].Name != "run.js" || string(files[0].Data) != "WScript.Echo(1)" {
		t.Errorf("mini stream: %+v, %v", files, err)
	}
}

// TestOleInMessage: a .doc attachment's embedded executable is a part of
// its own, named by the package's label and path, when UnpackOLE is on.
func TestOleInMessage(t *testing.T) {
	doc := buildCFB([]cfbStream{{"WordDocument", bytes.Repeat([]byte("w"), 4200)},
		{ole10Native, ole10("readme.txt", `C:\x\payload.exe`, "", []byte("MZ\x90\x00payload"))}})
	raw := "From: a@b\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/msword; name=\"a.doc\"\n" +
		"Content-Transfer-Encoding: base64\n\n" + base64.StdEncoding.EncodeToString(doc) + "\n--b--\n"
	for _, on := range []bool{false, true} {
		lim := DefaultLimits()
		lim.UnpackOLE = on
		res, err := Explode([]byte(raw), lim)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, p := range res.Parts {
			if p.Filename == "readme.txt" && len(p.AltNames) == 1 && p.AltNames[0] == "payload.exe" && p.Parent >= 0 {
				found = true
			}
		}
		if found != on {
			t.Errorf("UnpackOLE %v: embedded file found = %v; parts %+v", on, found, res.Parts)
		}
	}
}

func FuzzOleNative(f *testing.F) {
	f.Add(buildCFB([]cfbStream{{ole10Native, ole10("a", "b", "c", []byte("d"))}}))
	f.Add(buildCFB([]cfbStream{{"x", bytes.Repeat([]byte("y"), 5000)}, {ole10Native, ole10("a", "b", "c", bytes.Repeat([]byte("d"), 5000))}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		files, _ := oleNative(data, 10)
		for _, f := range files {
			if len(f.Data) > len(data) {
				t.Errorf("a file of %d bytes out of %d", len(f.Data), len(data))
			}
		}
	})
}
