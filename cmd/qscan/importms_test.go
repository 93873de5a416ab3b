package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// msCopy copies a MailScanner configuration into a temporary directory
// with a conf.d file that points its queues, work and quarantine
// directories at existing ones, so that lint's checks of them pass.
func msCopy(t *testing.T, src string) (root, etc string) {
	t.Helper()
	root = t.TempDir()
	etc = filepath.Join(root, "etc")
	if err := os.CopyFS(etc, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"in", "out", "work", "quarantine"} {
		os.Mkdir(filepath.Join(root, d), 0o700)
	}
	os.MkdirAll(filepath.Join(etc, "conf.d"), 0o755)
	// The kick (Delivery Method = batch) runs a stub, never this
	// machine's sendmail.
	stub := filepath.Join(root, "sendmail")
	if err := os.WriteFile(stub, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	override := "Incoming Queue Dir = " + root + "/in\nOutgoing Queue Dir = " + root + "/out\n" +
		"Incoming Work Dir = " + root + "/work\nQuarantine Dir = " + root + "/quarantine\nPID file = " + root + "/work/qscan.pid\n" +
		"Sendmail2 = " + stub + "\n"
	if err := os.WriteFile(filepath.Join(etc, "conf.d", "zz-test.conf"), []byte(override), 0o644); err != nil {
		t.Fatal(err)
	}
	return root, etc
}

// TestImportMailScannerLints: the configuration import-mailscanner
// writes from MailScanner's shipped one and from a customised one with
// rulesets passes `qscan lint`; the table names every option; a second
// import into the same place overwrites nothing.
func TestImportMailScannerLints(t *testing.T) {
	for _, src := range []string{"../../../shared/reference/mailscanner-v5-etc", "../../pkg/msimport/testdata/custom"} {
		if _, err := os.Stat(src); err != nil {
			t.Logf("skipping %s: %v", src, err)
			continue
		}
		root, etc := msCopy(t, src)
		out := filepath.Join(root, "qscan")
		// A relative DIR, as an administrator types it.
		rel, err := filepath.Rel(".", etc)
		if err != nil {
			rel = etc
		}
		table, code := qscan(t, "import-mailscanner", "-o", out, rel)
		if code != 0 || !strings.Contains(table, "MAILSCANNER OPTION") || !strings.Contains(table, "options:") {
			t.Fatalf("import-mailscanner %s = %d:\n%s", src, code, table)
		}
		for _, want := range []string{"Spam Actions ", "not supported", "mapped", "Still to do:", "stop MailScanner", "qscan lint -c "} {
			if !strings.Contains(table, want) {
				t.Errorf("%s: table lacks %q", src, want)
			}
		}
		if strings.Contains(table, "create the queue directories") {
			t.Errorf("%s: the to-do asks for queue directories that exist:\n%s", src, table)
		}
		if lint, code := qscan(t, "lint", "--no-engines", "-c", filepath.Join(out, "qscan.toml")); code != 0 || !strings.Contains(lint, "configuration ok") {
			t.Errorf("lint of the import of %s = %d:\n%s", src, code, lint)
		}
		if msg, code := qscan(t, "import-mailscanner", "-o", out, etc); code != 1 || !strings.Contains(msg, "exists") {
			t.Errorf("second import = %d %q, want 1 and a file that exists", code, msg)
		}
	}
}
