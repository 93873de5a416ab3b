package spool

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzParseEnvelope feeds arbitrary bytes to the parser: it must never
// panic, and whatever it accepts must be written back byte for byte and
// read again to the same envelope.
func FuzzParseEnvelope(f *testing.F) {
	f.Add([]byte(sampleText))
	f.Add(envWithRcpts(3))
	f.Add([]byte(Magic + "\nreceived 1970-01-01T00:00:01Z\nprotocol LMTP\nsender\nrcpt a\nend\n"))
	lim := Limits{MaxBytes: 1 << 16, MaxLine: 1024, MaxRecipients: 100}
	f.Fuzz(func(t *testing.T, in []byte) {
		e, err := ParseEnvelope(bytes.NewReader(in), lim)
		if err != nil {
			return
		}
		out, err := e.Bytes()
		if err != nil {
			t.Fatalf("Bytes of an accepted envelope: %v", err)
		}
		if !bytes.Equal(out, in) {
			t.Fatalf("round trip:\n in %q\nout %q", in, out)
		}
		again, err := ParseEnvelope(bytes.NewReader(out), lim)
		if err != nil || !reflect.DeepEqual(again, e) {
			t.Fatalf("second parse: %+v, %v; want %+v", again, err, e)
		}
	})
}

// FuzzReadHead: whatever an entry file holds, ReadHead never panics, and
// an envelope it finds is a format-1 envelope of the bytes before start.
func FuzzReadHead(f *testing.F) {
	head, _ := sample().EntryBytes()
	f.Add(append(head, "Subject: x\n\nbody\n"...))
	f.Add([]byte(MagicEntry + "\nend\n"))
	f.Add([]byte(sampleText))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, start, ok, err := ReadHead(bytes.NewReader(in), Limits{MaxBytes: 1 << 12})
		if err != nil {
			t.Fatalf("ReadHead of bytes in memory: %v", err)
		}
		if !ok {
			return
		}
		if start > int64(len(in)) || !bytes.HasPrefix(in, []byte(MagicEntry+"\n")) || !bytes.HasPrefix(got, []byte(Magic+"\n")) ||
			!bytes.Equal(got[len(Magic):], in[len(MagicEntry):start]) || !bytes.HasSuffix(got, []byte("\nend\n")) {
			t.Fatalf("ReadHead(%q) = %q, start %d", in, got, start)
		}
	})
}
