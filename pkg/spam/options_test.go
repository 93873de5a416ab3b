package spam

import (
	"net/netip"
	"strings"
	"testing"
)

func TestDefaultOptionsCompile(t *testing.T) {
	c, err := DefaultOptions().Compile()
	if err != nil {
		t.Fatalf("DefaultOptions().Compile() = %v", err)
	}
	if c.Policy != DefaultPolicy() {
		t.Errorf("Policy = %+v, want %+v", c.Policy, DefaultPolicy())
	}
	if got := c.Actions(Spam).String(); got != `deliver header "X-Spam-Status: Yes"` {
		t.Errorf("spam actions = %s", got)
	}
	if got := c.Actions(High).String(); got != "store" {
		t.Errorf("high actions = %s", got)
	}
	if got := c.Actions(Ham).String(); got != `deliver header "X-Spam-Status: No"` {
		t.Errorf("ham actions = %s", got)
	}
	if c.Whitelist.Match("a@example.com", netip.Addr{}) {
		t.Error("empty whitelist matched")
	}
}

func TestCompileReportsEveryError(t *testing.T) {
	o := DefaultOptions()
	o.Engines = []string{"spamd", "spamd", "clamd"}
	o.RequiredScore, o.HighScore = 6, 4
	o.SubjectPosition = "middle"
	o.SubjectTag = "{Spam?}\n"
	o.SpamActions = "deliver frobnicate"
	o.HighSpamActions = "bounce"
	o.HamActions = ""
	o.Whitelist = []string{"not a domain"}
	o.Blacklist = []string{"10.0.0.0/99"}
	o.ListsToBeSpam = -1
	_, err := o.Compile()
	if err == nil {
		t.Fatal("Compile succeeded")
	}
	for _, want := range []string{
		`unknown engine "clamd"`, `"spamd" listed twice`, "high_score >= required_score",
		`subject_position "middle"`, "subject_tag", "spam_actions", `"frobnicate"`,
		"bounce is not allowed", "ham_actions", "whitelist", "blacklist", "negative",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Compile error lacks %q:\n%v", want, err)
		}
	}
}
