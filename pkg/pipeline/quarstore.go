package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/quarantine"
)

// QuarantineStore is the pipeline's Quarantine in pkg/quarantine's
// store; a missing index row is logged to log, not an error.
func QuarantineStore(q *quarantine.Quarantine, log logrus.FieldLogger) Quarantine {
	return &quarStore{q: q, log: log}
}

type quarStore struct {
	q   *quarantine.Quarantine
	log logrus.FieldLogger
}

// Stage writes the entry out of sight; the pipeline publishes it with the
// commit of its batch.
func (w *quarStore) Stage(m Quarantined) (string, string, error) {
	it := quarantine.Item{
		Entry: quarantine.Entry{
			QueueID: m.ID, Time: m.Time, Sender: m.Envelope.Sender, Recipients: m.Envelope.Recipients,
			Reason: m.Reason, Reports: m.Reports, Whole: m.Whole, ClientIP: ipString(m.Envelope), Subject: m.Subject,
		},
		Qf: m.Qf, Df: m.Df, Header: m.Header,
	}
	for _, p := range m.Parts {
		it.Parts = append(it.Parts, quarantine.Part{Filename: p.Filename, Report: p.Report})
		it.Data = append(it.Data, p.Data)
	}
	return w.q.Stage(it)
}

// Publish makes a staged entry an entry.
func (w *quarStore) Publish(staged string) (string, error) {
	dir, err := w.q.Publish(staged)
	if errors.Is(err, quarantine.ErrIndex) {
		// The entry is durable; only its index row is missing, which
		// `qscan quarantine list` (reading the files) does not need.
		w.log.WithError(err).Warn("quarantine index not updated")
		return dir, nil
	}
	return dir, err
}

// Discard removes a staged entry.
func (w *quarStore) Discard(staged string) error { return w.q.Discard(staged) }

// Staged lists the staged entries.
func (w *quarStore) Staged() ([]StagedEntry, error) {
	st, err := w.q.StagedEntries()
	out := make([]StagedEntry, len(st))
	for i, s := range st {
		out[i] = StagedEntry{Dir: s.Dir, ID: s.QueueID}
	}
	return out, err
}

func ipString(e message.Envelope) string {
	if !e.ClientIP.IsValid() {
		return ""
	}
	return e.ClientIP.String()
}

// ReleaseLog is the log line of a release from the quarantine, in the
// shape of every message outcome: what left entry entryID of q, under
// which new queue ID, at whose hand (by).
func ReleaseLog(q *quarantine.Quarantine, entryID, newID, by string) MessageLog {
	l := MessageLog{ID: newID, Action: message.OutcomeReleased, Attempt: 1,
		Reason: fmt.Sprintf("released from the quarantine entry %s by %s", entryID, by)}
	if e, err := q.Get(entryID); err == nil {
		l.From, l.To = e.Sender, e.Recipients
		if n := len(e.Released); n > 0 {
			l.To = e.Released[n-1].To
		}
		if st, err := os.Stat(filepath.Join(e.Dir, "df"+e.QueueID)); err == nil {
			l.Size = st.Size()
		}
		if e.Reason != "" {
			l.Reason += " (kept for: " + e.Reason + ")"
		}
	}
	return l
}
