package command

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/qscan/qscan/pkg/virus"
)

var _ virus.BatchScanner = (*Engine)(nil)

// batchPrefix starts the generated name of each content in a ScanAll
// directory: part-0000, part-0001 ...
const batchPrefix = "part-"

// ScanAll scans several contents (a message and its parts) in one run of
// the program: each is written to one fresh directory under WorkDir under
// a generated name, the directory is scanned once, and the findings are
// mapped back to the contents by those names. A command-line scanner
// loads its signatures once per message, not once per part. Content
// larger than MaxStream is not written: its result has LimitExceeded.
// Results are in the order of contents.
func (e *Engine) ScanAll(ctx context.Context, contents [][]byte) ([]virus.Result, error) {
	res := make([]virus.Result, len(contents))
	for i := range res {
		res[i].Engine = e.name
	}
	dir, err := os.MkdirTemp(e.opts.WorkDir, "qscan-scan-*")
	if err != nil {
		return res, virus.Errorf(e.name, "scan: %w", err)
	}
	defer os.RemoveAll(dir)
	written := 0
	for i, c := range contents {
		if int64(len(c)) > e.opts.MaxStream {
			res[i].LimitExceeded = true
			continue
		}
		p := filepath.Join(dir, batchName(i))
		if err := writeNew(p, c); err != nil {
			return res, virus.Errorf(e.name, "scan: write content: %w", err)
		}
		written++
	}
	if written == 0 {
		return res, nil
	}
	found, err := e.ScanDir(ctx, dir)
	if err != nil {
		return res, err
	}
	for path, r := range found {
		i, ok := batchIndex(path, len(contents))
		if !ok {
			return res, virus.Errorf(e.name, "scan: finding for unknown file %s", quote(path))
		}
		res[i].Findings = append(res[i].Findings, r.Findings...)
	}
	return res, nil
}

func batchName(i int) string { return fmt.Sprintf("%s%04d", batchPrefix, i) }

// batchIndex maps a finding's path (the file, or a member inside it as
// some wrappers print) back to its content's index.
func batchIndex(path string, n int) (int, bool) {
	first, _, _ := strings.Cut(path, "/")
	num, ok := strings.CutPrefix(first, batchPrefix)
	if !ok || len(num) < 4 {
		return 0, false
	}
	i, err := strconv.Atoi(num)
	if err != nil || i < 0 || i >= n || batchName(i) != first {
		return 0, false
	}
	return i, true
}

func writeNew(p string, data []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
