package content

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestParseRulesLines(t *testing.T) {
	tests := []struct {
		line    string
		ok      bool
		verb    Verb
		del     bool
		match   string // a subject that must match (when ok)
		nomatch string
	}{
		{"deny\t\\.exe$\tlog\tuser", true, Deny, false, "A.EXE", "exe.txt"},
		{"allow\t\\.txt$\t-\t-", true, Allow, false, "a.txt", "a.txt.exe"},
		{"Deny+Delete\t\\.vbs$\tl\tu", true, Deny, true, "x.vbs", "x.vb"},
		{"deny+delete+store\t\\.vbs$\tl\tu", true, Deny, true, "x.vbs", ""},
		{"deny\t\t\t\\.exe$\t\tl\tu", true, Deny, false, "x.exe", ""},
		{"deny\t*.scr\tl\tu", true, Deny, false, "a.scr", "a.txt"},
		{"deny\t/\\.hta$/\tl\tu", true, Deny, false, "a.HTA", ""},
		{"rename to .ppt\t\\.pps$\tl\tu", true, Rename, false, "a.pps", ""},
		{"a@example.com,b@example.com\t\\.cab$\tl\tu", true, Addresses, false, "x.cab", ""},
		{"deny \\.exe$ log user", false, 0, false, "", ""},                                  // spaces are not separators
		{"deny\t\\.exe$\tlog", false, 0, false, "", ""},                                     // 3 fields
		{"block\t\\.exe$\tl\tu", false, 0, false, "", ""},                                   // unknown action
		{"deny+quarantine\t\\.exe$\tl\tu", false, 0, false, "", ""},                         // unknown modifier
		{"deny\t^(?!safe)\\w+\\.exe$\tl\tu", true, Deny, false, "evil.exe", "safe.exe"},     // look-ahead
		{"allow\t(\\.[a-z0-9]{3})\\1$\t-\t-", true, Allow, false, "a.DOC.doc", "a.doc.pdf"}, // back-reference
		{"deny\t(?<!\\.tar)\\.gz$\tl\tu", true, Deny, false, "a.gz", "a.tar.gz"},            // look-behind
		{"deny\t^(?>a+)b\tl\tu", true, Deny, false, "aab", "aa"},                            // atomic group
		{"deny\t^a++a\tl\tu", true, Deny, false, "", "aaa"},                                 // possessive: never matches
		{"deny\t(?{ 1 })\\.exe$\tl\tu", false, 0, false, "", ""},                            // Perl code: refused
		{"deny\t(a(?R))\tl\tu", false, 0, false, "", ""},                                    // recursion: refused
		{"deny\t(a)\\2\tl\tu", false, 0, false, "", ""},                                     // no group 2
		{"rename\t\\.fdf$\tl\tu", true, Rename, false, "a.fdf", "a.pdf"},
		{"rename  to\t\\.pps$\tl\tu", true, Rename, false, "a.pps", ""},
		{"deny+delete a@example.com\t\\.cab$\tl\tu", true, Deny, true, "x.cab", ""},
		{"rename  too\t\\.pps$\tl\tu", false, 0, false, "", ""},
		{"deny\t[unclosed\tl\tu", false, 0, false, "", ""},                   // bad regexp
		{"deny\t\\.exe\\Z\tl\tu", true, Deny, false, "a.exe\n", "a.exe.txt"}, // \Z translated
	}
	for _, tt := range tests {
		rs, err := ParseRules("t.conf", strings.NewReader(tt.line+"\n"))
		if (err == nil) != tt.ok {
			t.Errorf("ParseRules(%q) error = %v, want ok=%v", tt.line, err, tt.ok)
			continue
		}
		if !tt.ok {
			if !errors.Is(err, ErrSyntax) || !strings.HasPrefix(err.Error(), "t.conf:1: ") {
				t.Errorf("ParseRules(%q) error = %q, want t.conf:1: ... wrapping ErrSyntax", tt.line, err)
			}
			if len(rs.List) != 0 {
				t.Errorf("ParseRules(%q) kept a bad rule", tt.line)
			}
			continue
		}
		r := rs.List[0]
		if r.Verb != tt.verb || r.Delete != tt.del {
			t.Errorf("ParseRules(%q) = verb %v delete %v, want %v %v", tt.line, r.Verb, r.Delete, tt.verb, tt.del)
		}
		if tt.match != "" && rs.Match("", tt.match) == nil {
			t.Errorf("rule %q does not match %q", tt.line, tt.match)
		}
		if tt.nomatch != "" && rs.Match("", tt.nomatch) != nil {
			t.Errorf("rule %q matches %q", tt.line, tt.nomatch)
		}
	}
}

func TestParseRulesAllErrorsAtOnce(t *testing.T) {
	in := "# c\n\ndeny\t\\.exe$\tl\tu\nbogus line\nallow\t(?R)\t-\t-\ndeny\t\\.com$\tl\tu\n"
	rs, err := ParseRules("f.conf", strings.NewReader(in))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"f.conf:4: ", "f.conf:5: "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if len(rs.List) != 2 || rs.List[1].Line != 6 {
		t.Errorf("kept %d rules (want 2, second from line 6): %+v", len(rs.List), rs.List)
	}
}

func TestMailScannerFormatFile(t *testing.T) {
	rs, err := LoadRules("testdata/mailscanner.rules.conf")
	if err != nil {
		t.Fatalf("LoadRules: %v", err)
	}
	tests := []struct {
		name, mime string
		wantLine   int // 0: no match
	}{
		{"Pretty  Park.exe", "", 2},
		{"holiday.jpg", "", 3},
		{"x.PIF", "", 4},
		{"x.vbe", "", 5},
		{"show.pps", "", 6},
		{"a.wsf", "", 7},
		{"saver.scr", "", 8},
		{"x.cab", "", 9},
		{"prog", "application/x-dosexec", 10},
		{"report.doc.zip", "", 11},
		{"report.pdf", "application/pdf", 0},
	}
	for _, tt := range tests {
		r := rs.Match(tt.mime, tt.name)
		got := 0
		if r != nil {
			got = r.Line
		}
		if got != tt.wantLine {
			t.Errorf("Match(%q, %q) = line %d, want %d", tt.mime, tt.name, got, tt.wantLine)
		}
	}
}

func TestShippedRulesParse(t *testing.T) {
	for _, f := range []string{"filename.rules.conf", "filetype.rules.conf",
		"archives.filename.rules.conf", "archives.filetype.rules.conf"} {
		rs, err := LoadRules("../../etc/rules/" + f)
		if err != nil {
			t.Errorf("LoadRules(%s): %v", f, err)
		}
		if len(rs.List) < 5 {
			t.Errorf("LoadRules(%s): only %d rules", f, len(rs.List))
		}
	}
}

func FuzzParseRules(f *testing.F) {
	for _, p := range []string{"testdata/mailscanner.rules.conf", "../../etc/rules/filename.rules.conf",
		"../../etc/rules/filetype.rules.conf", stockDir + "filename.rules.conf", stockDir + "filetype.rules.conf"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("deny\t(?=x)\tl\tu\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		rs, _ := ParseRules("fuzz", strings.NewReader(string(in)))
		for _, r := range rs.List {
			if r.Line <= 0 || r.File != "fuzz" {
				t.Fatalf("rule without position: %+v", r)
			}
		}
		rs.Match("text/plain", "a.exe", string(in))
		rs.Check("text/plain", Candidates(string(in)))
		rs.CheckType(string(in), "text/plain")
	})
}
