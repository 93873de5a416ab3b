package spool

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/qscan/qscan/pkg/safeio"
)

// IDSource makes fresh message IDs; *sendmail.IDGen is one (its IDs look
// like the rest of qscan's log). Publish never overwrites: a taken ID is
// skipped.
type IDSource interface {
	Next() string
}

// MaxIDTries bounds the search of Publish for a free ID.
const MaxIDTries = 100

// Publish commits one message: the message bytes from data (header and
// body, LF line ends, no dot-stuffing) are written to a temporary file and
// fsynced, the envelope likewise, then the message file is linked to its
// name mf<ID>, the directory fsynced, the envelope linked to ef<ID> (the
// commit marker; a link never replaces a file) and the directory fsynced
// again. When Publish returns nil the message is durable and listed; on an
// error nothing of it is listed (a crash in between leaves at most a
// message file without envelope or temporary files, which Clean removes).
// It returns the ID and the bytes read from data. An error from data (size
// limit, timeout) is returned wrapped, unchanged for errors.Is/As.
func (s Spool) Publish(gen IDSource, env *Envelope, data io.Reader) (string, int64, error) {
	envBytes, err := env.Bytes()
	if err != nil {
		return "", 0, fmt.Errorf("spool envelope: %w", err)
	}
	tmpData, n, err := s.temp("m", data)
	if err != nil {
		return "", n, err
	}
	defer os.Remove(tmpData)
	tmpEnv, _, err := s.temp("e", bytes.NewReader(envBytes))
	if err != nil {
		return "", n, err
	}
	defer os.Remove(tmpEnv)
	for range MaxIDTries {
		id := gen.Next()
		if !ValidID(id) {
			return "", n, fmt.Errorf("publish in spool %s: invalid id %q from the generator", s.Dir, id)
		}
		if s.Taken(id) {
			continue
		}
		if err := os.Link(tmpData, s.DataPath(id)); err != nil {
			if errors.Is(err, os.ErrExist) {
				continue
			}
			return "", n, fmt.Errorf("publish %s: %w", s.DataPath(id), err)
		}
		// The message file's name must be durable before the envelope
		// names it.
		if err := safeio.SyncDir(s.Dir); err != nil {
			os.Remove(s.DataPath(id))
			return "", n, err
		}
		if err := os.Link(tmpEnv, s.EnvPath(id)); err != nil {
			os.Remove(s.DataPath(id))
			if errors.Is(err, os.ErrExist) {
				continue
			}
			return "", n, fmt.Errorf("publish %s: %w", s.EnvPath(id), err)
		}
		os.Remove(tmpEnv)
		os.Remove(tmpData)
		if err := safeio.SyncDir(s.Dir); err != nil {
			// Not known to be durable: take it back so the sender retries.
			os.Remove(s.EnvPath(id))
			os.Remove(s.DataPath(id))
			return "", n, err
		}
		return id, n, nil
	}
	return "", n, fmt.Errorf("no free id in spool %s after %d tries", s.Dir, MaxIDTries)
}

// temp writes r to a new, fsynced temporary file (safeio.TempPrefix, so
// Clean and safeio.RemoveTemps know it) and returns its path.
func (s Spool) temp(kind string, r io.Reader) (string, int64, error) {
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", 0, fmt.Errorf("spool temp name: %w", err)
	}
	p := filepath.Join(s.Dir, safeio.TempPrefix+kind+hex.EncodeToString(rnd[:]))
	n, err := safeio.CreateNew(p, r, 0o600)
	if err != nil {
		return "", n, err
	}
	return p, n, nil
}
