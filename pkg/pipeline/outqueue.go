package pipeline

import (
	"path/filepath"

	"github.com/qscan/qscan/pkg/safeio"
)

// The outgoing queue may have any layout its MTA knows (sendmail: flat or
// nested, qf/ and df/ sub-directories, or only one of them): the files go
// where the MTA reads them, in the layout the MTA finds when a batch is
// planned, which the journal keeps (entry.Out) for recovery.

// outDirs returns the directories of the outgoing files of es (none for
// a message quarantined whole), temporary and final.
func outDirs(es []entry) []string {
	var dirs []string
	seen := map[string]bool{}
	add := func(p string) {
		if p == "" {
			return
		}
		if d := filepath.Dir(p); !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	for _, e := range es {
		for _, f := range e.Out {
			add(f.Tmp)
			add(f.Final)
		}
	}
	return dirs
}

// syncOut fsyncs the directories of the outgoing files of es.
func syncOut(es []entry) error {
	for _, d := range outDirs(es) {
		if err := safeio.SyncDir(d); err != nil {
			return err
		}
	}
	return nil
}
