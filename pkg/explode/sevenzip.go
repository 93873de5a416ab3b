package explode

import (
	"errors"
	"io"

	"github.com/bodgit/sevenzip"
)

// errNoPassword is what every AES-encrypted 7z coder returns.
var errNoPassword = errors.New("explode 7z: AES-encrypted, no password available")

// init replaces the AES coder of the 7z reader. qscan never knows a
// password, and the stock coder derives its key with 2^n SHA-256 rounds
// where the archive chooses n up to 62: one crafted 7z would hang the
// scanner. The replacement fails at once, which the archive code reads as
// "password-protected". This is the only process-wide setting this
// package makes; it is done once and never changed.
func init() {
	sevenzip.RegisterDecompressor([]byte{0x06, 0xf1, 0x07, 0x01},
		func([]byte, uint64, []io.ReadCloser) (io.ReadCloser, error) { return nil, errNoPassword })
}
