package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
)

// loadMix returns n messages: a seeded sample of the corpus when it is
// present, otherwise generated from the project's testdata/eml and a fixed
// generator. A few percent carry the EICAR test string.
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
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && bytes.Contains(b, []byte("\n\n")) {
			pool = append(pool, b)
		}
	}
	if len(pool) > 0 {
		source = fmt.Sprintf("%s (%d files)", corpus, len(pool))
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
		out[i] = pool[r.IntN(len(pool))]
		if r.IntN(100) < 3 {
			out[i] = withEICAR(i)
		}
	}
	return out, source
}

const eicar = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

func withEICAR(i int) []byte {
	return []byte(fmt.Sprintf("From: a@example.org\nTo: b@example.test\nSubject: eicar %d\nMessage-ID: <eicar-%d@bench>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nhi\n--b\nContent-Type: application/octet-stream; name=\"eicar.com\"\n\n%s\n--b--\n", i, i, eicar))
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
