//go:build reliability

package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qscan/qscan/test/stackutil"
)

// hostileCase is one bad input of bad-inputs.md with its expected verdict.
type hostileCase struct {
	id   string // BI-nn and a short name
	file string // a fixture, relative to this package
	gen  func() []byte
	want []string // acceptable verdicts
}

func hostileCases() []hostileCase {
	div := relScale().bigFactor
	mime := func(name string) string { return filepath.Join("..", "..", "testdata", "mime", name) }
	arch := func(name string) []byte {
		data, _ := os.ReadFile(filepath.Join("..", "..", "pkg", "explode", "testdata", "archives", name))
		return data
	}
	blocked, clean := []string{"blocked"}, []string{"clean"}
	return []hostileCase{
		{id: "BI-01 two boundaries", file: mime("BI-01-two-boundaries.eml"), want: blocked},
		{id: "BI-02 hidden boundary", file: mime("BI-02-hidden-boundary.eml"), want: blocked},
		{id: "BI-03 RFC 2231 boundary", file: mime("BI-03-rfc2231-boundary.eml"), want: blocked},
		{id: "BI-04 encoded boundary", file: mime("BI-04-encoded-boundary.eml"), want: blocked},
		{id: "BI-05 nested comments", file: mime("BI-05-nested-comments.eml"), want: blocked},
		{id: "BI-06 RFC 2231 filename", file: mime("BI-06-rfc2231-filename.eml"), want: blocked},
		{id: "BI-07 =? repeated", gen: func() []byte { return genEncodedWords(div) }, want: blocked},
		{id: "BI-08 conflicting CTE", file: mime("BI-08-conflicting-cte.eml"), want: blocked},
		{id: "BI-09 nested rfc822 (small)", file: mime("BI-09-nested-rfc822-small.eml"), want: blocked},
		{id: "BI-09 10k nested rfc822", gen: func() []byte { return genNestedRFC822(10000 / div) }, want: blocked},
		{id: "BI-10 nested pkcs7", gen: func() []byte { return genNestedSigned(200) }, want: blocked},
		{id: "BI-11 1M tiny parts", gen: func() []byte { return genManyParts(1000000 / div) }, want: blocked},
		{id: "BI-12 16 MB header line", gen: func() []byte { return genLongHeader(16 << 20 / div) }, want: blocked},
		{id: "BI-12 100k headers", gen: func() []byte { return genManyHeaders(100000 / div) }, want: blocked},
		{id: "BI-13 missing close", file: mime("BI-13-missing-close.eml"), want: blocked},
		{id: "BI-14 partial/external", file: mime("BI-14-partial-external.eml"), want: blocked},
		{id: "BI-15 bare CR, \\n.\\n", file: "testdata/BI-15-bare-cr-smuggling.eml", want: clean},
		{id: "BI-16 overlapping zip bomb", gen: func() []byte { return genOverlapZip(10<<20, 500/div) }, want: blocked},
		{id: "BI-17 zip nested 12 deep", gen: func() []byte { return genNestedZip(12) }, want: blocked},
		{id: "BI-18 zeroed/mismatched zip", gen: genZeroedZip, want: blocked},
		{id: "BI-19 zip slip", gen: genSlipZip, want: clean}, // names never reach a path
		{id: "BI-20 EOCD wrap, short EOCD", gen: genEOCD, want: blocked},
		{id: "BI-21 bad RAR", gen: genRAR, want: blocked},
		{id: "BI-22 bogus 7z", gen: gen7z, want: blocked},
		{id: "BI-23 encrypted zip/7z", gen: func() []byte {
			return attach("enc", "aes.zip", arch("aes.zip"), "data.7z", arch("dataenc.7z"), "hdr.7z", arch("hdrenc.7z"))
		}, want: blocked}, // aes.zip lists invoice.pdf.exe
		{id: "BI-23 encrypted PDF", gen: func() []byte {
			return attach("pdf", "secret.pdf", []byte("%PDF-1.6\n1 0 obj<</Filter/Standard/V 4/R 4/Length 128>>endobj\ntrailer<</Encrypt 1 0 R>>\n%%EOF\n"))
		}, want: clean},
		{id: "BI-23 PGP/MIME", file: "testdata/BI-23-pgp-encrypted.eml", want: clean},
		{id: "BI-24 hidden extensions", file: mime("BI-24-hidden-extensions.eml"), want: blocked},
		{id: "BI-25 RTLO, zero width", file: mime("BI-25-rtlo-zero-width.eml"), want: blocked},
		{id: "BI-26 .jpg that is PE", file: mime("BI-26-jpg-is-pe.eml"), want: blocked},
		{id: "BI-27 OLE2 macros, .docm as .docx", gen: genOffice, want: clean}, // no macro rule by default, as MailScanner
		{id: "BI-28 TNEF with .exe", gen: genTNEF, want: blocked},
		{id: "BI-29 uuencode/binhex", file: mime("BI-29-uuencode-binhex.eml"), want: blocked},
		{id: "BI-30 HTML DoS", gen: func() []byte { return genHTML(div) }, want: clean},
		{id: "BI-31 phishing links", file: "testdata/BI-31-phishing.eml", want: clean},
		{id: "BI-32 duplicate headers", file: mime("BI-32-duplicate-headers.eml"), want: clean},
		{id: "BI-33 hostile addresses", file: "testdata/BI-33-hostile-addresses.eml", want: clean},
		{id: "BI-34 EICAR in every container", gen: genEICARContainers, want: []string{"infected"}},
		{id: "BI-37 50 MB message", gen: func() []byte { return genBig(37 << 20 / div) }, want: clean},
		{id: "BI-40 60 KB subject, long name", gen: genBacktrack, want: blocked}, // 300 dots: filename hiding
	}
}

// scanRun is one `qscan scan --json` with its resource use.
type scanRun struct {
	verdict, reason string
	cpu, wall       time.Duration
	maxRSS          int64 // bytes
	err             string
}

// scanOne runs qscan scan on file with a wall-clock limit.
func scanOne(bin, cfgPath, file string) scanRun {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "scan", "-c", cfgPath, "--json", file)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	peak, err := stackutil.RunPeakRSS(cmd) // not rusage: see RunPeakRSS
	r := scanRun{wall: time.Since(start), maxRSS: peak << 10}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	var res struct{ Verdict, Reason, Error string }
	if jerr := json.Unmarshal(stdout.Bytes(), &res); jerr != nil {
		r.err = fmt.Sprintf("%v; output %q; stderr %q", err, clip(stdout.String(), 200), clip(stderr.String(), 300))
	}
	r.verdict, r.reason = res.Verdict, res.Reason
	if res.Error != "" {
		r.err = res.Error
	}
	if strings.Contains(stderr.String(), "panic") {
		r.err = "panic: " + clip(stderr.String(), 300)
	}
	if ctx.Err() != nil {
		r.err = "timed out after 60 s"
	}
	return r
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// TestHostileInput runs every bad input of bad-inputs.md (BI-01 … BI-40
// but the engine and queue-file ones, which TestEngines and
// TestQueueFiles cover) through `qscan scan --json`: the expected
// verdict, under 1 s of CPU and 100 MB of memory beyond a plain message,
// no panic, no hang.
func TestHostileInput(t *testing.T) {
	bin := stackutil.Binary(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "scan.toml")
	conf := fmt.Sprintf("[virus]\nscanners = [\"builtin\"]\n[virus.builtin]\nsignatures = \"\"\n[spam]\nengines = []\n[metrics]\nlisten = \"\"\n"+
		"[store]\npath = %q\n[quarantine]\ndir = %q\n[queue]\nincoming = %q\noutgoing = %q\nwork_dir = %q\npid_file = %q\n",
		filepath.Join(dir, "db"), filepath.Join(dir, "q"), filepath.Join(dir, "in"), filepath.Join(dir, "out"), filepath.Join(dir, "w"), filepath.Join(dir, "pid"))
	os.Mkdir(filepath.Join(dir, "in"), 0o700)
	os.Mkdir(filepath.Join(dir, "out"), 0o700)
	if err := os.WriteFile(cfgPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	// The inputs are made by a child process: a child's max RSS starts
	// from its parent's high-water mark (the address space is shared until
	// exec), so this process must stay small.
	cases := hostileCases()
	gen := exec.Command(os.Args[0], "-test.run=^$")
	gen.Env = append(os.Environ(), "REL_HOSTILE_GEN="+dir)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("generating the inputs: %v\n%s", err, out)
	}
	files := hostileFiles(dir, cases)
	plain := filepath.Join(dir, "plain.eml")
	os.WriteFile(plain, stackutil.Message("rel", 1, "plain", false).Raw, 0o644)
	base := scanOne(bin, cfgPath, plain)
	if base.err != "" || base.verdict != "clean" {
		t.Fatalf("plain message: verdict %q, error %s", base.verdict, base.err)
	}
	var tb table
	tb.head = []string{"case", "size", "verdict", "want", "CPU (s)", "wall (s)", "max RSS (MB)", "extra RSS (MB)", "reason / error"}
	for i, c := range cases {
		file := files[i]
		st, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		r := scanOne(bin, cfgPath, file)
		extra := r.maxRSS - base.maxRSS
		switch {
		case r.err != "":
			t.Errorf("%s: %s", c.id, r.err)
		case !slices.Contains(c.want, r.verdict):
			t.Errorf("%s: verdict %q (%s), want %v", c.id, r.verdict, clip(r.reason, 200), c.want)
		}
		if r.cpu-base.cpu > time.Second {
			t.Errorf("%s: %s of CPU (a plain message takes %s)", c.id, r.cpu, base.cpu)
		}
		if extra > 100<<20 {
			t.Errorf("%s: max RSS %d MB, %d MB more than a plain message", c.id, r.maxRSS>>20, extra>>20)
		}
		note := r.reason
		if r.err != "" {
			note = r.err
		}
		tb.add(c.id, fmt.Sprintf("%d KB", st.Size()>>10), r.verdict, strings.Join(c.want, ","), fmt.Sprintf("%.3f", r.cpu.Seconds()),
			fmt.Sprintf("%.3f", r.wall.Seconds()), r.maxRSS>>20, max(extra>>20, 0), clip(note, 90))
	}
	record(t, 40, fmt.Sprintf("`qscan scan --json` per case (built-in virus engine, default limits); a plain message takes %.3f s CPU and %d MB RSS, "+
		"the baseline for \"extra\". Limits: 1 s CPU beyond it, 100 MB extra RSS, 60 s wall.", base.cpu.Seconds(), base.maxRSS>>20), tb)
}

// hostileFiles returns the input file of each case in dir.
func hostileFiles(dir string, cases []hostileCase) []string {
	files := make([]string, len(cases))
	for i, c := range cases {
		files[i] = c.file
		if c.gen != nil {
			files[i] = filepath.Join(dir, fmt.Sprintf("case%02d.eml", i))
		}
	}
	return files
}

// writeHostileInputs writes the generated inputs into dir; TestMain calls
// it in the child started by TestHostileInput.
func writeHostileInputs(dir string) error {
	cases := hostileCases()
	for i, f := range hostileFiles(dir, cases) {
		if cases[i].gen != nil {
			if err := os.WriteFile(f, cases[i].gen(), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}
