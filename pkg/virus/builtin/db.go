package builtin

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/qscan/qscan/pkg/virus"
)

// ErrMalformed is wrapped by the error for each signature line that could
// not be read. Loading goes on without the line.
var ErrMalformed = errors.New("builtin: malformed signature")

// maxLine bounds one line of a signature file; real lines are under 200
// bytes.
const maxLine = 4096

// Algo is a hash algorithm of a signature.
type Algo uint8

const (
	MD5 Algo = iota + 1
	SHA1
	SHA256
)

// AnySize is Sig.Size for signatures that match content of any size ("*").
const AnySize = -1

// Sig is one hash signature: content whose Algo hash is Sum and whose length
// is Size (or anything, with AnySize) is called Name.
type Sig struct {
	Algo Algo
	Sum  string // raw hash bytes
	Size int64
	Name string
}

// ParseLine parses one line of a ClamAV hash database: HASH:SIZE:NAME with
// optional :FLEVEL[:MAXFLEVEL] fields, which are checked and ignored. In a
// .hdb file the hash is MD5; in a .hsb file SHA1 or SHA256, told apart by
// length. SIZE may be "*" (any size) in both. Blank lines and lines starting
// with '#' give ok == false and no error.
func ParseLine(line, ext string) (sig Sig, ok bool, err error) {
	line = strings.TrimRight(line, "\r\n")
	if strings.TrimSpace(line) == "" || line[0] == '#' {
		return Sig{}, false, nil
	}
	f := strings.Split(line, ":")
	if len(f) < 3 || len(f) > 5 {
		return Sig{}, false, fmt.Errorf("%w: want HASH:SIZE:NAME, got %d fields", ErrMalformed, len(f))
	}
	sum, err := hex.DecodeString(f[0])
	if err != nil {
		return Sig{}, false, fmt.Errorf("%w: hash %q is not hex", ErrMalformed, truncate(f[0]))
	}
	sig.Sum = string(sum)
	switch {
	case ext == ".hdb" && len(sum) == 16:
		sig.Algo = MD5
	case ext == ".hsb" && len(sum) == 20:
		sig.Algo = SHA1
	case ext == ".hsb" && len(sum) == 32:
		sig.Algo = SHA256
	default:
		return Sig{}, false, fmt.Errorf("%w: %d-byte hash in a %s file", ErrMalformed, len(sum), ext)
	}
	if sig.Size, err = parseSize(f[1]); err != nil {
		return Sig{}, false, err
	}
	// clamd loads a name of any length or bytes and answers it whole;
	// qscan keeps it bounded (virus.BoundName) rather than skip the line.
	if strings.TrimSpace(f[2]) == "" {
		return Sig{}, false, fmt.Errorf("%w: empty name", ErrMalformed)
	}
	sig.Name = virus.BoundName(f[2])
	for _, lvl := range f[3:] {
		if _, err := strconv.ParseUint(lvl, 10, 16); err != nil && lvl != "" {
			return Sig{}, false, fmt.Errorf("%w: functionality level %q", ErrMalformed, truncate(lvl))
		}
	}
	return sig, true, nil
}

func parseSize(s string) (int64, error) {
	if s == "*" {
		return AnySize, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || s[0] == '+' {
		return 0, fmt.Errorf("%w: size %q", ErrMalformed, truncate(s))
	}
	return n, nil
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// LineError locates a malformed line.
type LineError struct {
	File string
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// key finds a signature; size is AnySize for "*" signatures.
type key struct {
	algo Algo
	size int64
	sum  string
}

// DB is a set of hash signatures. It is immutable once loaded and safe for
// concurrent use.
type DB struct {
	sigs  map[key]string
	algos [SHA256 + 1]bool // which hashes lookups need
}

// Len returns the number of signatures.
func (db *DB) Len() int { return len(db.sigs) }

// Add adds a signature; a later one with the same hash and size wins.
func (db *DB) Add(s Sig) {
	if db.sigs == nil {
		db.sigs = make(map[key]string)
	}
	db.sigs[key{s.Algo, s.Size, s.Sum}] = s.Name
	db.algos[s.Algo] = true
}

// Needs reports whether any signature uses algo, so that scans compute only
// the hashes that can match.
func (db *DB) Needs(algo Algo) bool { return db.algos[algo] }

// Lookup returns the name of the signature for content of length size whose
// algo hash is sum.
func (db *DB) Lookup(algo Algo, size int64, sum []byte) (string, bool) {
	if name, ok := db.sigs[key{algo, size, string(sum)}]; ok {
		return name, true
	}
	name, ok := db.sigs[key{algo, AnySize, string(sum)}]
	return name, ok
}

// sigFiles returns the .hdb and .hsb files of dir, sorted.
func sigFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("builtin signatures %s: %w", dir, err)
	}
	var files []string
	for _, e := range ents {
		if ext := filepath.Ext(e.Name()); (ext == ".hdb" || ext == ".hsb") && e.Type().IsRegular() {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	slices.Sort(files)
	return files, nil
}

// Load reads every .hdb and .hsb file of dir. Malformed lines are skipped and
// reported in the returned error (errors.Is(err, ErrMalformed), each a
// *LineError) together with a usable DB; an unreadable directory or file
// gives a nil DB.
func Load(dir string) (*DB, error) {
	files, err := sigFiles(dir)
	if err != nil {
		return nil, err
	}
	db := &DB{sigs: make(map[key]string)}
	var bad []error
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("builtin signatures: %w", err)
		}
		errs, err := db.read(f, name)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("builtin signatures %s: %w", name, err)
		}
		bad = append(bad, errs...)
	}
	return db, errors.Join(bad...)
}

// read adds the signatures of one file. It returns the malformed lines, and
// an error only when the file cannot be read.
func (db *DB) read(r io.Reader, name string) ([]error, error) {
	ext := filepath.Ext(name)
	br := bufio.NewReaderSize(r, maxLine)
	var bad []error
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			bad = append(bad, &LineError{name, n, fmt.Errorf("%w: line longer than %d bytes", ErrMalformed, maxLine)})
			err = skipLine(br)
			line = nil
		}
		if len(line) > 0 {
			sig, ok, perr := ParseLine(string(bytes.TrimRight(line, "\r\n")), ext)
			if perr != nil {
				bad = append(bad, &LineError{name, n, perr})
			} else if ok {
				db.Add(sig)
			}
		}
		if err == io.EOF {
			return bad, nil
		}
		if err != nil {
			return bad, err
		}
	}
}

// skipLine discards the rest of an overlong line.
func skipLine(br *bufio.Reader) error {
	for {
		_, err := br.ReadSlice('\n')
		if !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
	}
}
