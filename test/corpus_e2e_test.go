//go:build e2e

package test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/qscan/qscan/test/stackutil"
)

// corpusDir is ../shared/corpus beside the checkout, where CI puts the
// shared corpus (see its README.md); test/ is one level down.
var corpusDir = filepath.Join("..", "..", "shared", "corpus")

// sendmailMaxHeaders is sendmail's MaxHeadersLength default: a message
// whose header block is longer is refused at the end of DATA.
const sendmailMaxHeaders = 32768

// passMsg is one message of the pass-through test and what must become of it.
type passMsg struct {
	from    string // corpus path (or "generated"), for messages
	raw     []byte // what is submitted
	virus   string // the virus clamd must find in it; "" if it is clean
	refused bool   // sendmail refuses it (header block over 32 KB)
	blocked string // "quarantined: REASON" or "cleaned: REASON" if qscan blocks it
}

// corpusRow is one line of the corpus's INDEX.tsv.
type corpusRow struct {
	path, sha, kind, label string
	size                   int
}

// loadCorpus makes the pass-through messages of every file of the corpus,
// keyed by the Message-ID given to each: a message file as it is, each
// message of an mbox, and every other file (ClamAV test files, bare TNEF,
// yEnc) as the attachment of a message. It skips the test when the corpus
// is absent, and fails if a file is missing or differs from the index.
func loadCorpus(t *testing.T) map[string]*passMsg {
	t.Helper()
	rows := corpusIndex(t)
	unlisted(t, rows)
	msgs := map[string]*passMsg{}
	for i, r := range rows {
		data, err := os.ReadFile(filepath.Join(corpusDir, r.path))
		if err != nil {
			t.Fatalf("corpus: %v", err)
		}
		if sum := sha256.Sum256(data); len(data) != r.size || hex.EncodeToString(sum[:]) != r.sha {
			t.Fatalf("corpus: %s differs from INDEX.tsv (size %d, want %d)", r.path, len(data), r.size)
		}
		var texts [][]byte
		switch r.kind {
		case "message":
			texts = [][]byte{data}
		case "mbox":
			texts = splitMbox(data)
		default:
			texts = [][]byte{attachmentMessage(filepath.Base(r.path), data)}
		}
		for j, text := range texts {
			id := fmt.Sprintf("<corpus-%d.%d@e2e.example>", i, j)
			m := &passMsg{from: r.path, raw: withMessageID(text, id), virus: expectedVirus(r), blocked: corpusBlocked[r.path]}
			hdr, _, _ := bytes.Cut(m.raw, []byte("\n\n"))
			m.refused = len(hdr) > sendmailMaxHeaders
			msgs[id] = m
		}
	}
	t.Logf("%d files of %s made %d messages", len(rows), corpusDir, len(msgs))
	return msgs
}

// corpusIndex reads INDEX.tsv (path, size, sha256, kind, label, source).
func corpusIndex(t *testing.T) []corpusRow {
	t.Helper()
	index, err := os.ReadFile(filepath.Join(corpusDir, "INDEX.tsv"))
	if os.IsNotExist(err) {
		t.Skipf("%s not present (CI has it beside the checkout): the corpus pass-through is skipped", corpusDir)
	}
	if err != nil {
		t.Fatalf("corpus: %v", err)
	}
	var rows []corpusRow
	for n, line := range strings.Split(strings.TrimRight(string(index), "\n"), "\n")[1:] {
		f := strings.Split(line, "\t")
		size, err := strconv.Atoi(f[min(1, len(f)-1)])
		if len(f) != 6 || err != nil {
			t.Fatalf("corpus: INDEX.tsv line %d: %q", n+2, line)
		}
		rows = append(rows, corpusRow{path: f[0], size: size, sha: f[2], kind: f[3], label: f[4]})
	}
	return rows
}

// corpusBlocked: the corpus files qscan blocks even when its content rules
// allow every name and type, with the reason its log gives. An ambiguous
// or unparsable MIME structure (two Content-Type fields, an RFC 2231
// boundary, a syntax error in a Content-Type, a message/rfc822 part that
// is not a message) can be read differently by the recipient's client
// than by the scanner, so the whole message is quarantined; an archive
// that cannot be read cannot be scanned, so it is taken out.
var corpusBlocked = map[string]string{
	"spam/spamassassin-tdata/badctype1":                      "quarantined: unparsable message",
	"spam/spamassassin-tdata/badmime2.txt":                   "quarantined: ambiguous MIME structure",
	"mime/cpython-test_email/msg_33.txt":                     "quarantined: ambiguous MIME structure",
	"mime/enmime/dsn/dsn_with_multipart_alternative.raw":     "quarantined: unparsable message",
	"mime/enmime/dsn/multi_recipient_dsn.raw":                "quarantined: unparsable message",
	"mime/enmime/dsn/simple_dsn.raw":                         "quarantined: unparsable message",
	"mime/enmime/dsn/simple_dsn_with_html.raw":               "quarantined: unparsable message",
	"mime/enmime/parts/ctype-invalid-characters.raw":         "quarantined: unparsable message",
	"mime/php-mime-mail-parser/issue126":                     "quarantined: ambiguous MIME structure",
	"mime/ruby-mail/error_emails/multiple_content_types.eml": "quarantined: ambiguous MIME structure",
	"mime/spamassassin/dkim/test-pass-08.msg":                "quarantined: ambiguous MIME structure",
	"mime/enmime/parts/bin-attach.raw":                       "cleaned: unreadable archive",
	"mime/rspamd/gargantua.eml":                              "cleaned: archive could not be opened: chm",
}

// unlisted fails the test if the corpus holds a file INDEX.tsv does not
// list: every file goes through.
func unlisted(t *testing.T, rows []corpusRow) {
	t.Helper()
	listed := map[string]bool{"README.md": true, "INDEX.tsv": true}
	for _, r := range rows {
		listed[r.path] = true
	}
	err := filepath.WalkDir(corpusDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if rel, _ := filepath.Rel(corpusDir, p); !listed[filepath.ToSlash(rel)] {
			t.Errorf("corpus: %s is not in INDEX.tsv, so it would not go through", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("corpus: %v", err)
	}
}

// expectedVirus is what the stack's clamd (test signatures: EICAR and
// clam.exe) finds in a file labelled malware-test, and "" otherwise.
func expectedVirus(r corpusRow) string {
	switch {
	case !strings.HasPrefix(r.label, "malware-test"):
		return ""
	case r.kind == "eicar" || strings.Contains(r.label, "eicar"):
		return "Eicar-Test-Signature"
	default:
		return "Clamav.Test.File-6"
	}
}

// mboxFrom is an mbox separator line at the start of the file or after an
// empty line.
var mboxFrom = regexp.MustCompile(`(?m)(?:\A|\n\n)From `)

// splitMbox cuts an mbox into its messages, each without its "From " line.
func splitMbox(data []byte) [][]byte {
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	starts := mboxFrom.FindAllIndex(data, -1)
	var out [][]byte
	for i, s := range starts {
		end := len(data)
		if i+1 < len(starts) {
			end = starts[i+1][0] + 1 // keep the message's last newline
		}
		msg := data[s[1]-len("From ") : end]
		if _, rest, ok := bytes.Cut(msg, []byte("\n")); ok && len(bytes.TrimSpace(rest)) > 0 {
			out = append(out, rest)
		}
	}
	return out
}

// attachmentMessage wraps a file that is not a message as the base64
// attachment of one.
func attachmentMessage(name string, data []byte) []byte {
	return []byte(fmt.Sprintf("From: sender@example.org\nTo: bob@example.test\nSubject: corpus file %s\nMIME-Version: 1.0\n"+
		"Content-Type: multipart/mixed; boundary=\"corpus-file\"\n\n--corpus-file\nContent-Type: text/plain\n\nthe file %s\n"+
		"--corpus-file\nContent-Type: application/octet-stream; name=%q\nContent-Disposition: attachment; filename=%q\n"+
		"Content-Transfer-Encoding: base64\n\n%s--corpus-file--\n", name, name, name, name, stackutil.Base64Lines(data)))
}

// withMessageID returns text with LF line ends, without a leading mbox
// "From " line and its own Message-ID fields, and with id as its first
// header field (first, so that sendmail sees it even when a malformed
// line ends the header block early).
func withMessageID(text []byte, id string) []byte {
	text = bytes.ReplaceAll(text, []byte("\r\n"), []byte("\n"))
	if bytes.HasPrefix(text, []byte("From ")) {
		_, text, _ = bytes.Cut(text, []byte("\n"))
	}
	hdr, body, hasBody := bytes.Cut(text, []byte("\n\n"))
	var b bytes.Buffer
	fmt.Fprintf(&b, "Message-ID: %s\n", id)
	dropping := false
	for _, l := range strings.SplitAfter(string(hdr), "\n") {
		if dropping && (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) {
			continue
		}
		dropping = strings.HasPrefix(strings.ToLower(l), "message-id:")
		if !dropping {
			b.WriteString(l)
		}
	}
	if hasBody {
		b.WriteString("\n\n")
		b.Write(body)
	}
	return b.Bytes()
}
