// Package auth hashes and verifies the web desk's passwords with argon2id,
// stored as PHC strings: $argon2id$v=19$m=65536,t=3,p=2$<salt>$<hash>
// (salt and hash in unpadded standard base64).
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// The parameters new hashes get (RFC 9106's second recommendation, with
// two lanes): 64 MiB, three passes.
const (
	Memory  = 64 * 1024 // KiB
	Time    = 3
	Threads = 2
	saltLen = 16
	keyLen  = 32
)

// Bounds of what a stored hash may ask for, so that a damaged or forged
// row cannot make a login take a gigabyte or an hour; and of a password.
const (
	maxMemory   = 1 << 20 // KiB (1 GiB)
	maxTime     = 64
	maxThreads  = 64
	maxKeyLen   = 256
	MaxPassword = 1024 // bytes
)

// Errors of Hash and Parse.
var (
	ErrEmpty    = errors.New("auth: empty password")
	ErrTooLong  = fmt.Errorf("auth: password longer than %d bytes", MaxPassword)
	ErrBadHash  = errors.New("auth: not an argon2id hash ($argon2id$v=19$m=...,t=...,p=...$salt$hash)")
	ErrBadParam = errors.New("auth: argon2id parameters out of bounds")
)

// Hash returns the PHC string of password with a fresh random salt.
func Hash(password string) (string, error) {
	if err := checkPassword(password); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, Time, Memory, Threads, keyLen)
	return encode(params{Memory, Time, Threads}, salt, key), nil
}

func checkPassword(p string) error {
	switch {
	case p == "":
		return ErrEmpty
	case len(p) > MaxPassword:
		return ErrTooLong
	}
	return nil
}

type params struct {
	memory  uint32
	time    uint32
	threads uint8
}

func encode(p params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Parse checks that hash is an argon2id PHC string within bounds.
func Parse(hash string) error {
	_, _, _, err := parse(hash)
	return err
}

func parse(hash string) (params, []byte, []byte, error) {
	var p params
	f := strings.Split(hash, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, nil, nil, ErrBadHash
	}
	var m, t, th uint64
	if n, err := fmt.Sscanf(f[3], "m=%d,t=%d,p=%d", &m, &t, &th); err != nil || n != 3 ||
		f[3] != fmt.Sprintf("m=%d,t=%d,p=%d", m, t, th) {
		return p, nil, nil, ErrBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(f[4])
	key, err2 := b64.DecodeString(f[5])
	if err1 != nil || err2 != nil || len(salt) == 0 || len(key) == 0 {
		return p, nil, nil, ErrBadHash
	}
	if m < 8*th || m > maxMemory || t < 1 || t > maxTime || th < 1 || th > maxThreads || len(key) > maxKeyLen || len(salt) > maxKeyLen {
		return p, nil, nil, ErrBadParam
	}
	return params{uint32(m), uint32(t), uint8(th)}, salt, key, nil
}

// Verify reports whether password is the one hash was made from. A
// malformed hash or password verifies nothing.
func Verify(hash, password string) bool {
	p, salt, key, err := parse(hash)
	if err != nil || checkPassword(password) != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

var dummy = sync.OnceValue(func() string {
	h, _ := Hash("qscan: a password nobody has")
	return h
})

// Dummy spends the time of a Verify and returns false: call it for a
// login whose user does not exist, so that the answer's time does not
// tell which user names do.
func Dummy(password string) bool {
	Verify(dummy(), password)
	return false
}
