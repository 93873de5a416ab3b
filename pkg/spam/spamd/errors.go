package spamd

import (
	"errors"
	"fmt"
)

// Sentinel errors. Wrapped errors carry the operation and the address.
var (
	// ErrMalformed means spamd's answer did not follow the protocol, or the
	// connection closed in the middle of it.
	ErrMalformed = errors.New("spamd: malformed response")
	// ErrTooLarge means spamd's answer exceeded Options.MaxResponse.
	ErrTooLarge = errors.New("spamd: response too large")
	// ErrBusy means no connection slot came free before the context ended.
	ErrBusy = errors.New("spamd: all connections busy")
)

// sysexits codes that spamd uses in its status line.
const (
	ExOK          = 0
	ExUsage       = 64
	ExDataErr     = 65
	ExNoInput     = 66
	ExNoUser      = 67
	ExNoHost      = 68
	ExUnavailable = 69
	ExSoftware    = 70
	ExOSErr       = 71
	ExOSFile      = 72
	ExCantCreat   = 73
	ExIOErr       = 74
	ExTempFail    = 75
	ExProtocol    = 76
	ExNoPerm      = 77
	ExConfig      = 78
	ExTimeout     = 79
)

var exitNames = map[int]string{
	ExOK: "EX_OK", ExUsage: "EX_USAGE", ExDataErr: "EX_DATAERR", ExNoInput: "EX_NOINPUT",
	ExNoUser: "EX_NOUSER", ExNoHost: "EX_NOHOST", ExUnavailable: "EX_UNAVAILABLE",
	ExSoftware: "EX_SOFTWARE", ExOSErr: "EX_OSERR", ExOSFile: "EX_OSFILE",
	ExCantCreat: "EX_CANTCREAT", ExIOErr: "EX_IOERR", ExTempFail: "EX_TEMPFAIL",
	ExProtocol: "EX_PROTOCOL", ExNoPerm: "EX_NOPERM", ExConfig: "EX_CONFIG", ExTimeout: "EX_TIMEOUT",
}

// ExitError is a non-zero code in spamd's status line
// ("SPAMD/1.0 76 Bad header line: ...").
type ExitError struct {
	Code    int
	Message string
}

func (e *ExitError) Error() string {
	name := exitNames[e.Code]
	if name == "" {
		name = "EX_UNKNOWN"
	}
	return fmt.Sprintf("spamd answered %s (%d): %s", name, e.Code, e.Message)
}

// Permanent reports whether sending the same request again cannot succeed:
// spamd rejected the request itself (bad protocol, bad data, unknown user,
// no permission). Every other code (EX_TEMPFAIL, EX_UNAVAILABLE,
// EX_TIMEOUT, EX_IOERR, unknown codes ...) is transient.
func (e *ExitError) Permanent() bool {
	switch e.Code {
	case ExUsage, ExDataErr, ExNoInput, ExNoUser, ExProtocol, ExNoPerm:
		return true
	}
	return false
}

// IsPermanent reports whether err is classified permanent: retrying the same
// message against the same spamd will fail the same way. Anything not
// known to be permanent (timeouts, refused connections, malformed answers)
// is transient, so that a message is retried rather than passed unscanned.
func IsPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}
