package webtest

import (
	"fmt"
	"time"

	"github.com/qscan/qscan/pkg/quarantine"
	"github.com/qscan/qscan/pkg/sendmail"
)

// Message is a mail to put into a quarantine as the pipeline would.
type Message struct {
	Sender     string
	Recipients []string
	Subject    string
	Reason     string
	Body       string // LF line ends
	Time       time.Time
	Seq        int // makes the queue ID unique within one second
}

// Quarantine stores m whole in q, with its qf, df and message.eml, and
// returns the entry's ID and the message's queue ID.
func Quarantine(q *quarantine.Quarantine, m Message) (string, string, error) {
	qid := sendmail.NewID(m.Time, m.Seq, 4242)
	header := []byte(fmt.Sprintf("From: %s\nTo: %s\nSubject: %s\nMessage-ID: <%s@test>\n", m.Sender, m.Recipients[0], m.Subject, qid))
	qf, err := sendmail.NewQf(m.Sender, m.Recipients, header, sendmail.NewOpts{Time: m.Time, BodySize: int64(len(m.Body))})
	if err != nil {
		return "", "", err
	}
	dir, err := q.Store(quarantine.Item{
		Entry: quarantine.Entry{QueueID: qid, Time: m.Time, Sender: m.Sender, Recipients: m.Recipients,
			Subject: m.Subject, Reason: m.Reason, Whole: true, Reports: []string{m.Reason}},
		Qf: qf.Bytes(), Df: []byte(m.Body), Header: header,
	})
	if err != nil {
		return "", "", err
	}
	return m.Time.UTC().Format("20060102") + "/" + lastElem(dir), qid, nil
}

func lastElem(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}
