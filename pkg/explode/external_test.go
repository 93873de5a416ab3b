package explode

import (
	"bytes"
	"compress/flate"
	"crypto/md5"
	"encoding/hex"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zip"

	"github.com/qscan/qscan/pkg/message"
)

const avCorpus = "/work/shared/corpus/av"

// sevenZipPath finds 7-Zip or skips the test.
func sevenZipPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/7zz", "/usr/bin/7z"} {
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	t.Skip("7-Zip not installed (apt-get install 7zip): external unpacker not tested")
	return ""
}

// corpusFile reads a file of the AV corpus or skips the test.
func corpusFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(avCorpus, name))
	if err != nil {
		t.Skipf("corpus file %s absent: %v", name, err)
	}
	return data
}

func sevenLimits(t *testing.T) Limits {
	lim := DefaultLimits()
	lim.SevenZip = SevenZip{Path: sevenZipPath(t), TempDir: t.TempDir()}
	return lim
}

// clamExeAt returns the path of the part that is clam.exe, or "".
func clamExeAt(res *Result) string {
	for _, p := range res.Parts {
		sum := md5.Sum(p.Data)
		if hex.EncodeToString(sum[:]) == clamExeMD5 && p.Depth > 0 {
			return p.Path
		}
	}
	return ""
}

// deflate64Zip builds a zip whose members claim Deflate64 (method 9),
// which the Go zip reader lacks; their data is a plain deflate stream of
// short text, which a Deflate64 decoder reads the same. encrypted marks
// members as encrypted (flag bit 0).
func deflate64Zip(t *testing.T, encrypted map[string]bool, members ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for i := 0; i+1 < len(members); i += 2 {
		var d bytes.Buffer
		fw, _ := flate.NewWriter(&d, flate.BestSpeed)
		fw.Write([]byte(members[i+1]))
		fw.Close()
		h := &zip.FileHeader{Name: members[i], Method: 9, CRC32: crc32.ChecksumIEEE([]byte(members[i+1])),
			CompressedSize64: uint64(d.Len()), UncompressedSize64: uint64(len(members[i+1]))}
		if encrypted[members[i]] {
			h.Flags |= 1
		}
		w, err := zw.CreateRaw(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(d.Bytes())
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The archives the Go readers cannot open are read by 7-Zip: clam.exe is
// found in each.
func TestSevenZipCorpus(t *testing.T) {
	lim := sevenLimits(t)
	for _, name := range []string{"clam.arj", "clam.cab", "clam.chm", "clam.d64.zip", "clam.impl.zip"} {
		data := corpusFile(t, name)
		res := explodeFile(t, mailWith(name, data), lim)
		if at := clamExeAt(res); at == "" {
			t.Errorf("%s: clam.exe not found\n%s", name, dump(res))
		}
		for _, r := range res.Reports {
			t.Errorf("%s: unexpected report %+v", name, r)
		}
	}
	if left, _ := os.ReadDir(lim.SevenZip.TempDir); len(left) != 0 {
		t.Errorf("scratch directories left behind: %v", left)
	}
}

// Without 7-Zip, every archive that cannot be opened gets a report; the
// big-endian cpio is read by qscan's own reader either way.
func TestForeignArchivesWithoutSevenZip(t *testing.T) {
	for name, format := range map[string]string{"clam.arj": "arj", "clam.cab": "cab", "clam.chm": "chm"} {
		res := explodeFile(t, mailWith(name, corpusFile(t, name)), DefaultLimits())
		if r, ok := hasReport(res, TextUnsupported+": "+format); !ok || r.Action != message.ActionReplace {
			t.Errorf("%s: report %+v (found %v), want %q replaced\n%s", name, r, ok, TextUnsupported+": "+format, dump(res))
		}
	}
	res := explodeFile(t, mailWith("x.zip", deflate64Zip(t, nil, "a.txt", "hello")), DefaultLimits())
	if _, ok := hasReport(res, TextUnreadable); !ok {
		t.Errorf("deflate64 zip without 7-Zip: no %q report\n%s", TextUnreadable, dump(res))
	}
	res = explodeFile(t, mailWith("x.cpio", corpusFile(t, "clam.bin-be.cpio")), DefaultLimits())
	if clamExeAt(res) == "" {
		t.Errorf("big-endian cpio: clam.exe not found\n%s", dump(res))
	}
}

// Member names are data: a name that climbs out of the scratch directory
// creates nothing, and several members are cut apart correctly.
func TestSevenZipNamesAreNotPaths(t *testing.T) {
	lim := sevenLimits(t)
	data := deflate64Zip(t, nil, "../../../escape.txt", "first member\n", "/tmp/abs.txt", "second one\n", "dir/a.js", "WScript.Echo(1);\n")
	res := explodeFile(t, mailWith("x.zip", data), lim)
	want := map[string]string{"../../../escape.txt": "first member\n", "/tmp/abs.txt": "second one\n", "dir/a.js": "WScript.Echo(1);\n"}
	for _, p := range res.Parts[2:] {
		if w, ok := want[p.Filename]; !ok || string(p.Data) != w {
			t.Errorf("member %q = %q, want %q", p.Filename, p.Data, w)
		}
		delete(want, p.Filename)
	}
	if len(want) != 0 || len(res.Reports) != 0 {
		t.Errorf("missing %v, reports %v\n%s", want, res.Reports, dump(res))
	}
	for _, p := range []string{filepath.Join(filepath.Dir(lim.SevenZip.TempDir), "escape.txt"), "/tmp/abs.txt", "/escape.txt"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was created", p)
		}
	}
}

// Encrypted members: the password report; beside plain members the
// archive is also unreadable (its stream cannot be cut safely).
func TestSevenZipEncrypted(t *testing.T) {
	lim := sevenLimits(t)
	all := deflate64Zip(t, map[string]bool{"a.txt": true}, "a.txt", "secret")
	res := explodeFile(t, mailWith("x.zip", all), lim)
	if _, ok := hasReport(res, TextPassword); !ok {
		t.Errorf("encrypted: no %q report\n%s", TextPassword, dump(res))
	}
	if _, ok := hasReport(res, TextUnreadable); ok {
		t.Errorf("wholly encrypted: unexpected %q report", TextUnreadable)
	}
	mixed := deflate64Zip(t, map[string]bool{"a.txt": true}, "a.txt", "secret", "b.js", "WScript.Echo(1);")
	res = explodeFile(t, mailWith("x.zip", mixed), lim)
	if _, ok := hasReport(res, TextUnreadable); !ok {
		t.Errorf("mixed: no %q report\n%s", TextUnreadable, dump(res))
	}
}

// 7-Zip runs under the same limits: each is tested just below and just
// at the value that stops it.
func TestSevenZipLimits(t *testing.T) {
	cab := corpusFile(t, "clam.cab")
	chm := corpusFile(t, "clam.chm")
	arj := corpusFile(t, "clam.arj")
	chmMembers := 17 // files in clam.chm, as 7-Zip lists them
	cabInZip := zipOf(t, "inner.cab", string(cab))
	// The bytes the message expands to when clam.exe is taken out.
	expanded := explodeFile(t, mailWith("a.cab", cab), sevenLimits(t)).Stats.ExpandedBytes
	for _, tt := range []struct {
		name   string
		raw    []byte
		set    func(*Limits)
		report string // "" when clam.exe must be found
	}{
		{"members ok", mailWith("a.chm", chm), func(l *Limits) { l.MaxArchiveMembers = chmMembers }, ""},
		{"members over", mailWith("a.chm", chm), func(l *Limits) { l.MaxArchiveMembers = chmMembers - 1 }, TextArchiveMembers},
		{"bytes ok", mailWith("a.cab", cab), func(l *Limits) { l.MaxExpandedBytes = expanded }, ""},
		{"bytes over", mailWith("a.cab", cab), func(l *Limits) { l.MaxExpandedBytes = expanded - 1 }, TextArchiveExpand},
		{"ratio ok", mailWith("a.arj", arj), func(l *Limits) { l.MaxRatio, l.RatioMinBytes = 1, 544 }, ""},
		{"ratio over", mailWith("a.arj", arj), func(l *Limits) { l.MaxRatio, l.RatioMinBytes = 1, 543 }, TextArchiveExpand},
		{"depth ok", mailWith("a.zip", cabInZip), func(l *Limits) { l.MaxArchiveDepth = 2 }, ""},
		{"depth over", mailWith("a.zip", cabInZip), func(l *Limits) { l.MaxArchiveDepth = 1 }, TextArchiveDepth},
	} {
		lim := sevenLimits(t)
		tt.set(&lim)
		res := explodeFile(t, tt.raw, lim)
		found := clamExeAt(res) != ""
		_, reported := hasReport(res, tt.report)
		switch {
		case tt.report == "" && (!found || len(res.Reports) > 0):
			t.Errorf("%s: clam.exe found %v, reports %v\n%s", tt.name, found, res.Reports, dump(res))
		case tt.report != "" && (found || !reported):
			t.Errorf("%s: clam.exe found %v, want not; report %q %v\n%s", tt.name, found, tt.report, reported, dump(res))
		}
	}
}

// fakeSevenZip writes a shell script standing in for 7-Zip.
func fakeSevenZip(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "7z")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// A 7-Zip that hangs is stopped at its time limit, one that talks
// without end at its output limit, one that cannot open the archive
// gives "could not be opened", a missing one too: the archive is taken
// out each time.
func TestSevenZipFailures(t *testing.T) {
	arj := corpusFile(t, "clam.arj")
	for _, tt := range []struct {
		name, script, report string
	}{
		{"hang", "exec sleep 30", TextUnreadable + ": 7-zip l: stopped at the time limit"},
		{"flood", "exec cat /dev/zero", TextUnreadable + ": 7-zip l: more output than"},
		{"cannot open", "echo 'ERROR: archive: Cannot open the file as archive' >&2; exit 2", TextUnsupported + ": arj (explode 7-zip: cannot open the archive: ERROR: archive: Cannot open"},
		{"missing", "", TextUnreadable + ": 7-zip l:"},
		{"lying listing", `case "$1" in l) printf 'Path = archive\nType = arj\n\n----------\nPath = a\nSize = 10\n\nPath = b\nSize = 10\n';; e) printf 'short';; esac`,
			TextUnreadable + ": 7-zip extracted 5 bytes, the listing says 20"},
	} {
		lim := DefaultLimits()
		lim.SevenZip = SevenZip{Path: fakeSevenZip(t, tt.script), Timeout: 300 * time.Millisecond, TempDir: t.TempDir()}
		if tt.name == "missing" {
			lim.SevenZip.Path = filepath.Join(t.TempDir(), "no-such-7z")
		}
		res := explodeFile(t, mailWith("a.arj", arj), lim)
		r, ok := hasReport(res, tt.report)
		if !ok || r.Action != message.ActionReplace {
			t.Errorf("%s: report %+v (found %v), want %q replaced\n%s", tt.name, r, ok, tt.report, dump(res))
		}
	}
}

func TestParseSevenZipListing(t *testing.T) {
	head := "Path = archive\nType = zip\n\n----------\n"
	for _, tt := range []struct {
		name, in string
		want     []sevenZipMember
		err      bool
	}{
		{"files", head + "Path = a.exe\nSize = 544\nPacked Size = 269\nCRC = EF073CFD\n\nPath = d\nFolder = +\nSize = 0\n\n",
			[]sevenZipMember{{name: "a.exe", size: 544, packed: 269, crc: "EF073CFD"}, {name: "d", dir: true, packed: -1}}, false},
		{"link and encrypted", head + "Path = l\nSize = 1\nAttributes =  lrwxrwxrwx\n\nPath = e\nSize = 3\nEncrypted = +\nMethod = \n",
			[]sevenZipMember{{name: "l", size: 1, packed: -1, link: true}, {name: "e", size: 3, packed: -1, encrypted: true}}, false},
		{"cpio directory", head + "Path = dir\nSize = 0\nMode = drwxr-xr-x\n",
			[]sevenZipMember{{name: "dir", dir: true, packed: -1}}, false},
		{"empty archive", head, nil, false},
		{"no list", "Path = archive\nType = zip\n", nil, true},
		{"key twice", head + "Path = a\nSize = 1\nSize = 2\n", nil, true},
		{"line break in a name", head + "Path = a\nevil\nSize = 1\n", nil, true},
		{"no size", head + "Path = a\n", nil, true},
		{"bad size", head + "Path = a\nSize = -1\n", nil, true},
		{"huge size", head + "Path = a\nSize = 99999999999999999999\n", nil, true},
		{"no path", head + "Size = 1\n", nil, true},
	} {
		got, err := parseSevenZipListing([]byte(tt.in))
		if (err != nil) != tt.err {
			t.Errorf("%s: error %v, want error %v", tt.name, err, tt.err)
			continue
		}
		if tt.err {
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: member %d = %+v, want %+v", tt.name, i, got[i], tt.want[i])
			}
		}
	}
}

// FuzzSevenZipListing checks that the listing parser never panics and
// never returns a negative size.
func FuzzSevenZipListing(f *testing.F) {
	f.Add([]byte("Path = archive\n\n----------\nPath = a\nSize = 1\nCRC = 00000000\n\nPath = d\nFolder = +\n"))
	f.Add([]byte("----------\nPath = a\r\nSize = 1\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		ms, err := parseSevenZipListing(in)
		if err != nil {
			return
		}
		for _, m := range ms {
			if m.size < 0 || strings.Contains(m.name, "\n") && !m.dir {
				t.Fatalf("member %+v from %q", m, in)
			}
		}
	})
}
