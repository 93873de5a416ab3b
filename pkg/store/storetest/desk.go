// Package storetest is the test suite every implementation of qscan's
// store (SQLite, PostgreSQL) passes: the message log, users, lists, the
// audit log, digest-link tokens and schema versions.
package storetest

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qscan/qscan/pkg/store"
)

// The desk's tables: users, white and black lists, the audit log, tokens.

func testUsers(t *testing.T, s Store) {
	a := store.User{Name: "root", Role: store.RoleAdmin, Hash: "h1", Created: T0}
	d := store.User{Name: "dom", Role: store.RoleDomain, Domains: []string{"example.org"}, Hash: "h2", Created: T0}
	u := store.User{Name: "bob", Role: store.RoleUser, Addresses: []string{"bob@example.org", "b@example.org"}, Hash: "h3", Created: T0}
	for _, x := range []store.User{a, d, u} {
		if err := s.AddUser(ctx(), x); err != nil {
			t.Fatalf("AddUser(%s): %v", x.Name, err)
		}
	}
	if err := s.AddUser(ctx(), a); !errors.Is(err, store.ErrExists) {
		t.Errorf("AddUser(existing) = %v, want ErrExists", err)
	}
	for _, bad := range []store.User{{Name: "", Role: store.RoleAdmin}, {Name: "x", Role: "root"}, {Name: "a b", Role: store.RoleUser},
		{Name: strings.Repeat("n", store.MaxUserName+1), Role: store.RoleUser}} {
		if err := s.AddUser(ctx(), bad); err == nil {
			t.Errorf("AddUser(%+v) = nil, want an error", bad)
		}
	}
	if err := s.AddUser(ctx(), store.User{Name: strings.Repeat("n", store.MaxUserName), Role: store.RoleUser}); err != nil {
		t.Errorf("AddUser(name of %d): %v", store.MaxUserName, err)
	}
	got, err := s.User(ctx(), "bob")
	if err != nil {
		t.Fatal(err)
	}
	if got.Created.Unix() != T0.Unix() {
		t.Errorf("Created = %v, want %v", got.Created, T0)
	}
	got.Created = T0
	if !reflect.DeepEqual(got, u) {
		t.Errorf("User(bob) = %+v, want %+v", got, u)
	}
	if err := s.SetPassword(ctx(), "bob", "h4"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.User(ctx(), "bob"); got.Hash != "h4" {
		t.Errorf("hash after SetPassword = %q, want h4", got.Hash)
	}
	if err := s.DeleteUser(ctx(), "dom"); err != nil {
		t.Fatal(err)
	}
	all, err := s.Users(ctx())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, x := range all {
		names = append(names, x.Name)
	}
	if want := []string{"bob", strings.Repeat("n", store.MaxUserName), "root"}; !slices.Equal(names, want) {
		t.Errorf("Users = %v, want %v", names, want)
	}
	for name, err := range map[string]error{
		"User":        func() error { _, err := s.User(ctx(), "dom"); return err }(),
		"DeleteUser":  s.DeleteUser(ctx(), "dom"),
		"SetPassword": s.SetPassword(ctx(), "nobody", "h"),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s of an absent user = %v, want ErrNotFound", name, err)
		}
	}
}

func testLists(t *testing.T, s Store) {
	for _, e := range []store.ListEntry{
		{List: store.Whitelist, Pattern: " Friend@Example.org ", By: "root", Added: T0},
		{List: store.Whitelist, Pattern: "friend@example.org", By: "other", Added: T0}, // again: no change
		{List: store.Whitelist, Pattern: "@partner.test", By: "root", Added: T0},
		{List: store.Blacklist, Pattern: "spam.test", By: "root", Added: T0},
	} {
		if err := s.AddListEntry(ctx(), e); err != nil {
			t.Fatalf("AddListEntry(%+v): %v", e, err)
		}
	}
	for _, bad := range []store.ListEntry{{List: "greylist", Pattern: "x"}, {List: store.Whitelist, Pattern: " "}, {List: store.Whitelist, Pattern: "a b"}} {
		if err := s.AddListEntry(ctx(), bad); err == nil {
			t.Errorf("AddListEntry(%+v) = nil, want an error", bad)
		}
	}
	got, err := s.ListEntries(ctx(), store.Whitelist)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.ListEntry{{List: store.Whitelist, Pattern: "@partner.test", By: "root"}, {List: store.Whitelist, Pattern: "friend@example.org", By: "root"}}
	for i := range got {
		if !got[i].Added.Equal(T0) {
			t.Errorf("entry %d added %v, want %v", i, got[i].Added, T0)
		}
		got[i].Added = time.Time{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ListEntries(whitelist) = %+v, want %+v", got, want)
	}
	if err := s.DeleteListEntry(ctx(), store.Whitelist, "FRIEND@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteListEntry(ctx(), store.Whitelist, "friend@example.org"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteListEntry(absent) = %v, want ErrNotFound", err)
	}
	if got, _ := s.ListEntries(ctx(), store.Blacklist); len(got) != 1 || got[0].Pattern != "spam.test" {
		t.Errorf("ListEntries(blacklist) = %+v, want spam.test", got)
	}
}

func testAudit(t *testing.T, s Store) {
	for i, a := range []string{"login", "release", "whitelist"} {
		e := store.AuditEntry{Time: T0.Add(time.Duration(i) * time.Second), User: "root", Action: a, Target: "20310304/X", Host: "mx1"}
		if err := s.AddAudit(ctx(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddAudit(ctx(), store.AuditEntry{Action: "x"}); err == nil {
		t.Error("AddAudit without a user = nil, want an error")
	}
	got, err := s.Audit(ctx(), 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Action != "whitelist" || got[1].Action != "release" || !got[0].Time.Equal(T0.Add(2*time.Second)) ||
		got[0].Target != "20310304/X" || got[0].Host != "mx1" {
		t.Errorf("Audit(2) = %+v, want whitelist then release", got)
	}
}

func testToken(t *testing.T, s Store) {
	for i, want := range []bool{true, false, false} {
		first, err := s.UseToken(ctx(), "link-1", T0.Add(time.Hour))
		if err != nil || first != want {
			t.Errorf("UseToken #%d = %v, %v; want %v", i+1, first, err, want)
		}
	}
	if first, err := s.UseToken(ctx(), "link-2", T0.Add(time.Hour)); err != nil || !first {
		t.Errorf("UseToken(another) = %v, %v; want true", first, err)
	}
	// Purged once expired: by then the link is refused for its expiry.
	if _, err := s.PurgeLog(ctx(), T0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if first, err := s.UseToken(ctx(), "link-1", T0.Add(3*time.Hour)); err != nil || !first {
		t.Errorf("UseToken after the purge = %v, %v; want true", first, err)
	}
}
