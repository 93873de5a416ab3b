//go:build e2e

package installed

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

// cronJob is one line of a cron.d file, with the file's variables.
type cronJob struct {
	user, command string
	env           []string // NAME=value lines of the file
}

// job matches "min hour dom month dow user command".
var job = regexp.MustCompile(`^(?:\S+\s+){5}(\S+)\s+(.+)$`)

// findCronJob returns the job of a cron.d file whose command contains
// what.
func findCronJob(path, what string) (cronJob, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return cronJob{}, err
	}
	var env []string
	var found []cronJob
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' {
			continue
		}
		if name, _, ok := strings.Cut(l, "="); ok && !strings.ContainsAny(name, " \t") {
			env = append(env, l)
			continue
		}
		if m := job.FindStringSubmatch(l); m != nil && strings.Contains(m[2], what) {
			found = append(found, cronJob{user: m[1], command: m[2]})
		}
	}
	if len(found) != 1 {
		return cronJob{}, fmt.Errorf("%s: %d jobs running %q, want 1", path, len(found), what)
	}
	found[0].env = env
	return found[0], nil
}

// runAsCron runs a root job as cron does: /bin/sh -c COMMAND in root's
// home, with only the environment cron gives (HOME, LOGNAME from the
// password file, then the file's variables: SHELL, PATH, MAILTO), no
// terminal, in a session of its own.
func runAsCron(j cronJob) (string, error) {
	if j.user != "root" {
		return "", fmt.Errorf("job runs as %s, not root", j.user)
	}
	env := append([]string{"HOME=/root", "LOGNAME=root", "SHELL=/bin/sh"}, j.env...)
	return detached(env, "/root", "/bin/sh", "-c", j.command)
}
