package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestSpamListDefinitions: names in ip_lists and domain_lists are looked
// up in a spam.lists.conf file and become block lists; an unknown name
// is an error.
func TestSpamListDefinitions(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"in", "out"} {
		os.Mkdir(filepath.Join(dir, d), 0o700)
	}
	os.WriteFile(filepath.Join(dir, "spam.lists.conf"), []byte("# MailScanner's file\nSPAMHAUS\tzen.spamhaus.org.\nDBL  dbl.spamhaus.org # domains\n"), 0o600)
	base := "[queue]\nincoming = \"in\"\noutgoing = \"out\"\nwork_dir = \"w\"\n[quarantine]\ndir = \"quar\"\n[store]\npath = \"w/db\"\n" +
		"[spam]\nengines = [\"dnsbl\"]\n[spam.dnsbl]\ndefinitions = \"spam.lists.conf\"\n"
	file := filepath.Join(dir, "q.toml")
	os.WriteFile(file, []byte(base+"ip_lists = [\"spamhaus\"]\ndomain_lists = [\"DBL\"]\n"), 0o600)
	c, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	want := []BLEntry{{Name: "spamhaus", Zone: "zen.spamhaus.org", Kind: "ip"}, {Name: "DBL", Zone: "dbl.spamhaus.org", Kind: "domain"}}
	if !reflect.DeepEqual(c.Spam.DNSBL.Lists, want) {
		t.Errorf("lists = %+v, want %+v", c.Spam.DNSBL.Lists, want)
	}
	os.WriteFile(file, []byte(base+"ip_lists = [\"NOSUCH\"]\n"), 0o600)
	if _, err := Load(file); err == nil || !strings.Contains(err.Error(), `"NOSUCH" is not defined`) {
		t.Errorf("unknown list name: %v", err)
	}
}
