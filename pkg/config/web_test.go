package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWebValidation: plain HTTP off loopback, half a TLS pair, a short
// digest key and TTL, a base URL without a scheme are errors; a loopback
// listen and a good key are not.
func TestWebValidation(t *testing.T) {
	load := func(web string) error {
		dir := t.TempDir()
		for _, d := range []string{"in", "out"} {
			os.Mkdir(filepath.Join(dir, d), 0o700)
		}
		file := filepath.Join(dir, "q.toml")
		os.WriteFile(file, []byte("[queue]\nincoming = \"in\"\noutgoing = \"out\"\nwork_dir = \"w\"\n[quarantine]\ndir = \"quar\"\n[store]\npath = \"w/db\"\n[web]\n"+web), 0o600)
		_, err := Load(file)
		return err
	}
	for _, ok := range []string{
		"listen = \"127.0.0.1:8025\"\n",
		"listen = \"[::1]:8025\"\ndigest_key = \"" + strings.Repeat("k", 32) + "\"\nbase_url = \"https://desk.example\"\n",
	} {
		if err := load(ok); err != nil {
			t.Errorf("[web] %q: %v", ok, err)
		}
	}
	for web, want := range map[string]string{
		"listen = \"0.0.0.0:8025\"\n":   "only served on a loopback",
		"listen = \"8025\"\n":           "want host:port",
		"tls_cert = \"cert.pem\"\n":     "set both or neither",
		"digest_key = \"short\"\n":      "at least 32",
		"digest_link_ttl = \"30s\"\n":   "too short",
		"base_url = \"desk.example\"\n": "want https://",
	} {
		err := load(web)
		var es Errors
		if !errors.As(err, &es) || !strings.Contains(err.Error(), want) {
			t.Errorf("[web] %q: %v, want an error containing %q", web, err, want)
		}
	}
}

// TestRspamdControllerValidation: the learn buttons' controller URL and
// password are checked when rspamd is an engine.
func TestRspamdControllerValidation(t *testing.T) {
	load := func(rspamd string) error {
		dir := t.TempDir()
		for _, d := range []string{"in", "out"} {
			os.Mkdir(filepath.Join(dir, d), 0o700)
		}
		file := filepath.Join(dir, "q.toml")
		os.WriteFile(file, []byte("[queue]\nincoming = \"in\"\noutgoing = \"out\"\nwork_dir = \"w\"\n[quarantine]\ndir = \"quar\"\n[store]\npath = \"w/db\"\n[spam]\nengines = [\"rspamd\"]\n[spam.rspamd]\n"+rspamd), 0o600)
		_, err := Load(file)
		return err
	}
	if err := load("controller_url = \"http://10.0.0.2:11334\"\npassword = \"pw\"\n"); err != nil {
		t.Errorf("a good controller: %v", err)
	}
	for in, want := range map[string]string{
		"controller_url = \"10.0.0.2:11334\"\n": "spam.rspamd.controller_url",
		"password = \"a\\nb\"\n":                "spam.rspamd.password",
	} {
		if err := load(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("[spam.rspamd] %q: %v, want an error about %s", in, err, want)
		}
	}
}
