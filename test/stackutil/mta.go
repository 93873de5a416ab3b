package stackutil

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/qscan/qscan/pkg/postfix"
)

// MTA is one MTA of the stack in qscan's queue layout, as the benchmark
// drives it: where mail is submitted, the queues qscan reads and writes,
// its [queue] keys and how to see and empty its queues.
type MTA struct {
	Name     string
	SMTP     string            // where mail is submitted
	Incoming string            // [queue] incoming
	Outgoing string            // [queue] outgoing
	Keys     map[string]string // the [queue] keys of this MTA, as ReplaceKeys takes them
	Env      []string          // added to qscan's environment
	// Queued counts the complete messages in the incoming queue.
	Queued func() int
	// Empty removes every message from the MTA's queues.
	Empty func() error
	// OutID says whether a file just created in the outgoing queue (or a
	// directory below it) is a message published there, and its queue ID.
	OutID func(path string) (string, bool)
}

// SendmailMTA is the stack's sendmail pair (mqueue.in -> mqueue).
func (s Stack) SendmailMTA() MTA {
	return MTA{Name: "sendmail", SMTP: s.SMTPIn, Incoming: s.Incoming, Outgoing: s.Outgoing,
		Keys: map[string]string{"queue.mta": Quote("sendmail")},
		Queued: func() int {
			m, _ := filepath.Glob(filepath.Join(s.Incoming, "qf*"))
			return len(m)
		},
		Empty: s.Empty,
		OutID: func(path string) (string, bool) { return strings.CutPrefix(filepath.Base(path), "qf") },
	}
}

// PostfixMTA is the stack's Postfix (hold -> incoming); its tools need
// LD_LIBRARY_PATH, which Env carries.
func (p Postfix) PostfixMTA() (MTA, error) {
	q, err := p.Queue()
	if err != nil {
		return MTA{}, err
	}
	sbin := filepath.Join(p.Root, "usr", "sbin")
	return MTA{Name: "postfix", SMTP: p.SMTP,
		Incoming: filepath.Join(p.QueueDir, postfix.Hold), Outgoing: filepath.Join(p.QueueDir, postfix.Incoming),
		Keys: map[string]string{
			"queue.mta":            Quote("postfix"),
			"queue.postkick":       Quote(filepath.Join(sbin, "postkick")),
			"queue.postconf":       Quote(filepath.Join(sbin, "postconf")),
			"queue.postfix_config": Quote(p.Config),
		},
		Env: p.Env(),
		Queued: func() int {
			es, _ := q.List(postfix.Hold)
			n := 0
			for _, e := range es {
				if e.Ready {
					n++
				}
			}
			return n
		},
		Empty: func() error {
			if _, err := p.Run("postsuper", "-d", "ALL"); err != nil {
				return err
			}
			for _, queue := range []string{postfix.Hold, postfix.Incoming, postfix.Corrupt} {
				filepath.WalkDir(filepath.Join(p.QueueDir, queue), func(path string, d os.DirEntry, err error) error {
					if err == nil && !d.IsDir() {
						os.Remove(path)
					}
					return nil
				})
			}
			return nil
		},
		// Postfix's cleanup writes each message into incoming too, before
		// it moves it to hold: a published file is one with the ready mode.
		OutID: func(path string) (string, bool) {
			st, err := os.Stat(path)
			return filepath.Base(path), err == nil && postfix.ValidID(filepath.Base(path)) && st.Mode().Perm() == postfix.ReadyMode
		},
	}, nil
}

// EximMTA is the stack's two Exims (exim4.in -> exim4, split spool).
func (e Exim) EximMTA() MTA {
	return MTA{Name: "exim", SMTP: e.SMTP, Incoming: e.SpoolIn, Outgoing: e.SpoolOut,
		Keys: map[string]string{
			"queue.mta":         Quote("exim"),
			"queue.exim":        Quote(e.Bin),
			"queue.exim_args":   "[" + Quote("-C") + ", " + Quote(e.ConfOut) + "]",
			"queue.split_spool": "true",
		},
		Queued: func() int { return len(SpoolIDs(e.SpoolIn)) },
		Empty: func() error {
			if err := EmptySpool(e.SpoolIn); err != nil {
				return err
			}
			return EmptySpool(e.SpoolOut)
		},
		OutID: func(path string) (string, bool) {
			name := filepath.Base(path)
			id, ok := strings.CutSuffix(name, "-H")
			return id, ok && !strings.HasPrefix(name, ".") && eximID.MatchString(id)
		},
	}
}

// Config returns the shipped configuration for this MTA with qscan's state
// under root (ShippedFor), its queues and [queue] keys, plus set: paths,
// addresses and the MTA, nothing else.
func (m MTA) Config(s Stack, root string, set map[string]string) ([]byte, error) {
	text, err := ShippedFor(s, root)
	if err != nil {
		return nil, err
	}
	all := map[string]string{"queue.incoming": "[" + Quote(m.Incoming) + "]", "queue.outgoing": Quote(m.Outgoing)}
	for k, v := range m.Keys {
		all[k] = v
	}
	for k, v := range set {
		all[k] = v
	}
	text, err = ReplaceKeys(text, all)
	if err != nil {
		return nil, fmt.Errorf("stackutil %s config: %w", m.Name, err)
	}
	return text, nil
}
