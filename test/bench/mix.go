package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"

	"github.com/qscan/qscan/test/stackutil"
)

// loadMix returns n messages: a seeded sample of the corpus when it is
// present, otherwise generated from the project's testdata/eml and a fixed
// generator. A few percent carry the EICAR test string. Each message gets
// a header line of its own, so that no two are the same bytes: qscan's
// spam verdict cache would otherwise answer for spamd.
func loadMix(corpus string, n int, seed int64) ([][]byte, string) {
	r := rand.New(rand.NewPCG(uint64(seed), 99))
	var pool [][]byte
	source := "generated mix (testdata/eml + synthetic)"
	var files []string
	filepath.Walk(corpus, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() && info.Size() > 0 && info.Size() < 10<<20 {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	skipped := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil || !bytes.Contains(b, []byte("\n\n")) {
			continue
		}
		// An mbox "From " line goes, as sendmail drops it; what sendmail
		// would still refuse (not a header block) is left out of the mix.
		if bytes.HasPrefix(b, []byte("From ")) {
			if i := bytes.IndexByte(b, '\n'); i >= 0 {
				b = b[i+1:]
			}
		}
		if _, _, err := queueForm(append([]byte("X-Bench-Seq: 0\n"), b...)); err != nil {
			skipped++
			continue
		}
		pool = append(pool, b)
	}
	if len(pool) > 0 {
		source = fmt.Sprintf("%s (%d files; %d that sendmail would refuse left out)", corpus, len(pool), skipped)
	} else {
		m, _ := filepath.Glob("testdata/eml/*.eml")
		for _, f := range m {
			if b, err := os.ReadFile(f); err == nil {
				pool = append(pool, b)
			}
		}
		for i := 0; i < 50; i++ {
			pool = append(pool, synthetic(r, i))
		}
	}
	out := make([][]byte, n)
	for i := range out {
		m := pool[r.IntN(len(pool))]
		if r.IntN(100) < 3 {
			m = withEICAR(i)
		}
		out[i] = append(fmt.Appendf(nil, "X-Bench-Seq: %d\n", i), m...)
	}
	return out, source
}

func withEICAR(i int) []byte {
	return []byte(fmt.Sprintf("From: a@example.org\nTo: b@example.test\nSubject: eicar %d\nMessage-ID: <eicar-%d@bench>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nhi\n--b\nContent-Type: application/octet-stream; name=\"eicar.com\"\n\n%s\n--b--\n", i, i, stackutil.EICAR))
}

func synthetic(r *rand.Rand, i int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: s%d@example.org\nTo: r@example.test\nSubject: synthetic %d\nMessage-ID: <syn-%d@bench>\n\n", i, i, i)
	lines := 10 + r.IntN(400)
	for l := 0; l < lines; l++ {
		fmt.Fprintf(&b, "line %d: %x %x\n", l, r.Uint64(), r.Uint64())
	}
	return b.Bytes()
}

func totalBytes(ms [][]byte) int64 {
	var n int64
	for _, m := range ms {
		n += int64(len(m))
	}
	return n
}

// bigMessage returns a message of about size bytes: a short text part and
// an attachment of seeded random bytes in base64 lines of 76 characters.
func bigMessage(r *rand.Rand, i, size int) []byte {
	var b bytes.Buffer
	b.Grow(size + 200)
	fmt.Fprintf(&b, "From: big%d@example.org\nTo: r@example.test\nSubject: big %d\nMessage-ID: <big-%d@bench>\n"+
		"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nsee the attachment\n"+
		"--b\nContent-Type: application/octet-stream; name=\"big%d.bin\"\nContent-Disposition: attachment; filename=\"big%d.bin\"\n"+
		"Content-Transfer-Encoding: base64\n\n", i, i, i, i, i)
	const end = "--b--\n"
	var raw [64]byte
	line := make([]byte, 77)
	line[76] = '\n'
	for b.Len()+len(line)+len(end) <= size {
		for k := 0; k < len(raw); k += 8 {
			binary.LittleEndian.PutUint64(raw[k:], r.Uint64())
		}
		base64.StdEncoding.Encode(line, raw[:57])
		b.Write(line)
	}
	b.WriteString(end)
	return b.Bytes()
}
