package config

import (
	"os"
	"path/filepath"
)

// Archives configures the external unpacker for the archive formats the
// built-in readers cannot open ([archives]).
type Archives struct {
	// SevenZip is the 7-Zip binary: "auto" (the default) takes
	// /usr/bin/7zz or /usr/bin/7z when installed, "" turns it off, an
	// absolute path names it.
	SevenZip        string   `toml:"sevenzip"`
	SevenZipTimeout Duration `toml:"sevenzip_timeout"`
}

func defaultArchives() Archives {
	return Archives{SevenZip: "auto", SevenZipTimeout: Duration(30e9)}
}

// sevenZipCandidates are the binaries "auto" looks for, in order (Debian's
// 7zip package installs 7zz, and 7z with its 7zip-standalone links).
var sevenZipCandidates = []string{"/usr/bin/7zz", "/usr/bin/7z"}

// SevenZipPath resolves [archives] sevenzip to the binary to run: "" when
// it is off or not installed. missing is true when a configured path is
// not an executable file (for `qscan lint`'s warning); 7-Zip is then off.
func (a Archives) SevenZipPath() (path string, missing bool) {
	switch a.SevenZip {
	case "":
		return "", false
	case "auto":
		for _, p := range sevenZipCandidates {
			if executable(p) {
				return p, false
			}
		}
		return "", false
	}
	if !executable(a.SevenZip) {
		return "", true
	}
	return a.SevenZip, false
}

func executable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

func (a *Archives) validate(bad func(key, format string, a ...any)) {
	if a.SevenZip != "" && a.SevenZip != "auto" && !filepath.IsAbs(a.SevenZip) {
		bad("archives.sevenzip", "archives.sevenzip: %q: use an absolute path, \"auto\" or \"\" (off)", a.SevenZip)
	}
	if a.SevenZipTimeout <= 0 {
		bad("archives.sevenzip_timeout", "archives.sevenzip_timeout: must be positive")
	}
}
