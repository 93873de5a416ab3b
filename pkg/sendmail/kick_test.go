package sendmail

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSendmail writes a sendmail that prints its arguments, or refuses a
// queue run as sendmail does with restrictqrun.
func fakeSendmail(t *testing.T, refuse bool) string {
	t.Helper()
	script := "#!/bin/sh\necho \"$@\"\n"
	if refuse {
		script = "#!/bin/sh\necho 'You do not have permission to process the queue'\nexit 77\n"
	}
	p := filepath.Join(t.TempDir(), "sendmail")
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKick(t *testing.T) {
	k := Kicker{Sendmail: fakeSendmail(t, false), Args: []string{"-C", "/etc/mail/out.cf"}}
	out, err := k.Kick(context.Background(), "/var/spool/mqueue", "6AM876nc000001", "6AM876nc000002")
	want := "-C /etc/mail/out.cf -OQueueDirectory=/var/spool/mqueue -qI6AM876nc000001 -qI6AM876nc000002"
	if err != nil || strings.TrimSpace(string(out)) != want {
		t.Errorf("Kick ran %q, %v; want %q", out, err, want)
	}
	if err := k.Probe(context.Background(), "/var/spool/mqueue", nil, ""); err != nil {
		t.Errorf("Probe = %v, want nil", err)
	}
}

// TestKickProbeRefused: a refused queue run is explained (restrictqrun).
func TestKickProbeRefused(t *testing.T) {
	k := Kicker{Sendmail: fakeSendmail(t, true)}
	err := k.Probe(context.Background(), "/var/spool/mqueue", nil, "user qscan")
	for _, want := range []string{"as user qscan", "-qI" + kickProbeID, "permission to process the queue", "restrictqrun"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Probe = %v, want an error with %q", err, want)
		}
	}
}
