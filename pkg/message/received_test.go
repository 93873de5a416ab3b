package message

import "testing"

func TestReceivedIP(t *testing.T) {
	h := []byte("Received: from relay.example.net (relay.example.net [192.0.2.7])\n\tby mx.example.com with ESMTP id X\n" +
		"Received: from client (unknown [IPv6:2001:db8::5]) by relay\nReceived: from host 198.51.100.9 by x\nSubject: hi\n")
	for _, tc := range []struct {
		n    int
		want string
	}{{1, "192.0.2.7"}, {2, "2001:db8::5"}, {3, "198.51.100.9"}} {
		a, ok := ReceivedIP(h, tc.n)
		if !ok || a.String() != tc.want {
			t.Errorf("ReceivedIP(%d) = %v %v, want %s", tc.n, a, ok, tc.want)
		}
	}
	for _, n := range []int{0, 4} {
		if a, ok := ReceivedIP(h, n); ok {
			t.Errorf("ReceivedIP(%d) = %v, want none", n, a)
		}
	}
}
