package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qscan/qscan/pkg/store"
)

// TestLintSchemaBehind: a store whose schema is behind this qscan's is a
// lint error naming `qscan migrate`; after `qscan migrate` lint passes.
func TestLintSchemaBehind(t *testing.T) {
	root, cfg := demo(t, "[spam]\nengines = []\n")
	db := filepath.Join(root, "work", "qscan.db")
	os.MkdirAll(filepath.Dir(db), 0o700)
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	// An older qscan's database: the last version not applied.
	if _, err := st.DB().Exec(`DELETE FROM schema_version WHERE version = ?`, store.SchemaVersion()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().Exec(`DROP TABLE outbox; DROP TABLE outbox_epoch`); err != nil {
		t.Fatal(err)
	}
	st.Close()
	out, code := qscan(t, "lint", "--no-engines", "-c", cfg)
	if code != exitConfig || !strings.Contains(out, "run `qscan migrate`") {
		t.Fatalf("lint of a schema behind = %d:\n%s\nwant %d and the hint to run qscan migrate", code, out, exitConfig)
	}
	out, code = qscan(t, "migrate", "-c", cfg)
	if code != 0 || !strings.Contains(out, "was ") {
		t.Fatalf("qscan migrate = %d:\n%s", code, out)
	}
	if v, err := store.PathVersion(context.Background(), db); err != nil || v != store.SchemaVersion() {
		t.Errorf("version after migrate = %d, %v; want %d", v, err, store.SchemaVersion())
	}
	if out, code := qscan(t, "lint", "--no-engines", "-c", cfg); code != 0 {
		t.Errorf("lint after migrate = %d:\n%s", code, out)
	}
	if out, _ := qscan(t, "migrate", "-c", cfg); !strings.Contains(out, "up to date") {
		t.Errorf("qscan migrate again:\n%s\nwant 'up to date'", out)
	}
}

// TestSharedStoreConfig: driver and dsn are checked, and the dsn's
// password never shows in an error.
func TestSharedStoreConfig(t *testing.T) {
	_, cfg := demo(t, "")
	for _, tc := range []struct{ extra, want string }{
		{"[store]\ndriver = \"mysql\"\n", "store.driver"},
		{"[store]\ndriver = \"postgres\"\n", "store.dsn: needed"},
		{"[store]\ndriver = \"postgres\"\ndsn = \"postgres://q:pw@127.0.0.1:1/q?sslmode=disable&connect_timeout=1\"\npeer_key = \"short\"\n", "store.peer_key"},
		{"[web]\npeers = { mx2 = \"https://mx2:8025\" }\n", "web.peers: needs store.driver"},
	} {
		writeCfg(t, cfg, "[spam]\nengines = []\n"+tc.extra)
		text := string(mustRead(t, cfg))
		if strings.Contains(tc.extra, "[store]") { // one [store] section
			text = strings.Replace(text, "[store]\npath = \"work/qscan.db\"\n", "", 1)
			text = strings.Replace(text, "[store]\n", "[store]\npath = \"work/qscan.db\"\n", 1)
		}
		os.WriteFile(cfg, []byte(text), 0o600)
		out, code := qscan(t, "lint", "--no-engines", "-c", cfg)
		if code != exitConfig || !strings.Contains(out, tc.want) {
			t.Errorf("lint with %q = %d:\n%s\nwant %q", tc.extra, code, out, tc.want)
		}
		if strings.Contains(out, ":pw@") {
			t.Errorf("lint shows the dsn's password:\n%s", out)
		}
	}
}
