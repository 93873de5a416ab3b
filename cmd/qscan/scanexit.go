package main

import "github.com/qscan/qscan/pkg/message"

// Exit codes of `qscan scan`, clamscan's where they overlap (0 clean,
// 1 virus found, 2 error), plus spam; see its --help and README.md.
const (
	scanClean   = 0
	scanBlocked = 1 // a virus, or a filename, filetype, size or content rule
	scanError   = 2 // a file could not be read or checked
	scanSpam    = 3 // spam or high-scoring spam, nothing worse
)

// scanExit is the exit code for one file's verdict.
func scanExit(verdict message.Verdict) int {
	switch verdict {
	case message.VerdictClean:
		return scanClean
	case message.VerdictSpam, message.VerdictHighSpam:
		return scanSpam
	case message.VerdictError:
		return scanError
	default: // infected, blocked, silent, and any verdict that keeps mail back
		return scanBlocked
	}
}

// worseScanExit returns the more serious of two scan exit codes: a virus
// or a block, then an error, then spam, then clean.
func worseScanExit(a, b int) int {
	rank := map[int]int{scanClean: 0, scanSpam: 1, scanError: 2, scanBlocked: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}
