package postfix

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// ReadQueue asks postconf (an argument vector, never a shell) for the
// queue settings of the Postfix instance with config_directory configDir
// ("" for the default one): queue_directory, hash_queue_names,
// hash_queue_depth and enable_long_queue_ids. env is added to the
// environment.
func ReadQueue(ctx context.Context, postconf, configDir string, env []string) (Queue, error) {
	var args []string
	if configDir != "" {
		args = append(args, "-c", configDir)
	}
	args = append(args, "-h", "queue_directory", "hash_queue_names", "hash_queue_depth", "enable_long_queue_ids")
	cmd := exec.CommandContext(ctx, postconf, args...)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return Queue{}, fmt.Errorf("%s %s: %w: %s", postconf, strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) != 4 {
		return Queue{}, fmt.Errorf("%s: want 4 lines, got %q", postconf, out)
	}
	q := Queue{Dir: lines[0], HashNames: []string{}}
	q.HashNames = append(q.HashNames, strings.FieldsFunc(lines[1], func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })...)
	if q.HashDepth, err = strconv.Atoi(strings.TrimSpace(lines[2])); err != nil || q.HashDepth < 1 {
		return Queue{}, fmt.Errorf("%s: hash_queue_depth %q", postconf, lines[2])
	}
	switch strings.ToLower(strings.TrimSpace(lines[3])) {
	case "yes", "true", "on":
		q.LongIDs = true
	}
	return q, nil
}
