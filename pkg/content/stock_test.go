package content

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

var printNames = flag.Bool("names", false, "print the crafted names of TestStockRuleVerdicts for verdicts.pl")

const stockDir = "testdata/mailscanner-v5/"

var stockFiles = []string{"filename.rules.conf", "filetype.rules.conf",
	"archives.filename.rules.conf", "archives.filetype.rules.conf"}

// TestStockRulesLoadUnchanged: MailScanner's shipped rule files load as
// they are (line 130 of filename.rules.conf has a back-reference).
func TestStockRulesLoadUnchanged(t *testing.T) {
	want := map[string]int{"filename.rules.conf": 71, "filetype.rules.conf": 8,
		"archives.filename.rules.conf": 69, "archives.filetype.rules.conf": 8}
	for _, f := range stockFiles {
		rs, err := LoadRules(stockDir + f)
		if err != nil {
			t.Errorf("LoadRules(%s): %v", f, err)
			continue
		}
		if len(rs.List) != want[f] {
			t.Errorf("LoadRules(%s): %d rules, want %d", f, len(rs.List), want[f])
		}
	}
}

// witness builds a string the expression n matches (when it has no
// look-around or \b to satisfy): the first alternative, the fewest
// repetitions, a plain character for each class.
func witness(n *node, caps map[int]string) string {
	switch n.op {
	case opLit:
		return string(n.r)
	case opAny:
		return "a"
	case opClass:
		for _, r := range "abcdefghijklmnopqrstuvwxyz0123456789 .-_ABCDEFGHIJKLMNOPQRSTUVWXYZ{}" {
			if n.cls.has(r, n.fold) {
				return string(r)
			}
		}
		return "\u00e9"
	case opConcat:
		var b strings.Builder
		for _, s := range n.subs {
			b.WriteString(witness(s, caps))
		}
		return b.String()
	case opAlt:
		return witness(n.subs[0], caps)
	case opGroup:
		w := witness(n.subs[0], caps)
		caps[n.n] = w
		return w
	case opRepeat:
		return strings.Repeat(witness(n.subs[0], caps), n.min)
	case opBackref:
		return caps[n.n]
	case opAtomic:
		return witness(n.subs[0], caps)
	}
	return ""
}

// craft returns a name rule r matches and one it does not.
func craft(t *testing.T, r *Rule) (match, miss string) {
	t.Helper()
	w := witness(r.Pattern.tree, map[int]string{})
	for _, c := range []string{"invoice" + w, w, "invoice " + w} {
		if ok, err := r.Pattern.MatchString(c); ok && err == nil {
			match = c
			break
		}
	}
	if match == "" {
		t.Fatalf("rule %s (%s): no crafted name matches", r.ID(), r.Pattern.Source)
	}
	for _, c := range []string{match + "_x", "invoice.txt", "readme"} {
		if ok, err := r.Pattern.MatchString(c); !ok && err == nil {
			return match, c
		}
	}
	t.Fatalf("rule %s (%s): every crafted name matches", r.ID(), r.Pattern.Source)
	return "", ""
}

// stockExtra are names beside the crafted ones: the usual tricks.
var stockExtra = map[string][]string{
	"filename.rules.conf": {"invoice.pdf.exe", "invoice.pdf.EXE", "report.doc .scr", "report.pdf.pdf",
		"report.jan.pdf", "report.doc.docx", "budget.xls.zip", "x{00020813-0000-0000-C000-000000000046}.doc",
		"a" + strings.Repeat(" ", 10) + ".exe", "readme", "photo.JPG", "letter.txt.vbs", "pretty  park.exe"},
	"archives.filename.rules.conf": {"invoice.pdf.exe", "report.doc.docx", "report.doc.docm", "a.mat", "x.fdf"},
	"filetype.rules.conf":          {"PE32 executable (GUI) Intel 80386", "ASCII text", "MS Windows registry file", "ELF 64-bit LSB executable"},
	"archives.filetype.rules.conf": {"MS Windows registry file", "Zip archive data"},
}

type stockCase struct{ file, name string }

// readVerdicts reads MailScanner's verdicts computed by verdicts.pl.
func readVerdicts(t *testing.T) map[stockCase][2]string {
	f, err := os.Open(stockDir + "verdicts.txt")
	if err != nil {
		t.Fatalf("verdicts: %v (see %sREADME)", err, stockDir)
	}
	defer f.Close()
	out := map[stockCase][2]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), "\t")
		if len(p) == 4 {
			out[stockCase{p[0], p[1]}] = [2]string{p[2], p[3]}
		}
	}
	return out
}

// verdictOf is qscan's verdict on one name as written, in the terms of
// verdicts.txt: the line of the first matching rule and its action.
func verdictOf(rs *Rules, name string) [2]string {
	for i := range rs.List {
		r := &rs.List[i]
		if r.Pattern == nil {
			continue
		}
		if ok, _ := r.matches(r.Pattern, name); ok {
			return [2]string{strconv.Itoa(r.Line), strings.ToLower(actionWord(r))}
		}
	}
	return [2]string{"0", "none"}
}

func actionWord(r *Rule) string {
	switch r.Verb {
	case Allow:
		return "allow"
	case Rename:
		return "rename"
	case Deny:
		return "deny"
	}
	return "addresses"
}

// TestStockRuleVerdicts runs every rule of the shipped files against a
// name crafted from the rule to match it and one that does not, and
// compares the verdict of the whole file with MailScanner's (perl).
func TestStockRuleVerdicts(t *testing.T) {
	var want map[stockCase][2]string
	if !*printNames {
		want = readVerdicts(t)
	}
	for _, f := range stockFiles {
		rs, err := LoadRules(stockDir + f)
		if err != nil {
			t.Fatalf("LoadRules(%s): %v", f, err)
		}
		for _, name := range stockExtra[f] {
			if *printNames {
				fmt.Printf("CASE\t%s\t%s\n", f, name)
			} else if w, got := want[stockCase{f, name}], verdictOf(rs, name); got != w {
				t.Errorf("%s: verdict on %q = line %s %s, MailScanner: line %s %s", f, name, got[0], got[1], w[0], w[1])
			}
		}
		for i := range rs.List {
			r := &rs.List[i]
			match, miss := craft(t, r)
			for _, name := range []string{match, miss} {
				if *printNames {
					fmt.Printf("CASE\t%s\t%s\n", f, name)
					continue
				}
				w, ok := want[stockCase{f, name}]
				if !ok {
					t.Errorf("%s: no MailScanner verdict for %q: regenerate verdicts.txt (%sREADME)", r.ID(), name, stockDir)
					continue
				}
				if got := verdictOf(rs, name); got != w {
					t.Errorf("%s %s: verdict on %q = line %s %s, MailScanner: line %s %s", f, r.Pattern.Source, name, got[0], got[1], w[0], w[1])
				}
			}
			if r.Verb != Allow {
				checkWindowsForms(t, rs, r, match, want[stockCase{f, match}])
			}
		}
	}
}

// checkWindowsForms: a name that a blocking rule catches is caught in
// every form Windows reduces to it.
func checkWindowsForms(t *testing.T, rs *Rules, r *Rule, name string, w [2]string) {
	t.Helper()
	if w[1] != "deny" && w[1] != "rename" {
		return // an earlier allow rule decides for this name
	}
	for _, v := range []string{name + ".", name + " ", name + "::$DATA", name + ":zone:$DATA", name + "..",
		name + " . .", " " + name, `..\` + name, "dir/" + name, name + "\u200b", name + "\x00.txt"} {
		h := rs.Check("", Candidates(v))
		if h == nil || (w[1] == "deny" && h.Rule.Verb == Rename) {
			t.Errorf("%s %s: %q (Windows saves %q) gives %v, want %s", r.ID(), r.Pattern.Source, v, name, h, w[1])
		}
	}
}
