package spamcheck_test

import (
	"context"
	"fmt"
	"io"

	"github.com/sirupsen/logrus"

	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/spam"
	"github.com/qscan/qscan/pkg/spam/spamd"
	"github.com/qscan/qscan/pkg/spamcheck"
)

// fixedSpamd stands in for a *spamd.Client.
type fixedSpamd struct{}

func (fixedSpamd) Report(context.Context, io.Reader) (*spamd.Result, error) {
	return &spamd.Result{Score: 7.3, Required: 5, Rules: []spamd.Rule{{Name: "BAYES_99", Score: 3.5}, {Name: "URIBL_BLACK", Score: 3.8}}}, nil
}

// Example shows the stage's life: build it from the [spam] options and
// the engine clients, check a message, then edit the delivered header.
func Example() {
	s, err := spamcheck.New(spamcheck.Options{Spam: spam.DefaultOptions()}, spamcheck.Engines{Spamd: fixedSpamd{}}, logrus.New(), nil)
	if err != nil {
		panic(err)
	}
	m := &message.Message{ID: "6AM8Fa4W008391", Header: []byte("Subject: cheap watches\n"), Body: []byte("buy now\n")}
	if err := s.Check(context.Background(), m); err != nil {
		panic(err) // held for a retry (only with HoldOnFailure)
	}
	edits, err := spamcheck.Headers(m.Spam, m.Header, "Example", spamcheck.DefaultHeaderOptions())
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s %.1f\n%s", m.Spam.Level, m.Spam.Score, message.EditHeader(m.Header, edits))
	// Output:
	// spam 7.3
	// Subject: {Spam?} cheap watches
	// X-Spam-Status: Yes, score=7.3 required=5.0 tests=BAYES_99,URIBL_BLACK
	// 	autolearn=no
	// X-Spam-Level: *******
	// X-Spam-Flag: YES
	// X-Example-QScan-SpamCheck: spam, SpamAssassin (score=7.3, required 5.0,
	// 	BAYES_99 3.50, URIBL_BLACK 3.80)
	// X-Example-QScan-SpamScore: sssssss
}
