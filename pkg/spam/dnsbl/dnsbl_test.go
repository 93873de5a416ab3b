package dnsbl

import (
	"context"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// testDNS is a tiny authoritative server on 127.0.0.1 for the test zones:
// names in records answer A records, names under "slow.test." never
// answer, names under "fail.test." answer SERVFAIL, anything else is
// NXDOMAIN.
type testDNS struct {
	records map[string][]string
	queries atomic.Int64
	mu      sync.Mutex
	asked   []string
}

func startDNS(t *testing.T, records map[string][]string) (*testDNS, *net.Resolver) {
	t.Helper()
	d := &testDNS{records: records}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: d}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	addr := pc.LocalAddr().String()
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "udp", addr)
	}}
	return d, r
}

func (d *testDNS) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	d.queries.Add(1)
	q := req.Question[0]
	d.mu.Lock()
	d.asked = append(d.asked, q.Name)
	d.mu.Unlock()
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	switch {
	case strings.HasSuffix(q.Name, ".slow.test."):
		return // never answer
	case strings.HasSuffix(q.Name, ".fail.test."):
		m.Rcode = dns.RcodeServerFailure
	default:
		ips, ok := d.records[q.Name]
		if !ok {
			m.Rcode = dns.RcodeNameError
		}
		if q.Qtype == dns.TypeA {
			for _, ip := range ips {
				m.Answer = append(m.Answer, &dns.A{
					Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
					A:   net.ParseIP(ip),
				})
			}
		}
	}
	w.WriteMsg(m)
}

func (d *testDNS) names() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.asked...)
}

var testRecords = map[string][]string{
	"2.0.0.127.bl.test.":   {"127.0.0.2"},
	"99.2.0.192.bl.test.":  {"127.0.0.4", "127.0.0.10"},
	"98.2.0.192.bl.test.":  {"127.255.255.254"}, // "query refused", not a listing
	"97.2.0.192.bl.test.":  {"10.0.0.1"},
	"99.2.0.192.bl2.test.": {"127.0.0.3"},
	"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test.": {"127.0.0.2"},
	"spammer.example.dbl.test.": {"127.0.1.2"},
}

func newChecker(t *testing.T, o Options, r Resolver) *Checker {
	t.Helper()
	c, err := New(o, r)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustExpect(t *testing.T, v ...string) []netip.Prefix {
	t.Helper()
	p, err := ParseExpect(v)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheck(t *testing.T) {
	_, r := startDNS(t, testRecords)
	lists := []List{
		{Name: "BL", Zone: "bl.test", Kind: KindIP},
		{Name: "BL2", Zone: "BL2.test.", Kind: KindIP, Expect: mustExpect(t, "127.0.0.2")},
		{Name: "DBL", Zone: "dbl.test", Kind: KindDomain, Expect: mustExpect(t, "127.0.1.0/24")},
	}
	c := newChecker(t, Options{Lists: lists, Timeout: 2 * time.Second}, r)
	tests := []struct {
		name   string
		q      Query
		listed []string
		answer string // first answer of the first hit
	}{
		{"ipv4 listed", Query{IP: netip.MustParseAddr("192.0.2.99")}, []string{"BL"}, "127.0.0.4"},
		{"ipv4 mapped", Query{IP: netip.MustParseAddr("::ffff:192.0.2.99")}, []string{"BL"}, "127.0.0.4"},
		{"test entry", Query{IP: netip.MustParseAddr("127.0.0.2")}, nil, ""}, // loopback: skipped
		{"ipv4 clean", Query{IP: netip.MustParseAddr("192.0.2.1")}, nil, ""},
		{"error code is no listing", Query{IP: netip.MustParseAddr("192.0.2.98")}, nil, ""},
		{"answer outside 127/8", Query{IP: netip.MustParseAddr("192.0.2.97")}, nil, ""},
		{"ipv6 listed", Query{IP: netip.MustParseAddr("2001:db8::1")}, []string{"BL"}, "127.0.0.2"},
		{"domain listed", Query{IP: netip.MustParseAddr("192.0.2.1"), Sender: "<x@Spammer.Example>"}, []string{"DBL"}, "127.0.1.2"},
		{"both", Query{IP: netip.MustParseAddr("192.0.2.99"), Sender: "x@spammer.example"}, []string{"BL", "DBL"}, "127.0.0.4"},
		{"null sender", Query{IP: netip.MustParseAddr("192.0.2.1"), Sender: ""}, nil, ""},
	}
	for _, tt := range tests {
		res := c.Check(context.Background(), tt.q)
		if got := res.Listed(); !reflect.DeepEqual(got, tt.listed) && !(len(got) == 0 && len(tt.listed) == 0) {
			t.Errorf("%s: Check(%+v) listed %q, want %q (result %+v)", tt.name, tt.q, got, tt.listed, res)
		}
		if tt.answer != "" && (len(res.Hits) == 0 || res.Hits[0].Answers[0].String() != tt.answer) {
			t.Errorf("%s: hits %+v, want first answer %s", tt.name, res.Hits, tt.answer)
		}
		if len(res.TimedOut)+len(res.Errors) != 0 {
			t.Errorf("%s: timeouts %q errors %v, want none", tt.name, res.TimedOut, res.Errors)
		}
	}
}

func TestSkips(t *testing.T) {
	d, r := startDNS(t, testRecords)
	lists := []List{{Name: "BL", Zone: "bl.test", Kind: KindIP}, {Name: "DBL", Zone: "dbl.test", Kind: KindDomain}}
	c := newChecker(t, Options{Lists: lists, SkipAuthenticated: true}, r)
	tests := []struct {
		q    Query
		why  string
		asks int
	}{
		{Query{IP: netip.MustParseAddr("10.1.2.3")}, "private address", 0},
		{Query{IP: netip.MustParseAddr("192.168.1.1")}, "private address", 0},
		{Query{IP: netip.MustParseAddr("100.64.0.1")}, "private address", 0},
		{Query{IP: netip.MustParseAddr("fd00::1")}, "private address", 0},
		{Query{IP: netip.MustParseAddr("127.0.0.1")}, "loopback address", 0},
		{Query{IP: netip.MustParseAddr("::1")}, "loopback address", 0},
		{Query{IP: netip.MustParseAddr("169.254.1.1")}, "link-local address", 0},
		{Query{IP: netip.MustParseAddr("fe80::1")}, "link-local address", 0},
		{Query{IP: netip.MustParseAddr("0.0.0.0")}, "unroutable address", 0},
		{Query{}, "no client address", 0},
		{Query{IP: netip.MustParseAddr("192.0.2.99"), Authenticated: true, Sender: "a@spammer.example"}, "authenticated sender", 0},
		{Query{Sender: "a@bad domain.example"}, "no client address", 0},
		{Query{Sender: "a@" + strings.Repeat("x", 64) + ".example"}, "no client address", 0},
		{Query{Sender: "a@localhost"}, "no client address", 0},
		{Query{Sender: "a@bücher.example"}, "no client address", 1},
	}
	for _, tt := range tests {
		before := len(d.names())
		res := c.Check(context.Background(), tt.q)
		if res.Skipped != tt.why || len(res.Hits) != 0 {
			t.Errorf("Check(%+v) = %+v, want skipped %q, no hits", tt.q, res, tt.why)
		}
		if asked := d.names()[before:]; len(asked) != tt.asks {
			t.Errorf("Check(%+v) asked %q, want %d queries", tt.q, asked, tt.asks)
		}
	}
	if got := d.names(); len(got) != 1 || got[0] != "xn--bcher-kva.example.dbl.test." {
		t.Errorf("queries = %q, want the punycode domain", got)
	}
}

func TestTimeoutsPauseList(t *testing.T) {
	_, r := startDNS(t, testRecords)
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	var events []string
	lists := []List{
		{Name: "SLOW", Zone: "slow.test", Kind: KindIP, Timeout: 30 * time.Millisecond},
		{Name: "BL", Zone: "bl.test", Kind: KindIP},
		{Name: "FAIL", Zone: "fail.test", Kind: KindIP},
	}
	c := newChecker(t, Options{
		Lists: lists, Timeout: time.Second, MaxTimeouts: 2, Pause: 10 * time.Minute,
		Now: func() time.Time { return now },
		OnPause: func(l string, p bool, _ time.Time) {
			events = append(events, l+map[bool]string{true: " paused", false: " resumed"}[p])
		},
	}, r)
	q := Query{IP: netip.MustParseAddr("192.0.2.99")}
	for i := range 2 {
		res := c.Check(context.Background(), q)
		if !reflect.DeepEqual(res.TimedOut, []string{"SLOW"}) || !reflect.DeepEqual(res.Listed(), []string{"BL"}) || len(res.Errors) != 1 {
			t.Fatalf("Check #%d = %+v, want SLOW timed out, BL hit, FAIL error", i, res)
		}
	}
	if _, ok := c.Paused()["SLOW"]; !ok || !reflect.DeepEqual(events, []string{"SLOW paused"}) {
		t.Fatalf("after 2 timeouts: paused %v, events %q; want SLOW paused", c.Paused(), events)
	}
	res := c.Check(context.Background(), q)
	if !reflect.DeepEqual(res.Paused, []string{"SLOW"}) || len(res.TimedOut) != 0 {
		t.Errorf("Check while paused = %+v, want SLOW paused, not asked", res)
	}
	now = now.Add(10 * time.Minute)
	res = c.Check(context.Background(), q)
	if len(res.Paused) != 0 || !reflect.DeepEqual(res.TimedOut, []string{"SLOW"}) {
		t.Errorf("Check after the pause = %+v, want SLOW asked again", res)
	}
	if !reflect.DeepEqual(events, []string{"SLOW paused", "SLOW resumed"}) {
		t.Errorf("events = %q", events)
	}
}

func TestOverallTimeout(t *testing.T) {
	_, r := startDNS(t, testRecords)
	lists := []List{{Name: "SLOW", Zone: "slow.test", Kind: KindIP}, {Name: "SLOW2", Zone: "x.slow.test", Kind: KindIP}}
	c := newChecker(t, Options{Lists: lists, Timeout: 100 * time.Millisecond}, r)
	start := time.Now()
	res := c.Check(context.Background(), Query{IP: netip.MustParseAddr("192.0.2.99")})
	if len(res.TimedOut) != 2 {
		t.Errorf("Check = %+v, want both lists timed out", res)
	}
	// Not a timing assertion on speed, only that the bound holds at all.
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Check took %v with a 100ms timeout", d)
	}
}

func TestReverseIP(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.2.3.4", "4.3.2.1"},
		{"::ffff:1.2.3.4", "4.3.2.1"},
		{"2001:db8::567:89ab", "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"},
	}
	for _, tt := range tests {
		if got := reverseIP(netip.MustParseAddr(tt.in)); got != tt.want {
			t.Errorf("reverseIP(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestListed(t *testing.T) {
	def := List{}
	exp := List{Expect: mustExpect(t, "127.0.0.2", "127.0.1.0/24")}
	tests := []struct {
		l    *List
		a    string
		want bool
	}{
		{&def, "127.0.0.2", true},
		{&def, "127.0.0.11", true},
		{&def, "127.0.0.1", false},
		{&def, "127.255.255.254", false},
		{&def, "10.0.0.2", false},
		{&exp, "127.0.0.2", true},
		{&exp, "127.0.0.3", false},
		{&exp, "127.0.1.200", true},
	}
	for _, tt := range tests {
		if got := tt.l.listed(netip.MustParseAddr(tt.a)); got != tt.want {
			t.Errorf("listed(%v, %s) = %v, want %v", tt.l.Expect, tt.a, got, tt.want)
		}
	}
}

func TestNewValidates(t *testing.T) {
	bad := []List{
		{Name: "", Zone: "bl.test", Kind: KindIP},
		{Name: "A B", Zone: "bl.test", Kind: KindIP},
		{Name: "X", Zone: "not a zone", Kind: KindIP},
		{Name: "Y", Zone: "bl.test", Kind: "url"},
		{Name: "Z", Zone: "bl.test", Kind: KindIP, Timeout: -1},
	}
	_, err := New(Options{Lists: bad}, net.DefaultResolver)
	if err == nil {
		t.Fatal("New with bad lists succeeded")
	}
	for _, want := range []string{`list ""`, `list "A B"`, `zone "not a zone"`, `kind "url"`, "negative timeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New error %q lacks %q", err, want)
		}
	}
	if _, err := New(Options{Lists: []List{{Name: "A", Zone: "a.test", Kind: KindIP}, {Name: "A", Zone: "b.test", Kind: KindIP}}}, net.DefaultResolver); err == nil {
		t.Error("New with a duplicate list name succeeded")
	}
	if _, err := ParseExpect([]string{"127.0.0.2", "nope"}); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("ParseExpect with a bad value = %v", err)
	}
}
