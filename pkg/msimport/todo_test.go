package msimport

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestToDo: the import ends with what the postmaster must still do: the
// queue directories that are not there (and, once they are, the
// configuration loads), the kick's user, the list copy nobody updates,
// the options MailScanner used that qscan does not have.
func TestToDo(t *testing.T) {
	if _, err := os.Stat(shippedDir); err != nil {
		t.Skipf("MailScanner's shipped configuration is not here (%v)", err)
	}
	etc := copyTree(t, shippedDir)
	root := filepath.Dir(etc)
	in := filepath.Join(root, "in")
	if err := os.Remove(in); err != nil {
		t.Fatal(err)
	}
	res, err := Import(etc)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "out-qscan")
	todo := strings.Join(res.ToDo(out), "\n")
	for _, want := range []string{"stop MailScanner", "create the queue directories " + in, "restrictqrun",
		"bad-sites list", "not supported\" rows MailScanner had in use", "install " + filepath.Join(out, "qscan.toml"), "qscan lint -c /etc/qscan/qscan.toml"} {
		if !strings.Contains(todo, want) {
			t.Errorf("to-do lacks %q:\n%s", want, todo)
		}
	}
	if err := os.Mkdir(in, 0o700); err != nil {
		t.Fatal(err)
	}
	res, c := importAndLoad(t, etc)
	if todo := strings.Join(res.ToDo(out), "\n"); strings.Contains(todo, "create the queue directories") {
		t.Errorf("to-do asks for directories that exist:\n%s", todo)
	}
	if c.Queue.Incoming[0] != in {
		t.Errorf("queue.incoming = %v", c.Queue.Incoming)
	}
}

// TestToDoPostfix: a Postfix site without Postfix's hold queue is told to
// set Postfix up, not to create directories.
func TestToDoPostfix(t *testing.T) {
	res := importString(t, "MTA = postfix\n")
	if _, err := os.Stat(postfixHold); err == nil {
		t.Skip("this machine has Postfix's hold queue")
	}
	todo := strings.Join(res.ToDo("/etc/qscan"), "\n")
	if !strings.Contains(todo, "install Postfix with MailScanner's header_checks") || strings.Contains(todo, "install /etc/qscan/qscan.toml") {
		t.Errorf("to-do:\n%s", todo)
	}
}
