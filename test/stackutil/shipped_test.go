package stackutil

import (
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

func TestShippedConfig(t *testing.T) {
	got, err := ShippedConfig(map[string]string{
		"queue.incoming":     `["/q/in"]`,
		"virus.clamd.socket": Quote("/run/x.sock"),
	})
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Queue struct {
			Incoming       []string
			RescanInterval string `toml:"rescan_interval"`
		}
		Virus struct{ Clamd struct{ Socket string } }
	}
	if _, err := toml.Decode(string(got), &c); err != nil {
		t.Fatalf("the result is not TOML: %v", err)
	}
	if len(c.Queue.Incoming) != 1 || c.Queue.Incoming[0] != "/q/in" || c.Virus.Clamd.Socket != "/run/x.sock" {
		t.Errorf("keys not replaced: %+v", c)
	}
	if c.Queue.RescanInterval != "30s" {
		t.Errorf("rescan_interval = %q, want the shipped 30s", c.Queue.RescanInterval)
	}
}

func TestReplaceKeysMissing(t *testing.T) {
	src := []byte("[a]\nx = 1\n# y = 2\n[b]\ny = 3\n")
	_, err := ReplaceKeys(src, map[string]string{"a.x": "5", "a.y": "6", "c.z": "7"})
	if err == nil || !strings.Contains(err.Error(), "a.y, c.z") {
		t.Errorf("ReplaceKeys error = %v, want a.y and c.z reported", err)
	}
	got, err := ReplaceKeys(src, map[string]string{"b.y": "9"})
	if err != nil || string(got) != "[a]\nx = 1\n# y = 2\n[b]\ny = 9\n" {
		t.Errorf("ReplaceKeys = %q, %v", got, err)
	}
}
