package rspamd

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// StatusError is a non-200 HTTP answer from rspamd.
type StatusError struct {
	Code    int
	Message string // rspamd's "error" field, or the start of the body
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("rspamd answered HTTP %d: %s", e.Code, e.Message)
}

// Permanent reports whether rspamd refused the message itself: a bad
// request (400), a message too large (413) or of an unsupported form (415,
// 422). Server errors, overload (429, 503), authentication trouble and
// unknown codes are transient.
func (e *StatusError) Permanent() bool {
	switch e.Code {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
		return true
	}
	return false
}

func statusError(code int, body []byte) error {
	msg := string(body)
	var w wireResult
	if json.Unmarshal(body, &w) == nil && w.Error != "" {
		msg = w.Error
	}
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return &StatusError{Code: code, Message: fmt.Sprintf("%q", msg)}
}

// IsPermanent reports whether err is classified permanent: retrying the same
// message against the same rspamd will fail the same way. Anything not
// known to be permanent (timeouts, refused connections, malformed answers)
// is transient, so that a message is retried rather than passed unscanned.
func IsPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}
