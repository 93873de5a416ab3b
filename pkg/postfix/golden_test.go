package postfix

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// goldenWant is test/postfix_golden_e2e_test.go's pfWant: what each file
// of testdata, written by the real Postfix 3.7, was submitted with.
type goldenWant struct {
	Sender     string `json:"sender"`
	Recipients []struct {
		Addr     string `json:"addr"`
		Orig     string `json:"orig"`
		DSNOrcpt string `json:"dsn_orcpt"`
		Notify   int    `json:"notify"`
	} `json:"recipients"`
	EnvID        string   `json:"envid"`
	Ret          int      `json:"ret"`
	ClientAddr   string   `json:"client_addr"`
	Helo         string   `json:"helo"`
	Protocol     string   `json:"protocol"`
	SASLMethod   string   `json:"sasl_method"`
	SASLUsername string   `json:"sasl_username"`
	SMTPUTF8     bool     `json:"smtputf8"`
	Header       []string `json:"header"`
	Body         string   `json:"body"`
	LongRecords  bool     `json:"long_records"`
}

func goldenFiles(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.pf"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no testdata/*.pf: %v", err)
	}
	return paths
}

// TestGolden reads queue files the real Postfix 3.7 wrote (taken from its
// hold queue by TestPostfixGolden -update-postfix-golden): parse → write
// gives the same bytes, and the envelope, header and body are what was
// submitted.
func TestGolden(t *testing.T) {
	for _, path := range goldenFiles(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".pf")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var w goldenWant
			j, err := os.ReadFile(strings.TrimSuffix(path, ".pf") + ".want.json")
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(j, &w); err != nil {
				t.Fatal(err)
			}
			f, err := Parse(bytes.NewReader(raw), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(f.Bytes(), raw) {
				t.Error("Bytes() differs from the file parsed")
			}
			e := f.Envelope()
			if e.Sender != w.Sender || e.EnvID != w.EnvID || e.Ret != w.Ret || e.ClientAddr != w.ClientAddr ||
				e.Helo != w.Helo || e.Protocol != w.Protocol || e.SASLMethod != w.SASLMethod || e.SASLUsername != w.SASLUsername {
				t.Errorf("envelope = %+v, want %+v", e, w)
			}
			if e.Arrival.IsZero() || e.Created.IsZero() || e.LogIdent == "" {
				t.Errorf("arrival %v, created %v, log_ident %q: want all set", e.Arrival, e.Created, e.LogIdent)
			}
			if len(e.Recipients) != len(w.Recipients) {
				t.Fatalf("recipients = %+v, want %+v", e.Recipients, w.Recipients)
			}
			for i, r := range e.Recipients {
				wr := w.Recipients[i]
				if r.Addr != wr.Addr || r.Orig != wr.Orig || r.DSNOrcpt != wr.DSNOrcpt || r.Notify != wr.Notify || r.State != RcptTodo {
					t.Errorf("recipient %d = %+v, want %+v", i, r, wr)
				}
			}
			if got := f.SizeFields()[5]&1 != 0; got != w.SMTPUTF8 {
				t.Errorf("SMTPUTF8 flag = %v, want %v", got, w.SMTPUTF8)
			}
			hdr := "\n" + string(f.Header())
			for _, line := range w.Header {
				if !strings.Contains(hdr, "\n"+line+"\n") {
					t.Errorf("header lacks %.80q", line)
				}
			}
			if !strings.HasPrefix(hdr, "\nReceived: from ") {
				t.Errorf("header does not start with Postfix's Received: %.100q", hdr)
			}
			if string(f.Body()) != w.Body {
				t.Errorf("body = %.100q, want %.100q", f.Body(), w.Body)
			}
			if got := bytes.Count(f.Message(), []byte("\n")); got != len(f.Records())-countNonText(f) {
				t.Errorf("message has %d lines, records say %d", got, len(f.Records())-countNonText(f))
			}
			checkSizeRecord(t, f)
		})
	}
}

func countNonText(f *File) int {
	n := 0
	for _, r := range f.Records() {
		if r.Type != RecNorm {
			n++
		}
	}
	return n
}

// checkSizeRecord checks the size record against the file's layout: the
// data offset is just after the M record, the content runs to the X
// record, the recipient count counts the R records.
func checkSizeRecord(t *testing.T, f *File) {
	t.Helper()
	size := f.SizeFields()
	recs := f.Records()
	var mEnd, x int
	for i, r := range recs {
		switch r.Type {
		case RecNorm, RecCont:
			if mEnd == 0 && i > 0 && recs[i-1].Type == RecMesg {
				mEnd = r.Off
			}
		}
	}
	x = f.xOff
	if int64(mEnd) != size[1] || int64(x-mEnd) != size[0] || size[4] != size[0] {
		t.Errorf("size record %v: data offset %d, content %d bytes", size, mEnd, x-mEnd)
	}
	if int(size[2]) != len(f.Envelope().Recipients) {
		t.Errorf("size record recipients %d, envelope has %d", size[2], len(f.Envelope().Recipients))
	}
}

func readTestdata(name string) ([]byte, error) { return os.ReadFile(filepath.Join("testdata", name)) }
