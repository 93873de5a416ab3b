package golden

import (
	"bytes"
	"fmt"
	"strings"
)

// maxDiffCells bounds the table of the line diff (lines of want times
// lines of got); larger inputs are reported from their first difference.
const maxDiffCells = 4 << 20

// context is how many equal lines are shown around a change.
const context = 3

// Diff returns a line diff of want and got: "-" lines only in want, "+"
// lines only in got, and up to three equal lines around each change.
// Lines are shown quoted when they differ only in invisible bytes (a
// trailing space, CR), so that the difference can be seen.
func Diff(want, got []byte) string {
	a, b := lines(want), lines(got)
	if len(a)*len(b) > maxDiffCells {
		return firstDifference(a, b)
	}
	ops := script(a, b)
	quote := invisible(ops)
	var out strings.Builder
	last := -1 // index in ops of the last line written
	for i, op := range ops {
		if op.kind == ' ' && !near(ops, i) {
			continue
		}
		if last >= 0 && i > last+1 {
			out.WriteString("...\n")
		}
		out.WriteString(show(op, quote))
		last = i
	}
	return out.String()
}

type edit struct {
	kind byte // ' ', '-' or '+'
	text string
}

// lines splits s into lines, each with its line ending; a missing final
// newline is shown.
func lines(s []byte) []string {
	var out []string
	for len(s) > 0 {
		i := bytes.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, string(s)+"\\ no newline at end\n")
			break
		}
		out = append(out, string(s[:i+1]))
		s = s[i+1:]
	}
	return out
}

// script returns the edits that turn a into b, from a longest common
// subsequence of lines.
func script(a, b []string) []edit {
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []edit
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			ops = append(ops, edit{' ', a[i]})
			i, j = i+1, j+1
		case j == len(b) || i < len(a) && lcs[i+1][j] >= lcs[i][j+1]:
			ops = append(ops, edit{'-', a[i]})
			i++
		default:
			ops = append(ops, edit{'+', b[j]})
			j++
		}
	}
	return ops
}

// near reports whether ops[i] is within context lines of a change.
func near(ops []edit, i int) bool {
	for k := max(0, i-context); k < min(len(ops), i+context+1); k++ {
		if ops[k].kind != ' ' {
			return true
		}
	}
	return false
}

// invisible reports whether the changed lines differ only in bytes a
// reader cannot see: then every line is shown quoted.
func invisible(ops []edit) bool {
	var del, add []string
	for _, op := range ops {
		switch op.kind {
		case '-':
			del = append(del, strings.TrimRight(op.text, " \t\r\n"))
		case '+':
			add = append(add, strings.TrimRight(op.text, " \t\r\n"))
		}
	}
	return strings.Join(del, "\n") == strings.Join(add, "\n")
}

func show(op edit, quote bool) string {
	if quote {
		return fmt.Sprintf("%c%q\n", op.kind, op.text)
	}
	return string(op.kind) + op.text
}

// firstDifference reports where two long texts first part.
func firstDifference(a, b []string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	var out strings.Builder
	fmt.Fprintf(&out, "(too long for a full diff: %d and %d lines) first difference at line %d:\n", len(a), len(b), i+1)
	if i < len(a) {
		out.WriteString("-" + a[i])
	}
	if i < len(b) {
		out.WriteString("+" + b[i])
	}
	return out.String()
}
