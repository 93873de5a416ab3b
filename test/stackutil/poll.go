package stackutil

import "time"

// Poll calls done every 50 ms until it reports true (Poll returns nil) or
// an error (returned as it is), or timeout passes (an error saying so).
func Poll(timeout time.Duration, done func() (bool, error)) error {
	return poll(timeout, done)
}
