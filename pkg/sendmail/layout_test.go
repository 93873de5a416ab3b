package sendmail

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestStray: queue files at the top of a queue with the sub-directory for
// them are stray; other files, and a flat queue's files, are not.
func TestStray(t *testing.T) {
	dir := t.TempDir()
	for _, s := range []string{"qf", "df"} {
		os.Mkdir(filepath.Join(dir, s), 0o700)
	}
	for _, f := range []string{"qf6AM876nc000001", "tf6AM876nc000002", "df6AM876nc000001", "README", "xf6AM876nc000001"} {
		os.WriteFile(filepath.Join(dir, f), nil, 0o600)
	}
	q, err := OpenQueue(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Stray{
		{Prefixes: []string{"qf", "tf"}, Sub: "qf", Names: []string{"qf6AM876nc000001", "tf6AM876nc000002"}},
		{Prefixes: []string{"df"}, Sub: "df", Names: []string{"df6AM876nc000001"}},
	}
	if got := q.Stray(); !reflect.DeepEqual(got, want) {
		t.Errorf("Stray() = %+v, want %+v", got, want)
	}
	flat := Queue{Dir: dir}
	if got := flat.Stray(); len(got) != 0 {
		t.Errorf("Stray() of a flat queue = %+v, want none", got)
	}
	if same, _, _ := SameFilesystem(q, flat); !same {
		t.Error("SameFilesystem of one directory = false")
	}
}
