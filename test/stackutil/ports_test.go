package stackutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// scriptEnv runs `scripts/teststack args...` with exactly the environment
// env (plus PATH) and returns its standard output and error.
func scriptEnv(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not found")
	}
	script, err := Script()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(script, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out) + string(ee.Stderr), err
	}
	return string(out), err
}

// TestEnvNamesItsStack: what `teststack env` prints, once evaluated, is
// enough for every later command to reach the same stack. Without
// QSCAN_STACK_PORTS among the printed variables, a later `start clamd`
// used the printed state directory with the default ports.
func TestEnvNamesItsStack(t *testing.T) {
	first, err := scriptEnv(t, map[string]string{"QSCAN_STACK_PORTS": "0500"}, "env")
	if err != nil {
		t.Fatalf("teststack env: %v\n%s", err, first)
	}
	vars, err := parseEnv([]byte(first))
	if err != nil {
		t.Fatal(err)
	}
	if vars["QSCAN_STACK_PORTS"] != "500" || vars["QSCAN_STACK"] != "/tmp/qscan-stack-500" || vars["SMTP_IN"] != "127.0.0.1:3025" {
		t.Errorf("env with QSCAN_STACK_PORTS=0500 printed QSCAN_STACK_PORTS=%q QSCAN_STACK=%q SMTP_IN=%q; want 500, /tmp/qscan-stack-500, 127.0.0.1:3025",
			vars["QSCAN_STACK_PORTS"], vars["QSCAN_STACK"], vars["SMTP_IN"])
	}
	// A later command sees only what the eval exported.
	again, err := scriptEnv(t, vars, "env")
	if err != nil {
		t.Fatalf("teststack env after eval: %v\n%s", err, again)
	}
	if again != first {
		t.Errorf("env after evaluating env's output differs:\n%s\nwant\n%s", again, first)
	}
}

// TestStateDirKeepsItsPorts: a state directory remembers the offset it was
// started with. A command given the directory alone (QSCAN_STACK set,
// QSCAN_STACK_PORTS not) works on that offset's ports; one given another
// offset refuses instead of starting daemons of this directory elsewhere.
func TestStateDirKeepsItsPorts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "stack")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "ports"), "500\n")
	out, err := scriptEnv(t, map[string]string{"QSCAN_STACK": dir}, "env")
	if err != nil {
		t.Fatalf("teststack env: %v\n%s", err, out)
	}
	vars, err := parseEnv([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if vars["QSCAN_STACK_PORTS"] != "500" || vars["CLAMD_ADDR"] != "127.0.0.1:3810" || vars["QSCAN_STACK"] != dir {
		t.Errorf("env of a directory started with offset 500 = %q, %q, %q; want 500, 127.0.0.1:3810, %s",
			vars["QSCAN_STACK_PORTS"], vars["CLAMD_ADDR"], vars["QSCAN_STACK"], dir)
	}
	for _, args := range [][]string{{"env"}, {"status", "clamd"}, {"stop", "clamd"}} {
		out, err := scriptEnv(t, map[string]string{"QSCAN_STACK": dir, "QSCAN_STACK_PORTS": "0"}, args...)
		if err == nil || !strings.Contains(out, "QSCAN_STACK_PORTS=500") {
			t.Errorf("teststack %s with offset 0 on a directory of offset 500: err %v, output %q; want a refusal naming QSCAN_STACK_PORTS=500",
				strings.Join(args, " "), err, out)
		}
	}
	writeFile(t, filepath.Join(dir, "ports"), "five hundred\n")
	if out, err := scriptEnv(t, map[string]string{"QSCAN_STACK": dir}, "env"); err == nil {
		t.Errorf("env with a garbled ports file succeeded:\n%s", out)
	}
}

// TestStackMethodsPinTheStack: Start, Stop, Status and Flush of a Stack
// run the script on that stack's directory and offset, whatever the
// process environment says (a test that restarts clamd restarts it where
// Require found it).
func TestStackMethodsPinTheStack(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not found")
	}
	dir := filepath.Join(t.TempDir(), "stack")
	t.Setenv("QSCAN_STACK", filepath.Join(t.TempDir(), "elsewhere"))
	t.Setenv("QSCAN_STACK_PORTS", "700")
	s := Stack{Dir: dir, Ports: "500"}
	out, err := s.run("env")
	if err != nil {
		t.Fatal(err)
	}
	vars, err := parseEnv(out)
	if err != nil {
		t.Fatal(err)
	}
	if vars["QSCAN_STACK"] != dir || vars["QSCAN_STACK_PORTS"] != "500" || vars["SPAMD_ADDR"] != "127.0.0.1:8330" {
		t.Errorf("Stack.run(env) = %q, %q, %q; want %s, 500, 127.0.0.1:8330",
			vars["QSCAN_STACK"], vars["QSCAN_STACK_PORTS"], vars["SPAMD_ADDR"], dir)
	}
}
