package web

import (
	"strings"

	"github.com/qscan/qscan/pkg/store"
)

// scopeOf is what a user may see: nil for an administrator (everything).
// A domain administrator sees messages to or from their domains, a user
// messages to their own addresses; a user with neither sees nothing.
func scopeOf(u store.User) *store.Scope {
	switch u.Role {
	case store.RoleAdmin:
		return nil
	case store.RoleDomain:
		return &store.Scope{Domains: lowerAll(u.Domains)}
	default:
		return &store.Scope{Addresses: lowerAll(u.Addresses)}
	}
}

func lowerAll(l []string) []string {
	out := make([]string, 0, len(l))
	for _, s := range l {
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// bare is an address without angle brackets, in lower case.
func bare(a string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(a), "<"), ">"))
}

func domainOf(a string) string {
	a = bare(a)
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		return strings.TrimSuffix(a[i+1:], ".")
	}
	return ""
}

// visible reports whether u may see rec: the check every message handler
// makes on the row it read, with the store's Scope semantics (a domain
// administrator: a recipient or the sender in one of the domains; a user:
// a recipient that is one of the addresses).
func visible(u store.User, rec store.LogRecord) bool {
	sc := scopeOf(u)
	if sc == nil {
		return true
	}
	for _, d := range sc.Domains {
		if domainOf(rec.Sender) == d {
			return true
		}
		for _, r := range rec.Recipients {
			if domainOf(r) == d {
				return true
			}
		}
	}
	for _, a := range sc.Addresses {
		for _, r := range rec.Recipients {
			if bare(r) == a {
				return true
			}
		}
	}
	return false
}

// ownRecipients are the recipients of rec that are u's addresses (what a
// user may release to).
func ownRecipients(u store.User, rec store.LogRecord) []string {
	var out []string
	for _, a := range lowerAll(u.Addresses) {
		for _, r := range rec.Recipients {
			if bare(r) == a {
				out = append(out, bare(r))
				break
			}
		}
	}
	return out
}
