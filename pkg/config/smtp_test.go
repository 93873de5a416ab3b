package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func loadSMTP(t *testing.T, smtp string) (*Config, error) {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"in", "out"} {
		os.Mkdir(filepath.Join(dir, d), 0o700)
	}
	file := filepath.Join(dir, "q.toml")
	base := "[queue]\nincoming = \"in\"\noutgoing = \"out\"\nwork_dir = \"w\"\n[quarantine]\ndir = \"quar\"\n[store]\npath = \"w/db\"\n[smtp]\n"
	os.WriteFile(file, []byte(base+smtp), 0o600)
	return Load(file)
}

func TestSMTPSection(t *testing.T) {
	c, err := loadSMTP(t, `listen = ["127.0.0.1:10024", "lmtp:unix:/run/qscan/lmtp.sock"]
clients = ["127.0.0.1", "10.0.0.0/8"]
spool = "spool"
reinject = "unix:/run/postfix/reinject"
on_reject = "hold"
max_spool_bytes = 0
`)
	if err != nil {
		t.Fatal(err)
	}
	if !c.SMTP.On() || len(c.SMTP.Listen) != 2 || c.SMTP.OnReject != "hold" || !filepath.IsAbs(c.SMTP.Spool) {
		t.Errorf("smtp = %+v", c.SMTP)
	}
	if Defaults().SMTP.On() {
		t.Error("the filter is on by default")
	}
}

func TestSMTPSectionErrors(t *testing.T) {
	_, err := loadSMTP(t, `listen = ["localhost:10024", "unix:relative"]
clients = ["everyone"]
reinject = "mx.example.org:25"
on_reject = "discard"
max_connections = 0
max_recipients = 0
reinject_connections = 0
max_message_size = 10
command_timeout = "1ms"
data_timeout = "1ms"
`)
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("Load = %v, want Errors", err)
	}
	for _, key := range []string{"smtp.listen: listen address \"localhost:10024\"", "smtp.listen: listen address \"unix:relative\"",
		"smtp.clients", "smtp.reinject", "smtp.on_reject", "smtp.max_connections", "smtp.max_recipients",
		"smtp.reinject_connections", "smtp.max_message_size", "smtp.command_timeout", "smtp.data_timeout"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("no error about %s in:\n%v", key, err)
		}
	}
	for _, e := range es {
		if e.Line == 0 {
			t.Errorf("error without a line: %v", e)
		}
	}
}

// TestSMTPFilterLayoutNeedsNoQueues: with [smtp] listen set the spool is
// the incoming queue and mail is re-injected: queue.incoming and
// queue.outgoing may be missing; without it they are needed.
func TestSMTPFilterLayoutNeedsNoQueues(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "q.toml")
	base := "[queue]\nincoming = \"missing-in\"\noutgoing = \"\"\nwork_dir = \"w\"\nkick = true\nsendmail = \"/nonexistent/sendmail\"\n[quarantine]\ndir = \"quar\"\n[store]\npath = \"w/db\"\n"
	os.WriteFile(file, []byte(base+"[smtp]\nlisten = [\"127.0.0.1:10024\"]\nspool = \"spool\"\n"), 0o600)
	if _, err := Load(file); err != nil {
		t.Errorf("filter layout: %v", err)
	}
	os.WriteFile(file, []byte(base), 0o600)
	_, err := Load(file)
	for _, key := range []string{"queue.incoming", "queue.outgoing", "queue.sendmail"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("queue layout: no error about %s in %v", key, err)
		}
	}
}
