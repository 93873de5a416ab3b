package sendmail

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Stray is a kind of queue file found at the top of a queue that keeps it
// in a sub-directory: sendmail reads only the sub-directory, so these are
// never delivered (or never scanned). A program that ignored the layout
// left them, or an older qscan.
type Stray struct {
	Prefixes []string // "qf", "tf"; or "df"
	Sub      string   // the sub-directory: "qf" or "df"
	Names    []string // the files
}

// Stray lists the qf, tf and df files at the top of q that belong in its
// sub-directories.
func (q Queue) Stray() []Stray {
	des, err := os.ReadDir(q.Dir)
	if err != nil {
		return nil
	}
	var out []Stray
	for _, kind := range []struct {
		prefix []string
		sub    bool
		in     string
	}{{[]string{"qf", "tf"}, q.SubQf, "qf"}, {[]string{"df"}, q.SubDf, "df"}} {
		if !kind.sub {
			continue
		}
		var names []string
		for _, de := range des {
			for _, pre := range kind.prefix {
				if id, ok := strings.CutPrefix(de.Name(), pre); ok && ValidID(id) && de.Type().IsRegular() {
					names = append(names, de.Name())
				}
			}
		}
		if len(names) > 0 {
			out = append(out, Stray{Prefixes: kind.prefix, Sub: kind.in, Names: names})
		}
	}
	return out
}

// SameFilesystem reports whether the df files of a and b are on one
// filesystem, so that an unchanged body can be hard-linked from one to
// the other (true when either cannot be looked at: reported elsewhere).
// It returns the two df directories.
func SameFilesystem(a, b Queue) (same bool, aDf, bDf string) {
	aDf, bDf = filepath.Dir(a.DfPath("x")), filepath.Dir(b.DfPath("x"))
	var sa, sb syscall.Stat_t
	if syscall.Stat(aDf, &sa) != nil || syscall.Stat(bDf, &sb) != nil {
		return true, aDf, bDf
	}
	return sa.Dev == sb.Dev, aDf, bDf
}
