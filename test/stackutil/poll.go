package stackutil

import "time"

// Poll calls done every 50 ms until it reports true (Poll returns nil) or
// an error (returned as it is), or timeout passes (an error saying so).
func Poll(timeout time.Duration, done func() (bool, error)) error {
	return poll(timeout, done)
}

// WaitUntil calls cond every 50 ms until it holds (WaitUntil returns true)
// or timeout passes (false); cond is asked once more at the end.
func WaitUntil(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pollEvery)
	}
}
