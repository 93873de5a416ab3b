package virus_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/qscan/qscan/pkg/virus"
	"github.com/qscan/qscan/pkg/virus/builtin"
	"github.com/qscan/qscan/pkg/virus/clamd"
	"github.com/qscan/qscan/pkg/virus/command"
)

// Every engine can stand behind virus.Multi (and behind the pipeline's own
// interface of the same shape).
var (
	_ virus.Scanner = (*clamd.Client)(nil)
	_ virus.Scanner = (*builtin.Engine)(nil)
	_ virus.Scanner = (*command.Engine)(nil)
	_ virus.Scanner = (*virus.Multi)(nil)
)

func ExampleMulti() {
	eicar := `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`
	a, _ := builtin.New(builtin.Options{})
	b, _ := builtin.New(builtin.Options{Signatures: "builtin/testdata"})
	m := virus.NewMulti(a, b)
	res, err := m.Scan(context.Background(), strings.NewReader("attachment: "+eicar))
	if err != nil {
		// Not scanned: hold the message and retry later.
		fmt.Println("hold:", err)
		return
	}
	fmt.Println(res.Engine, res.Infected(), res.Names())
	// Output: builtin+builtin true [Eicar-Test-Signature]
}
