package builtin

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/virus"
)

func TestParseLine(t *testing.T) {
	long := "Sig.Long." + strings.Repeat("N", 500)
	md5 := "aa15bcf478d165efd2065190eb473bcb"
	sha1 := "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"
	sha256 := "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
	tests := []struct {
		line, ext string
		want      Sig
		ok, err   bool
	}{
		{md5 + ":544:Clamav.Test.File-6", ".hdb", Sig{MD5, unhex(md5), 544, "Clamav.Test.File-6"}, true, false},
		{md5 + ":544:Clamav.Test.File-6\r\n", ".hdb", Sig{MD5, unhex(md5), 544, "Clamav.Test.File-6"}, true, false},
		{"AA15BCF478D165EFD2065190EB473BCB:0:Upper", ".hdb", Sig{MD5, unhex(md5), 0, "Upper"}, true, false},
		{md5 + ":*:Any:73", ".hdb", Sig{MD5, unhex(md5), AnySize, "Any"}, true, false},
		{sha1 + ":11:S1", ".hsb", Sig{SHA1, unhex(sha1), 11, "S1"}, true, false},
		{sha256 + ":*:S256:73:255", ".hsb", Sig{SHA256, unhex(sha256), AnySize, "S256"}, true, false},
		{"", ".hdb", Sig{}, false, false},
		{"   ", ".hdb", Sig{}, false, false},
		{"# comment", ".hdb", Sig{}, false, false},
		{sha256 + ":1:WrongFile", ".hdb", Sig{}, false, true},
		{md5 + ":1:WrongFile", ".hsb", Sig{}, false, true},
		{md5 + ":1", ".hdb", Sig{}, false, true},
		{md5 + ":1:a:1:2:3", ".hdb", Sig{}, false, true},
		{md5 + ":-1:Neg", ".hdb", Sig{}, false, true},
		{md5 + ":+1:Plus", ".hdb", Sig{}, false, true},
		{md5 + ":1:", ".hdb", Sig{}, false, true},
		{md5 + ":1: ", ".hdb", Sig{}, false, true},
		// clamd loads any name and answers it whole: kept, long ones cut.
		{md5 + ":1:has space", ".hdb", Sig{MD5, unhex(md5), 1, "has space"}, true, false},
		{md5 + ":1:" + long, ".hdb", Sig{MD5, unhex(md5), 1, long[:virus.MaxNameLen-len(virus.CutMark)] + virus.CutMark}, true, false},
		{md5 + ":1:Name:x", ".hdb", Sig{}, false, true},
		{"xyz:1:Name", ".hdb", Sig{}, false, true},
		{" " + md5 + ":1:Name", ".hdb", Sig{}, false, true},
	}
	for _, tt := range tests {
		got, ok, err := ParseLine(tt.line, tt.ext)
		if tt.err {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseLine(%q, %s) = %+v, %v, %v; want ErrMalformed", tt.line, tt.ext, got, ok, err)
			}
			continue
		}
		if err != nil || ok != tt.ok || got != tt.want {
			t.Errorf("ParseLine(%q, %s) = %+v, %v, %v; want %+v, %v", tt.line, tt.ext, got, ok, err, tt.want, tt.ok)
		}
	}
}

func unhex(s string) string {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// FuzzParseLine checks that a parsed signature is valid and reads back the
// same when written out again.
func FuzzParseLine(f *testing.F) {
	f.Add("aa15bcf478d165efd2065190eb473bcb:544:Clamav.Test.File-6", false)
	f.Add("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9:*:S:73", true)
	f.Fuzz(func(t *testing.T, line string, hsb bool) {
		ext := ".hdb"
		if hsb {
			ext = ".hsb"
		}
		sig, ok, err := ParseLine(line, ext)
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("ParseLine(%q) error %v does not wrap ErrMalformed", line, err)
		}
		if !ok {
			return
		}
		if err != nil || sig.Name != virus.BoundName(sig.Name) || sig.Name == virus.NoName || sig.Size < AnySize || sig.Algo < MD5 || sig.Algo > SHA256 {
			t.Fatalf("ParseLine(%q) = %+v, %v", line, sig, err)
		}
		size := "*"
		if sig.Size != AnySize {
			size = strconv.FormatInt(sig.Size, 10)
		}
		again, ok, err := ParseLine(hex.EncodeToString([]byte(sig.Sum))+":"+size+":"+sig.Name, ext)
		if !ok || err != nil || again != sig {
			t.Fatalf("round trip of %q: %+v, %v, %v; want %+v", line, again, ok, err, sig)
		}
	})
}

// FuzzEICARFinder checks that the streaming search agrees with a search of
// the whole content, however it is cut into writes.
func FuzzEICARFinder(f *testing.F) {
	f.Add([]byte("xx"+eicarString+"yy"), uint8(5), uint8(40))
	f.Add([]byte(eicarString), uint8(0), uint8(67))
	f.Fuzz(func(t *testing.T, data []byte, a, b uint8) {
		var fd eicarFinder
		i, j := min(int(a), len(data)), min(int(a)+int(b), len(data))
		fd.Write(data[:i])
		fd.Write(data[i:j])
		fd.Write(data[j:])
		if want := bytes.Contains(data, eicar); fd.found != want {
			t.Fatalf("eicarFinder(%q cut at %d, %d) = %v, want %v", data, i, j, fd.found, want)
		}
	})
}
