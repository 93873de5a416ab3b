package spam

import (
	"strings"
	"testing"
)

func sampleVerdict(score float64, level Level) Verdict {
	return Verdict{
		Input: Input{Score: score, Engines: []EngineResult{{
			Name: "SpamAssassin", Score: score, Required: 5,
			Rules: []Rule{{"BAYES_99", 3.5}, {"URIBL_BLACK", 1.7}, {"MISSING_DATE", 1.36}, {"NO_RELAYS", -0.001}},
		}}},
		Level: level, Required: 5,
	}
}

func TestStatusValue(t *testing.T) {
	tests := []struct {
		v         Verdict
		autolearn string
		want      string
	}{
		{sampleVerdict(7.3, Spam), "", "Yes, score=7.3 required=5.0 tests=BAYES_99,URIBL_BLACK,MISSING_DATE,NO_RELAYS autolearn=no"},
		{sampleVerdict(1.04, Ham), "ham", "No, score=1.0 required=5.0 tests=BAYES_99,URIBL_BLACK,MISSING_DATE,NO_RELAYS autolearn=ham"},
		{Verdict{Level: Ham, Required: 5}, "", "No, score=0.0 required=5.0 tests=none autolearn=no"},
	}
	for _, tt := range tests {
		if got := StatusValue(tt.v, tt.autolearn); got != tt.want {
			t.Errorf("StatusValue = %q, want %q", got, tt.want)
		}
	}
}

func TestStars(t *testing.T) {
	tests := []struct {
		score float64
		want  int
	}{{-2, 0}, {0.99, 0}, {1, 1}, {7.9, 7}, {50, 50}, {1000, 50}}
	for _, tt := range tests {
		if got := Stars(tt.score, '*'); got != strings.Repeat("*", tt.want) {
			t.Errorf("Stars(%v) = %q, want %d stars", tt.score, got, tt.want)
		}
	}
	if got := Stars(3.2, 's'); got != "sss" {
		t.Errorf("Stars(3.2, 's') = %q", got)
	}
}

func TestReportValue(t *testing.T) {
	spam := sampleVerdict(7.3, Spam)
	spam.Lists = []string{"SPAMHAUS"}
	cached := sampleVerdict(1.2, Ham)
	cached.Engines[0].Cached = true
	bl := Verdict{Input: Input{Blacklisted: true}, Level: Spam}
	wl := Verdict{Input: Input{Whitelisted: true, Score: 9}, Level: Ham}
	many := Verdict{Input: Input{Engines: []EngineResult{{Name: "rspamd", Score: 20, Required: 15}}}, Level: High}
	for i := range 45 {
		many.Engines[0].Rules = append(many.Engines[0].Rules, Rule{Name: "R" + strings.Repeat("X", i%3), Score: 0.5})
	}
	tests := []struct {
		v    Verdict
		want string
	}{
		{spam, "spam, SPAMHAUS, SpamAssassin (score=7.3, required 5.0, BAYES_99 3.50, URIBL_BLACK 1.70, MISSING_DATE 1.36, NO_RELAYS -0.00)"},
		{cached, "not spam, SpamAssassin (cached, score=1.2, required 5.0, BAYES_99 3.50, URIBL_BLACK 1.70, MISSING_DATE 1.36, NO_RELAYS -0.00)"},
		{bl, "spam (blacklisted)"},
		{wl, "not spam (whitelisted)"},
	}
	for _, tt := range tests {
		if got := ReportValue(tt.v); got != tt.want {
			t.Errorf("ReportValue =\n%q\nwant\n%q", got, tt.want)
		}
	}
	if got := ReportValue(many); !strings.HasSuffix(got, ", and 5 more)") || !strings.HasPrefix(got, "spam, rspamd (score=20.0, required 15.0, R 0.50") {
		t.Errorf("ReportValue(45 rules) = %q, want 40 rules and 'and 5 more'", got)
	}
}

func TestFold(t *testing.T) {
	v := StatusValue(sampleVerdict(7.3, Spam), "no") + " " + strings.Repeat("LONG_RULE_NAME,", 8) + "END"
	got := Fold("X-Spam-Status", v, "\r\n")
	lines := strings.Split(got, "\r\n")
	if len(lines) < 2 {
		t.Fatalf("Fold did not fold %q", got)
	}
	for i, l := range lines {
		if len(l) > FoldWidth {
			t.Errorf("line %d is %d bytes: %q", i, len(l), l)
		}
		if i > 0 && !strings.HasPrefix(l, "\t") {
			t.Errorf("continuation line %d %q does not start with a tab", i, l)
		}
	}
	unfolded := strings.ReplaceAll(got, "\r\n\t", "")
	if strings.ReplaceAll(unfolded, " ", "") != strings.ReplaceAll("X-Spam-Status: "+v, " ", "") {
		t.Errorf("Fold changed the value: %q", got)
	}
	if got := Fold("X-A", "short value", "\n"); got != "X-A: short value" {
		t.Errorf("Fold(short) = %q", got)
	}
	if got := Fold("X-A", "evil\r\nBcc: x@example.com", "\n"); strings.ContainsAny(got, "\r\n") {
		t.Errorf("Fold let a line break through: %q", got)
	}
	if got := Fold("X-A", strings.Repeat("x", 100), "\n"); got != "X-A: "+strings.Repeat("x", 100) {
		t.Errorf("Fold of an unbreakable value = %q", got)
	}
}

func TestNamesAndStrip(t *testing.T) {
	n, err := Names("Example-Org")
	if err != nil || n.Check != "X-Example-Org-QScan-SpamCheck" || n.Score != "X-Example-Org-QScan-SpamScore" {
		t.Fatalf("Names = %+v, %v", n, err)
	}
	for _, bad := range []string{"", "a b", "a:b", "x\r\n", strings.Repeat("a", 41)} {
		if _, err := Names(bad); err == nil {
			t.Errorf("Names(%q) succeeded", bad)
		}
	}
	tests := []struct {
		name string
		want bool
	}{
		{"X-Spam-Status", true}, {"x-spam-flag", true}, {"X-Spam-Level", true}, {"X-Spam-Checker-Version", true},
		{"X-Spamd-Result", true}, {"X-Spamd-Bar", true},
		{"X-Example-Org-QScan-SpamCheck", true}, {"x-example-org-qscan-spamscore", true},
		{"X-Example-Org-QScan-ID", false}, {"X-Other-QScan-SpamCheck", false},
		{"Subject", false}, {"X-Spammy-Thing", false}, {"X-Mailer", false},
	}
	for _, tt := range tests {
		if got := ShouldStrip(tt.name, n); got != tt.want {
			t.Errorf("ShouldStrip(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestTagSubject(t *testing.T) {
	tests := []struct {
		subject, tag string
		pos          Position
		want         string
	}{
		{"hello", "{Spam?}", PositionStart, "{Spam?} hello"},
		{"hello", "[SPAM]", PositionEnd, "hello [SPAM]"},
		{"{Spam?} hello", "{Spam?}", PositionStart, "{Spam?} hello"},
		{"Re: {Spam?} hello", "{Spam?}", PositionStart, "Re: {Spam?} hello"},
		{"", "{Spam?}", PositionStart, "{Spam?}"},
		{"hello", "{Spam?}", PositionNone, "hello"},
		{"hello", "", PositionStart, "hello"},
		{"hello", "{Spam? _SCORE_}", PositionStart, "{Spam? 7.3} hello"},
		{"{Spam? 6.1} hello", "{Spam? _SCORE_}", PositionStart, "{Spam? 6.1} hello"},
		{"hello", "[_STARS_]", PositionStart, "[*******] hello"},
		{"[list] hello", "[_STARS_]", PositionStart, "[*******] [list] hello"},
		{"[**] hello", "[_STARS_]", PositionStart, "[**] hello"},
		{"{Spam? x} hello", "{Spam? _SCORE_}", PositionStart, "{Spam? 7.3} {Spam? x} hello"},
		{"=?UTF-8?B?w6k=?=", "{Spam?}", PositionStart, "{Spam?} =?UTF-8?B?w6k=?="},
	}
	for _, tt := range tests {
		got, err := TagSubject(tt.subject, tt.tag, tt.pos, 7.3)
		if err != nil || got != tt.want {
			t.Errorf("TagSubject(%q, %q, %s) = %q, %v; want %q", tt.subject, tt.tag, tt.pos, got, err, tt.want)
		}
	}
	if _, err := TagSubject("x", "{Spam?}\r\nBcc: a@b", PositionStart, 1); err != ErrBadTag {
		t.Errorf("TagSubject with CRLF in the tag: err = %v, want ErrBadTag", err)
	}
}
