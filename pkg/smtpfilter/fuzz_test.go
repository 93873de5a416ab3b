package smtpfilter

import (
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/spool"
)

// FuzzXForward feeds arbitrary XFORWARD arguments to the wrapper's
// parser: it must not panic, and what it accepts must be storable in the
// spool and bounded.
func FuzzXForward(f *testing.F) {
	for _, s := range []string{"NAME=client.example.com ADDR=192.0.2.1", "HELO=a+20b LOGIN=[UNAVAILABLE]", "ADDR=IPv6:2001:db8::1 PORT=25",
		"NAME=+", "NAME=+0", "name=x", "COLOR=red", "", "IDENT=+0A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		c := &conn{st: &connState{}}
		reply := c.xforward(arg)
		if !strings.HasSuffix(reply, "\r\n") || strings.Count(reply, "\n") != 1 {
			t.Fatalf("reply %q is not one line", reply)
		}
		if !strings.HasPrefix(reply, "250 ") {
			if !c.st.xf.IsZero() {
				t.Fatalf("refused %q but recorded %+v", arg, c.st.xf)
			}
			return
		}
		x := c.st.xf
		for _, name := range spool.XForwardNames {
			v := *x.Field(name)
			if len(v) > maxXForwardValue || spool.CheckValue(v) != nil {
				t.Fatalf("accepted value %q for %s", v, name)
			}
		}
	})
}
