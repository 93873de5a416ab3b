package stackutil

import (
	"reflect"
	"testing"

	"github.com/BurntSushi/toml"
)

func TestConfigTextWritesOnlyWhatIsSet(t *testing.T) {
	if got := (Config{}).Text(); got != "" {
		t.Errorf("Config{}.Text() = %q, want empty", got)
	}
	c := Config{Incoming: "in", WorkDir: "work", Kick: true, MaxMessages: 5, Virus: []string{},
		Clamd: Engine{Address: "127.0.0.1:3310"}, Spam: &Spam{}, Notify: &Notify{}, NoMetrics: true}
	var got map[string]any
	if _, err := toml.Decode(c.Text(), &got); err != nil {
		t.Fatalf("Text() is not TOML: %v\n%s", err, c.Text())
	}
	want := map[string]any{
		"queue":   map[string]any{"incoming": "in", "work_dir": "work", "pid_file": "work/qscan.pid", "kick": true},
		"batch":   map[string]any{"max_messages": int64(5)},
		"store":   map[string]any{"path": "work/qscan.db"},
		"metrics": map[string]any{"listen": ""},
		"notify":  map[string]any{"postmaster": ""},
		"virus":   map[string]any{"scanners": []any{}, "clamd": map[string]any{"socket": "", "address": "127.0.0.1:3310"}},
		"spam":    map[string]any{"engines": []any{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Text() decodes to %#v, want %#v", got, want)
	}
}
