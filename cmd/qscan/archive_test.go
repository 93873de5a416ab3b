package main

import (
	"context"
	"encoding/base64"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/message"
)

// TestArchiveMail: with archive_mail naming a directory and an address,
// the message as it arrived is written under the directory and the
// address is a recipient of the delivered copy.
func TestArchiveMail(t *testing.T) {
	arch := t.TempDir()
	root, cfg := demo(t, "")
	// demo has a [quarantine] section already: the key goes into it.
	b, _ := os.ReadFile(cfg)
	s := strings.Replace(string(b), "[quarantine]\n", "[quarantine]\narchive_mail = \""+arch+" archive@example.org\"\n", 1)
	if err := os.WriteFile(cfg, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := qscan(t, "enqueue", "-q", filepath.Join(root, "in"), "-f", "a@example.org", "-r", "b@example.test", "../../testdata/eml/plain.eml")
	if code != 0 {
		t.Fatalf("enqueue: %d %s", code, out)
	}
	id := strings.TrimSpace(out)
	if out, code := qscan(t, "run", "--once", "-c", cfg); code != 0 {
		t.Fatalf("run --once: %d %s", code, out)
	}
	copies, _ := filepath.Glob(filepath.Join(arch, "*", id+".eml"))
	if len(copies) != 1 {
		t.Fatalf("archive holds %v, want one copy of %s", copies, id)
	}
	orig, _ := os.ReadFile("../../testdata/eml/plain.eml")
	got, _ := os.ReadFile(copies[0])
	if !strings.Contains(string(got), strings.SplitN(string(orig), "\n\n", 2)[1]) {
		t.Errorf("archived copy lacks the original body:\n%s", got)
	}
	qf, err := os.ReadFile(filepath.Join(root, "out", "qf"+id))
	if err != nil || !strings.Contains(string(qf), "archive@example.org") || !strings.Contains(string(qf), "b@example.test") {
		t.Errorf("outgoing qf (err %v) lacks a recipient:\n%s", err, qf)
	}
}

// TestScanTNEFContents: with tnef_contents = "replace", a winmail.dat
// (the corpus's two-files.tnef) is delivered as its two files.
func TestScanTNEFContents(t *testing.T) {
	tnef, err := os.ReadFile("../../../shared/corpus/mime/tnef/mimekit/two-files.tnef")
	if err != nil {
		t.Skipf("corpus TNEF sample absent: %v", err)
	}
	_, cfg := demo(t, "[spam]\nengines = []\n[content]\ntnef_contents = \"replace\"\n")
	raw := "From: a@example.org\nTo: b@example.test\nSubject: tnef\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n" +
		"--B\nContent-Type: text/plain\n\nsee attached\n--B\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\n" +
		"Content-Transfer-Encoding: base64\n\n" + base64Lines(tnef) + "--B--\n"
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.eml"), filepath.Join(dir, "out.eml")
	os.WriteFile(in, []byte(raw), 0o600)
	res, _ := qscan(t, "scan", "-c", cfg, "--json", "-o", out, in)
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("scan -o wrote nothing: %v\n%s", err, res)
	}
	if strings.Contains(string(got), "winmail.dat") || strings.Count(string(got), "Content-Disposition: attachment; filename=") != 2 {
		t.Errorf("winmail.dat not replaced by its two files:\n%s\n%s", got, res)
	}
}

func base64Lines(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	for len(s) > 76 {
		out.WriteString(s[:76] + "\n")
		s = s[76:]
	}
	return out.String() + s + "\n"
}

// TestReceivedIPStage: with received_ip_header = 1 the client address is
// the first Received field's, before any check reads it.
func TestReceivedIPStage(t *testing.T) {
	_, cfgPath := demo(t, "")
	b, _ := os.ReadFile(cfgPath)
	os.WriteFile(cfgPath, []byte(strings.Replace(string(b), "[queue]\n", "[queue]\nreceived_ip_header = 1\n", 1)), 0o600)
	c, err := loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	stages, err := buildStages(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if stages[0].Name() != "received-ip" {
		t.Fatalf("first stage = %s, want received-ip", stages[0].Name())
	}
	m := &message.Message{Header: []byte("Received: from a (a [192.0.2.7]) by b\nSubject: x\n")}
	m.Envelope.ClientIP = netip.MustParseAddr("10.0.0.1")
	if err := stages[0].Check(context.Background(), m); err != nil || m.Envelope.ClientIP.String() != "192.0.2.7" {
		t.Errorf("client address = %v, %v; want 192.0.2.7", m.Envelope.ClientIP, err)
	}
}
