package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// errTooBig means a message was longer than the sink's size limit.
var errTooBig = errors.New("sink: message too big")

// readData reads a DATA section up to the terminating dot line. textproto's
// DotReader undoes dot-stuffing and turns CRLF into LF. The whole section is
// always consumed, so that the session stays in step after errTooBig.
func readData(br *bufio.Reader, maxSize int64) ([]byte, error) {
	dr := textproto.NewReader(br).DotReader()
	body, err := io.ReadAll(io.LimitReader(dr, maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("sink data: %w", err)
	}
	if int64(len(body)) > maxSize {
		if _, err := io.Copy(io.Discard, dr); err != nil {
			return nil, fmt.Errorf("sink data: %w", err)
		}
		return nil, errTooBig
	}
	return body, nil
}

// store writes <n>.env, then <n>.eml, each through a temp file and a rename.
func (s *server) store(env Envelope, body []byte) (int64, error) {
	n := s.lastFile.Add(1)
	meta, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return 0, fmt.Errorf("sink envelope %d: %w", n, err)
	}
	base := strconv.FormatInt(n, 10)
	if err := writeAtomic(s.dir, base+".env", append(meta, '\n')); err != nil {
		return 0, err
	}
	if err := writeAtomic(s.dir, base+".eml", body); err != nil {
		return 0, err
	}
	return n, nil
}

// writeAtomic creates dir/name with data. The temp file lives in the same
// directory (a rename across filesystems is not atomic) and has a leading dot,
// so readers that look for *.eml never match it.
func writeAtomic(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, "."+name+".tmp*")
	if err != nil {
		return fmt.Errorf("sink write %s: %w", name, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("sink write %s: %w", name, err)
	}
	return nil
}

// pathArg parses "FROM:<addr> PARAMS" (or "TO:..."): it returns the address
// without angle brackets and the ESMTP parameters. Some clients put a space
// after the colon; that is accepted.
func pathArg(arg, prefix string) (addr, params string, ok bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", "", false
	}
	rest := strings.TrimLeft(arg[len(prefix):], " ")
	if !strings.HasPrefix(rest, "<") {
		return "", "", false
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", "", false
	}
	return rest[1:end], strings.TrimSpace(rest[end+1:]), true
}

// declaredSize returns the SIZE= parameter of MAIL FROM, or 0.
func declaredSize(params string) int64 {
	for _, p := range strings.Fields(params) {
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(k, "SIZE") {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}
