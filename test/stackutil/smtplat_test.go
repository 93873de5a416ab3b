package stackutil

import "testing"

// TestQueueIDFrom: the queue ID in the answers to DATA of sendmail,
// Postfix and Exim; none in an answer without one.
func TestQueueIDFrom(t *testing.T) {
	for text, want := range map[string]string{
		"2.0.0 6B7GTRaS012345 Message accepted for delivery": "6B7GTRaS012345",
		"2.0.0 Ok: queued as 7FDAB986136":                    "7FDAB986136",
		"2.0.0 Ok: queued as 4dQ3Zw1Xk2z9tS4":                "4dQ3Zw1Xk2z9tS4",
		"OK id=1xabQs-0000Jf-1a":                             "1xabQs-0000Jf-1a",
		"2.0.0 Ok":                                           "",
		"queued as":                                          "",
	} {
		if got := queueIDFrom(text); got != want {
			t.Errorf("queueIDFrom(%q) = %q, want %q", text, got, want)
		}
	}
}
