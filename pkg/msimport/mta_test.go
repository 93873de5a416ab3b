package msimport

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestImportMTA: MailScanner's MTA and queue options become [queue] for
// sendmail, Postfix and Exim: Postfix's hold and incoming queues, Exim's
// spool directories (the parents of the input/ MailScanner names) and
// Sendmail2 split into the binary and arguments of the kick.
func TestImportMTA(t *testing.T) {
	for _, tc := range []struct {
		name, conf string
		want       map[string]any
	}{
		{"postfix", "MTA = postfix\nIncoming Queue Dir = /var/spool/postfix/hold\nOutgoing Queue Dir = /var/spool/postfix/incoming\n",
			map[string]any{"queue.mta": "postfix", "queue.incoming": []string{"/var/spool/postfix/hold"}, "queue.outgoing": "/var/spool/postfix/incoming"}},
		{"postfix, sendmail's dirs left in", "MTA = postfix\nIncoming Queue Dir = /var/spool/mqueue.in\nOutgoing Queue Dir = /var/spool/mqueue\n",
			map[string]any{"queue.mta": "postfix", "queue.incoming": []string{"/var/spool/postfix/hold"}, "queue.outgoing": "/var/spool/postfix/incoming"}},
		{"postfix, no dirs", "MTA = postfix\n",
			map[string]any{"queue.mta": "postfix", "queue.incoming": []string{"/var/spool/postfix/hold"}, "queue.outgoing": "/var/spool/postfix/incoming"}},
		{"exim", "MTA = exim\nIncoming Queue Dir = /var/spool/exim.in/input\nOutgoing Queue Dir = /var/spool/exim/input/\n" +
			"Sendmail2 = /usr/sbin/exim -C /etc/exim/exim_out.conf\nSplit Exim Spool = yes\nDelivery Method = batch\n",
			map[string]any{"queue.mta": "exim", "queue.incoming": []string{"/var/spool/exim.in"}, "queue.outgoing": "/var/spool/exim",
				"queue.exim": "/usr/sbin/exim", "queue.exim_args": []string{"-C", "/etc/exim/exim_out.conf"}, "queue.split_spool": true, "queue.kick": true}},
		{"sendmail", "MTA = sendmail\nSendmail2 = /usr/sbin/sendmail -C /etc/mail/out.cf\nDelivery Method = queue\n",
			map[string]any{"queue.mta": "sendmail", "queue.sendmail": "/usr/sbin/sendmail", "queue.sendmail_args": []string{"-C", "/etc/mail/out.cf"}, "queue.kick": false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := importString(t, tc.conf)
			for k, want := range tc.want {
				if got, _ := res.get(k); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", k, got, want)
				}
			}
			if _, ok := res.get("queue.sendmail"); ok && tc.want["queue.mta"] == "exim" {
				t.Error("Exim's Sendmail2 went to queue.sendmail")
			}
		})
	}
	res := importString(t, "MTA = zmailer\n")
	if res.Rows[0].Status != Unsupported {
		t.Errorf("MTA = zmailer: %+v, want not supported", res.Rows[0])
	}
}
