package content

import (
	"strings"
	"unicode"
)

// Candidates returns the forms of an attachment name that the rules
// check: the name as written, and the name a receiving system makes of
// it. A mail client saves the last element of a path ("..\evil.exe",
// "dir/evil.exe"); Windows drops an NTFS stream suffix ("x.vbs::$DATA",
// "x.js:zone") and trailing dots and spaces ("x.js.", "x.hta "); text
// after a NUL is cut off by C programs; bidirectional controls and
// zero-width characters (U+202E "exe.pdf" shown as "fdp.exe") are not
// shown; leading and trailing white space is not seen. The list starts
// with name itself and holds no duplicates or empty strings.
func Candidates(name string) []string {
	out := []string{name}
	add := func(s string) {
		if s == "" {
			return
		}
		for _, o := range out {
			if o == s {
				return
			}
		}
		out = append(out, s)
	}
	for _, form := range []string{name, cutNUL(name)} {
		base := lastElement(form)
		add(base)
		visible := strings.Map(dropInvisible, base)
		add(strings.TrimFunc(visible, isSpaceRune))
		add(windowsName(base))
		add(windowsName(visible))
	}
	return out
}

// cutNUL returns s up to its first NUL.
func cutNUL(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// lastElement is the last element of a name with / or \ separators; a
// name that ends in a separator keeps the element before it.
func lastElement(s string) string {
	t := strings.TrimRight(s, `/\`)
	if i := strings.LastIndexAny(t, `/\`); i >= 0 {
		return t[i+1:]
	}
	if t == "" {
		return s
	}
	return t
}

// windowsName is the file Windows creates for name: an NTFS alternate
// data stream suffix (":stream", "::$DATA", ":s:$DATA") names the main
// file, a drive prefix ("c:x.exe") names x.exe on that drive, trailing
// dots and spaces are dropped, and so is leading and trailing white space
// that no Windows dialog shows.
func windowsName(name string) string {
	n := strings.TrimFunc(name, isSpaceRune)
	if len(n) >= 2 && n[1] == ':' && isASCIILetter(n[0]) {
		n = n[2:] // drive-relative: "c:evil.exe"
	}
	if i := strings.IndexByte(n, ':'); i >= 0 {
		n = n[:i]
	}
	for {
		t := strings.TrimRightFunc(n, func(r rune) bool { return r == '.' || isSpaceRune(r) })
		if t == n {
			break
		}
		n = t
	}
	return strings.TrimFunc(n, isSpaceRune)
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// dropInvisible removes the characters that change how a name is shown
// without being shown: bidirectional controls (U+202A-U+202E,
// U+2066-U+2069, marks), zero-width characters, the soft hyphen and other
// format characters, and control characters.
func dropInvisible(r rune) rune {
	if unicode.Is(unicode.Cf, r) || unicode.IsControl(r) && r != '\t' || r == 0x115F || r == 0x1160 ||
		r == 0x3164 || r == 0xFFA0 {
		return -1
	}
	return r
}
