package exim

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The testdata/*.H and *.D files were written by the real Exim 4.96 of
// the test stack (exim-in), from messages submitted over SMTP by
// testdata/mkgolden; frozen.H was then rewritten by `exim -Mf`.

type goldenWant struct {
	sender   string
	rcpts    []Recipient
	client   Client
	dsn      DSN
	utf8     bool
	frozen   bool
	lines    int
	headers  int // records, '*' included
	deleted  []string
	block    []string // in the header block
	notBlock []string
	options  map[string]string
}

var goldenWants = map[string]goldenWant{
	"multi": {sender: "alice@sender.example", rcpts: Rcpts("bob@example.test", "carol@example.test", "dave@example.test"),
		client: Client{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Helo: "client.example.test", Protocol: "esmtp"},
		lines:  4, headers: 9, block: []string{"Cc: dave@example.test\n", "Reply-To: alice@sender.example\n"}},
	"dsn": {sender: "alice@sender.example", rcpts: []Recipient{
		{Address: "bob@example.test", ORcpt: "RFC822;bob@orig.example", DSNFlags: DSNNotifySuccess | DSNNotifyFailure, Parent: -1},
		{Address: "carol@example.test", DSNFlags: DSNNotifyNever, Parent: -1},
		{Address: "dave@example.test", DSNFlags: DSNNotifyDelay, Parent: -1},
	}, client: Client{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Helo: "client.example.test", Protocol: "esmtp"},
		dsn: DSN{EnvID: "QQ314159", Ret: DSNRetHdrs}, lines: 1, headers: 4},
	"null": {sender: "", rcpts: Rcpts("bob@example.test"),
		client: Client{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Helo: "client.example.test", Protocol: "esmtp"},
		lines:  1, headers: 5, block: []string{"Auto-Submitted: auto-replied\n"}},
	"utf8": {sender: "jörg@sender.example", rcpts: Rcpts("zoë@example.test"),
		client: Client{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Helo: "client.example.test", Protocol: "utf8esmtp"},
		utf8:   true, lines: 1, headers: 7, block: []string{"Subject: grüße aus Köln\n"}},
	"eightbit": {sender: "alice@sender.example", rcpts: Rcpts("bob@example.test"),
		client: Client{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Helo: "client.example.test", Protocol: "esmtp"},
		lines:  1, headers: 6},
	"folded": {sender: "alice@sender.example", rcpts: Rcpts("bob@example.test"),
		client: Client{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Helo: "client.example.test", Protocol: "esmtp"},
		lines:  1, headers: 5, block: []string{"To: bob@example.test,\n  carol@example.test\n", "\tcontinuation line 59 of a long"}},
	"ipv6": {sender: "alice@sender.example", rcpts: Rcpts("bob@example.test"),
		client: Client{Addr: netip.MustParseAddrPort("[::1]:0"), Helo: "client.example.test", Protocol: "esmtp"},
		lines:  1, headers: 4},
	"auth": {sender: "alice@sender.example", rcpts: Rcpts("bob@example.test"),
		client: Client{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Helo: "client.example.test", Protocol: "esmtpa",
			AuthID: "qscan", AuthName: "plain", AuthFrom: "alice@sender.example"},
		lines: 1, headers: 4, options: map[string]string{"host_auth_pubname": "PLAIN"}},
	"acl": {sender: "alice@sender.example", rcpts: Rcpts("bob@example.test"),
		client: Client{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Helo: "client.example.test", Protocol: "esmtp"},
		lines:  1, headers: 7, deleted: []string{"X-Remove-Me"},
		block: []string{"X-Added: by the data ACL\n"}, notBlock: []string{"X-Remove-Me"}},
	"frozen": {sender: "alice@sender.example", rcpts: Rcpts("bob@example.test"),
		client: Client{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Helo: "client.example.test", Protocol: "esmtp"},
		frozen: true, lines: 1, headers: 4},
	"noeol": {sender: "alice@sender.example", rcpts: Rcpts("bob@example.test"),
		client: Client{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Helo: "client.example.test", Protocol: "esmtp"},
		lines:  1, headers: 2},
}

func goldenFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/*.H")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden -H files: %v", err)
	}
	return files
}

func TestGoldenRoundTrip(t *testing.T) {
	for _, f := range goldenFiles(t) {
		name := strings.TrimSuffix(filepath.Base(f), ".H")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			h, err := ParseH(bytes.NewReader(raw), Limits{})
			if err != nil {
				t.Fatalf("ParseH: %v", err)
			}
			if got := h.Bytes(); !bytes.Equal(got, raw) {
				t.Errorf("parse → write changed the file:\n got %q\nwant %q", got, raw)
			}
			// An edit that changes nothing keeps the bytes too.
			if err := h.Edit(nil, false); err != nil || !bytes.Equal(h.Bytes(), raw) {
				t.Errorf("Edit(nil) changed the file (%v)", err)
			}
		})
	}
}

func TestGoldenEnvelope(t *testing.T) {
	for _, f := range goldenFiles(t) {
		name := strings.TrimSuffix(filepath.Base(f), ".H")
		want, ok := goldenWants[name]
		if !ok {
			t.Errorf("%s: no expectation in goldenWants", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			raw, _ := os.ReadFile(f)
			h, err := ParseH(bytes.NewReader(raw), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if h.Sender() != want.sender {
				t.Errorf("Sender() = %q, want %q", h.Sender(), want.sender)
			}
			if !slices.Equal(h.Recipients(), want.rcpts) {
				t.Errorf("Recipients() = %+v, want %+v", h.Recipients(), want.rcpts)
			}
			c := h.Client()
			if c.Addr.Port() == 0 || c.Interface.Port() != 3025 {
				t.Errorf("client port %v, interface %v: want both set", c.Addr, c.Interface)
			}
			c.Addr = netip.AddrPortFrom(c.Addr.Addr(), 0)
			c.Interface = netip.AddrPort{}
			if c != want.client {
				t.Errorf("Client() = %+v, want %+v", c, want.client)
			}
			if h.DSN() != want.dsn || h.SMTPUTF8() != want.utf8 || h.Frozen() != want.frozen {
				t.Errorf("DSN %+v utf8 %v frozen %v, want %+v %v %v", h.DSN(), h.SMTPUTF8(), h.Frozen(), want.dsn, want.utf8, want.frozen)
			}
			if h.BodyLines() != want.lines {
				t.Errorf("BodyLines() = %d, want %d", h.BodyLines(), want.lines)
			}
			if login, uid, _ := h.Login(); login != "Debian-exim" || uid <= 0 {
				t.Errorf("Login() = %q %d, want Debian-exim and its uid", login, uid)
			}
			if rt := h.Received(); rt.Unix() != IDTime(h.ID()).Unix() || rt.Nanosecond() == 0 {
				t.Errorf("Received() = %v, want the second of the ID %s with microseconds", rt, h.ID())
			}
			hs := h.Headers()
			if len(hs) != want.headers || hs[0].Flag != FlagReceived || hs[0].Name != "Received" {
				t.Errorf("%d headers, first %q %q; want %d, Received with P", len(hs), hs[0].Flag, hs[0].Name, want.headers)
			}
			var deleted []string
			for _, x := range hs {
				if x.Flag == FlagDeleted {
					deleted = append(deleted, x.Name)
				}
				if x.Flag != FlagDeleted && x.Flag != flagFor(x.Name) {
					t.Errorf("header %s has flag %q, flagFor gives %q", x.Name, x.Flag, flagFor(x.Name))
				}
			}
			if !slices.Equal(deleted, want.deleted) {
				t.Errorf("deleted headers %q, want %q", deleted, want.deleted)
			}
			block := string(h.HeaderBlock())
			if !strings.HasPrefix(block, "Received: from ") || !strings.Contains(block, "id "+h.ID()) {
				t.Errorf("HeaderBlock() does not start with Exim's Received: %.200q", block)
			}
			for _, s := range want.block {
				if !strings.Contains(block, s) {
					t.Errorf("HeaderBlock() lacks %q", s)
				}
			}
			for _, s := range want.notBlock {
				if strings.Contains(block, s) {
					t.Errorf("HeaderBlock() has %q", s)
				}
			}
			for k, v := range want.options {
				if got, _ := h.Option(k); got != v {
					t.Errorf("Option(%q) = %q, want %q", k, got, v)
				}
			}
			d, err := os.Open(strings.TrimSuffix(f, ".H") + ".D")
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			body, err := Body(d, h.ID())
			if err != nil {
				t.Fatalf("Body: %v", err)
			}
			b := make([]byte, body.Size())
			body.ReadAt(b, 0)
			if CountLines(b) != h.BodyLines() {
				t.Errorf("CountLines(body) = %d, -body_linecount %d", CountLines(b), h.BodyLines())
			}
		})
	}
}

func TestGoldenACLVariables(t *testing.T) {
	raw, _ := os.ReadFile("testdata/acl.H")
	h, err := ParseH(bytes.NewReader(raw), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, o := range h.Options() {
		if isACL(o.Name) {
			got[o.Name+o.Value] = string(o.Data)
		}
	}
	want := map[string]string{"aclc_conn 19": "connection variable", "aclm_note 17": "line one\nline two"}
	if len(got) != len(want) || got["aclc_conn 19"] != want["aclc_conn 19"] || got["aclm_note 17"] != want["aclm_note 17"] {
		t.Errorf("ACL variables %q, want %q", got, want)
	}
}
