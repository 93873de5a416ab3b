package auth

import (
	"errors"
	"strings"
	"testing"
)

// refHash is the reference implementation's hash of "password" with the
// salt "somesalt" (Debian's argon2: argon2 somesalt -id -t 2 -m 16 -p 4 -l 32 -e).
const refHash = "$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo"

func TestVerifyReference(t *testing.T) {
	if !Verify(refHash, "password") {
		t.Errorf("Verify(reference hash, right password) = false")
	}
	if Verify(refHash, "Password") {
		t.Errorf("Verify(reference hash, wrong password) = true")
	}
}

func TestHashVerify(t *testing.T) {
	h1, err := Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := Hash("correct horse")
	if h1 == h2 {
		t.Errorf("two hashes of one password are equal (%s): the salt is not random", h1)
	}
	if !strings.HasPrefix(h1, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Errorf("Hash = %s, want the PHC string with m=65536,t=3,p=2", h1)
	}
	if err := Parse(h1); err != nil {
		t.Errorf("Parse(Hash()) = %v", err)
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{{"correct horse", true}, {"correct horse ", false}, {"", false}, {strings.Repeat("x", MaxPassword+1), false}} {
		if got := Verify(h1, tc.pw); got != tc.want {
			t.Errorf("Verify(h, %.20q) = %v, want %v", tc.pw, got, tc.want)
		}
	}
	if Dummy("correct horse") {
		t.Error("Dummy = true")
	}
}

func TestPasswordBounds(t *testing.T) {
	if _, err := Hash(""); !errors.Is(err, ErrEmpty) {
		t.Errorf("Hash(\"\") = %v, want ErrEmpty", err)
	}
	if _, err := Hash(strings.Repeat("x", MaxPassword)); err != nil {
		t.Errorf("Hash(%d bytes) = %v", MaxPassword, err)
	}
	if _, err := Hash(strings.Repeat("x", MaxPassword+1)); !errors.Is(err, ErrTooLong) {
		t.Errorf("Hash(%d bytes) = %v, want ErrTooLong", MaxPassword+1, err)
	}
}

func TestParseBad(t *testing.T) {
	for _, h := range []string{
		"", "password", "$2a$10$abcdefghijklmnopqrstuu",
		"$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo",
		"$argon2id$v=16$m=65536,t=2,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo",
		"$argon2id$v=19$m=65536,t=2$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo",
		"$argon2id$v=19$m=65536,t=2,p=4,x=1$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo",
		"$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$!!!",
		"$argon2id$v=19$m=65536,t=2,p=4$$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo",
	} {
		if err := Parse(h); !errors.Is(err, ErrBadHash) {
			t.Errorf("Parse(%q) = %v, want ErrBadHash", h, err)
		}
		if Verify(h, "password") {
			t.Errorf("Verify(%q) = true", h)
		}
	}
	// Parameters a forged row might use to make logins expensive.
	for _, m := range []string{"m=2097152,t=2,p=4", "m=65536,t=1000,p=4", "m=65536,t=2,p=200", "m=65536,t=0,p=4", "m=8,t=2,p=4"} {
		h := "$argon2id$v=19$" + m + "$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo"
		if err := Parse(h); !errors.Is(err, ErrBadParam) {
			t.Errorf("Parse(%s) = %v, want ErrBadParam", m, err)
		}
	}
	// Just inside the bounds.
	if err := Parse("$argon2id$v=19$m=1048576,t=64,p=64$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo"); err != nil {
		t.Errorf("Parse(largest parameters) = %v", err)
	}
}

// FuzzParse: no hash string makes Parse or Verify panic.
func FuzzParse(f *testing.F) {
	f.Add(refHash)
	f.Add("$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$GpZ3")
	f.Fuzz(func(t *testing.T, h string) {
		if Parse(h) == nil && len(h) < 200 {
			// Bounded by Parse; keep the fuzzer fast on small parameters only.
			if p, _, _, _ := parse(h); p.memory <= 1024 && p.time <= 2 {
				Verify(h, "password")
			}
		}
	})
}
