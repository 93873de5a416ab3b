package msimport

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

// kind is how a value converts.
type kind int

const (
	kBool    kind = iota
	kNot          // a yes/no whose qscan key says the opposite
	kStr          // text as it is
	kSize         // bytes
	kSizeOff      // bytes; MailScanner's -1 (off) is qscan's 0
	kInt          // whole number
	kSec          // seconds, as a duration
	kFloat        // number
	kWords        // space-separated words, as a list
	kHTML         // yes/no/disarm as allow/block/disarm
	kPath         // a file or directory, never a ruleset
	kList         // words separated by blanks and/or commas, as a list
)

func conv(k kind, v string) (any, error) {
	switch k {
	case kBool, kNot:
		b, err := yes(v)
		return b != (k == kNot), err
	case kStr, kPath:
		return v, nil
	case kSize:
		return size(v)
	case kSizeOff:
		n, err := size(v)
		if n < 0 {
			n = 0
		}
		return n, err
	case kInt:
		return integer(v)
	case kSec:
		n, err := integer(v)
		if err == nil && n < 1 {
			err = fmt.Errorf("%q: at least 1 second", v)
		}
		return fmt.Sprintf("%ds", n), err
	case kFloat:
		return number(v)
	case kWords:
		return strings.Fields(v), nil
	case kList:
		return strings.FieldsFunc(v, func(c rune) bool { return c == ',' || c == ' ' || c == '\t' }), nil
	case kHTML:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "yes":
			return "allow", nil
		case "no":
			return "block", nil
		case "disarm":
			return "disarm", nil
		}
		return nil, fmt.Errorf("%q is not yes, no or disarm", v)
	}
	return nil, fmt.Errorf("kind %d", k)
}

type mapper func(r *Result, o *Option) Row

// direct maps an option to one qscan key. setting says the key takes a
// ruleset as MailScanner's option does; otherwise a ruleset's default
// value is used. A non-empty note makes the row "changed".
func direct(key string, k kind, setting bool, note string) mapper {
	return func(r *Result, o *Option) Row {
		row := Row{Status: Mapped, Key: key, Note: note}
		if note != "" {
			row.Status = Changed
		}
		v := o.Value
		if path, ok := r.conf.isRuleset(v); ok && k != kPath {
			if setting {
				rel, err := r.copyRuleset(path)
				if err != nil {
					return Row{Status: Unsupported, Key: key, Note: fmt.Sprintf("ruleset %s could not be read (%v): qscan's default kept", v, err)}
				}
				r.set(key, rel)
				row.Note = join(note, "ruleset copied to "+rel)
				return row
			}
			b, err := readSmall(path)
			d, ok := rulesetDefault(string(b))
			if err != nil || !ok {
				return Row{Status: Unsupported, Key: key, Note: fmt.Sprintf("MailScanner chose this per message with ruleset %s, which has no default line; %s takes one value: set it by hand", v, key)}
			}
			row.Status = Changed
			row.Note = join(note, fmt.Sprintf("MailScanner chose this per message with ruleset %s; %s takes one value: the ruleset's default (%s) is used", v, key, d))
			v = r.conf.Subst(d)
		}
		x, err := conv(k, v)
		if err != nil {
			return Row{Status: Unsupported, Key: key, Note: fmt.Sprintf("value %v: qscan's default kept", err)}
		}
		r.set(key, x)
		return row
	}
}

// same is an option whose behaviour qscan has without a key.
func same(note string) mapper {
	return func(*Result, *Option) Row { return Row{Status: Mapped, Note: note} }
}

// unsup is an option qscan does not have; note says what to do instead.
func unsup(note string) mapper {
	return func(*Result, *Option) Row { return Row{Status: Unsupported, Note: note} }
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	return a + "; " + b
}

var pathToken = regexp.MustCompile(`(?:^|\s)(/[^\s#]+)`)

// copyRuleset copies a ruleset into rulesets/ (its name ending in
// .rules, as qscan recognises rulesets), with %variables% substituted and
// the files its values name (rule files) copied into rules/ and named
// by their new relative paths.
func (r *Result) copyRuleset(path string) (string, error) {
	rel, err := r.copyFile(path, "rulesets", func(b []byte) []byte {
		text := r.conf.Subst(string(b))
		return []byte(pathToken.ReplaceAllStringFunc(text, func(m string) string {
			lead := m[:len(m)-len(strings.TrimLeft(m, " \t\n"))]
			p := strings.TrimLeft(m, " \t\n")
			if st, err := os.Stat(r.conf.Path(p)); err != nil || !st.Mode().IsRegular() {
				return m
			}
			inner, err := r.copyFile(p, "rules", nil)
			if err != nil {
				return m
			}
			return lead + inner
		}))
	})
	if err != nil || strings.HasSuffix(rel, ".rules") {
		return rel, err
	}
	b := r.Files[rel]
	delete(r.Files, rel)
	rel += ".rules"
	r.Files[rel] = b
	r.copied[r.conf.Path(path)] = rel
	return rel, nil
}

// ruleFiles maps "Filename Rules" and its kin: the rule files are copied
// into rules/ (a ruleset of rule files into rulesets/, with its files).
func ruleFiles(key string) mapper {
	return func(r *Result, o *Option) Row {
		if path, ok := r.conf.isRuleset(o.Value); ok && !isRuleFile(path) {
			rel, err := r.copyRuleset(path)
			if err != nil {
				return Row{Status: Unsupported, Key: key, Note: fmt.Sprintf("ruleset could not be read (%v): the shipped rules are used", err)}
			}
			r.set(key, rel)
			return Row{Status: Mapped, Key: key, Note: "ruleset copied to " + rel + " with its rule files"}
		}
		var rels []string
		for _, f := range strings.Fields(o.Value) {
			rel, err := r.copyFile(f, "rules", nil)
			if err != nil {
				return Row{Status: Unsupported, Key: key, Note: fmt.Sprintf("rule file %s could not be read (%v): the shipped rules are used", f, err)}
			}
			rels = append(rels, rel)
		}
		if len(rels) == 0 {
			return Row{Status: Unsupported, Key: key, Note: "empty: qscan's shipped rules are used"}
		}
		r.set(key, rels)
		return Row{Status: Mapped, Key: key, Note: "rule files copied unchanged to " + strings.Join(rels, ", ")}
	}
}

// isRuleFile tells a rule file (TAB-separated allow/deny lines) from a
// ruleset by its first rule line.
func isRuleFile(path string) bool {
	if strings.HasSuffix(path, ".rules") {
		return false
	}
	b, err := readSmall(path)
	if err != nil {
		return true
	}
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' {
			continue
		}
		return !defaultRule.MatchString(l) && !regexp.MustCompile(`(?i)^(from|to|fromorto|fromandto|virus):`).MatchString(l)
	}
	return true
}
