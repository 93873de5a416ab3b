// Command syndb writes a synthetic ClamAV signature database for
// benchmarks: this machine cannot download the real one (freshclam needs
// the internet), and with only the stack's two test signatures clamd does
// far less work per message than in production. The signatures are random
// (seeded), so they match nothing real; they make clamd build and walk a
// pattern matcher and hash tables of production-like size.
//
//	go run ./test/bench/syndb -body 150000 -hash 1000000 -o /tmp/syndb
//	QSCAN_STACK_CLAMDB_EXTRA=/tmp/syndb scripts/teststack start clamd
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
)

func main() {
	body := flag.Int("body", 150000, "body (.ndb) signatures")
	hash := flag.Int("hash", 1000000, "MD5 hash (.hdb) signatures")
	pcre := flag.Int("pcre", 0, "logical (.ldb) signatures with a regular expression run on every file holding \": \" (every message): production databases run many such; 0: none")
	out := flag.String("o", "", "output directory")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "usage: syndb [-body N] [-hash N] [-seed N] -o DIR")
		os.Exit(2)
	}
	r := rand.New(rand.NewPCG(*seed, 7))
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fail(err)
	}
	write(filepath.Join(*out, "synthetic.ndb"), *body, func(w *bufio.Writer, i int) {
		fmt.Fprintf(w, "Qscan.Synthetic.Body-%d:0:*:%s\n", i, pattern(r, i))
	})
	if *pcre > 0 {
		write(filepath.Join(*out, "synthetic.ldb"), *pcre, func(w *bufio.Writer, i int) {
			// Triggered by ": " (3a20); the expression is tried at every
			// lowercase letter and matches nothing real.
			fmt.Fprintf(w, "Qscan.Synthetic.Pcre-%d;Engine:81-255,Target:0;0&1;3a20;0/[a-z]{3,}[0-9]{2}qscan%dz/\n", i, i)
		})
	}
	write(filepath.Join(*out, "synthetic.hdb"), *hash, func(w *bufio.Writer, i int) {
		fmt.Fprintf(w, "%016x%016x:%d:Qscan.Synthetic.Hash-%d\n", r.Uint64(), r.Uint64(), 100+r.IntN(1<<20), i)
	})
}

// pattern is a random body signature of 12 to 32 bytes; one in ten has a
// one-byte wildcard, one in twenty a bounded gap, as real ones do.
func pattern(r *rand.Rand, i int) string {
	hex := func(n int) string {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(r.UintN(256))
		}
		return fmt.Sprintf("%x", b)
	}
	n := 12 + r.IntN(21)
	switch {
	case i%20 == 0:
		return hex(n/2) + fmt.Sprintf("{0-%d}", 1+r.IntN(16)) + hex(n-n/2)
	case i%10 == 0:
		return hex(n/2) + "??" + hex(n-n/2)
	}
	return hex(n)
}

func write(path string, n int, line func(*bufio.Writer, int)) {
	f, err := os.Create(path)
	if err != nil {
		fail(err)
	}
	w := bufio.NewWriter(f)
	for i := 0; i < n; i++ {
		line(w, i)
	}
	if err := w.Flush(); err != nil {
		fail(err)
	}
	if err := f.Close(); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "syndb:", err)
	os.Exit(1)
}
