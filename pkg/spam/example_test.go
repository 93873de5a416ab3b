package spam_test

import (
	"fmt"
	"net/netip"

	"github.com/qscan/qscan/pkg/spam"
)

// Example shows the path from an engine's answer to the headers qscan adds.
func Example() {
	c, err := spam.DefaultOptions().Compile()
	if err != nil {
		panic(err)
	}
	sender, ip := "alice@sender.example", netip.MustParseAddr("192.0.2.7")
	v := spam.Decide(spam.Input{
		Score:       7.3,
		Whitelisted: c.Whitelist.Match(sender, ip),
		Blacklisted: c.Blacklist.Match(sender, ip),
		Engines: []spam.EngineResult{{
			Name: "SpamAssassin", Score: 7.3, Required: 5,
			Rules: []spam.Rule{{Name: "BAYES_99", Score: 3.5}, {Name: "URIBL_BLACK", Score: 3.8}},
		}},
	}, c.Policy)
	names, _ := spam.Names("Example")
	subject, _ := spam.TagSubject("cheap watches", "{Spam?}", spam.PositionStart, v.Score)
	fmt.Println(v.Level, c.Actions(v.Level))
	fmt.Println(spam.Fold(spam.HeaderStatus, spam.StatusValue(v, "no"), "\n"))
	fmt.Println(spam.HeaderLevel+":", spam.Stars(v.Score, '*'))
	fmt.Println(spam.Fold(names.Check, spam.ReportValue(v), "\n"))
	fmt.Println(names.Score+":", spam.Stars(v.Score, 's'))
	fmt.Println("Subject:", subject)
	// Output:
	// spam deliver header "X-Spam-Status: Yes"
	// X-Spam-Status: Yes, score=7.3 required=5.0 tests=BAYES_99,URIBL_BLACK
	// 	autolearn=no
	// X-Spam-Level: *******
	// X-Example-QScan-SpamCheck: spam, SpamAssassin (score=7.3, required 5.0,
	// 	BAYES_99 3.50, URIBL_BLACK 3.80)
	// X-Example-QScan-SpamScore: sssssss
	// Subject: {Spam?} cheap watches
}
