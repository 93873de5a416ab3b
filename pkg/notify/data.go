package notify

import (
	"mime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/qscan/qscan/pkg/message"
)

// Bounds of the data taken from a message into a report.
const (
	maxField   = 1000 // one line: subject, address, file name, report line
	maxReports = 100  // report lines per message
	maxHeaders = 32 << 10
)

// Site is what every template may say about the installation.
type Site struct {
	OrgName     string // short name, e.g. "yoursite" (MailScanner's %org-name%)
	OrgLongName string // e.g. "Your Organisation Ltd"
	WebSite     string
	Hostname    string // the scanner, e.g. "the yoursite (mx1.example.org) qscan"
	Postmaster  string // local postmaster address, for replies
}

// Notice is what the reports say about one message. NewNotice fills it
// from a Message with every string bounded and on one line (Reports one
// entry per line; Headers keeps its lines).
type Notice struct {
	ID         string   // queue ID
	MessageID  string   // Message-ID header
	Sender     string   // envelope sender, "<>" for the null sender
	Recipients []string // envelope recipients
	Subject    string   // decoded
	ClientIP   string
	Date       string // when the message was received
	Quarantine string // where the quarantine copy is, "" when none
	Reports    []string
	Filenames  []string // names of the parts reported, or "the entire message"
	Headers    string   // the original header block, when the site wants it
}

// PostmasterData is the data of the postmaster report: one per batch.
type PostmasterData struct {
	Site
	Date     string
	Messages []Notice
}

// SenderData is the data of a notice to the sender of one message.
type SenderData struct {
	Site
	Notice
}

// ReplacementData is the data of a replacement text (deleted.*).
type ReplacementData struct {
	Filename      string // the removed attachment
	Report        string // what the check said (may hold several lines)
	Date          string
	DateNumber    string // YYYYMMDD, the quarantine's day directory
	ID            string // queue ID
	OrgName       string
	QuarantineDir string // "" when nothing was kept
	Hostname      string
}

// InlineData is the data of the inline warning.
type InlineData struct {
	Filename    string // the removed attachments, comma separated
	WarningName string // the replacement attachment's file name
	OrgName     string
}

// DateFormat is how dates appear in reports.
const DateFormat = "Mon, 02 Jan 2006 15:04:05 -0700"

// NewNotice describes m for the reports; quarantine is where its copy is
// ("" if none), headers whether to include the full header block.
func NewNotice(m *message.Message, quarantine string, headers bool) Notice {
	h := parseHeader(m.Header, maxHeaders)
	n := Notice{
		ID:         line(m.ID),
		MessageID:  line(h.get("Message-ID")),
		Sender:     line(m.Envelope.Sender),
		Subject:    line(decodeWords(h.get("Subject"))),
		Quarantine: line(quarantine),
	}
	if n.Sender == "" {
		n.Sender = "<>"
	}
	for _, r := range m.Envelope.Recipients {
		n.Recipients = append(n.Recipients, line(r))
	}
	if m.Envelope.ClientIP.IsValid() {
		n.ClientIP = m.Envelope.ClientIP.String()
	}
	if !m.Received.IsZero() {
		n.Date = m.Received.Format(DateFormat)
	}
	seen := map[string]bool{}
	for _, r := range m.Reports {
		for _, l := range strings.Split(r.Text, "\n") {
			if l = line(l); l != "" && len(n.Reports) < maxReports {
				n.Reports = append(n.Reports, l)
			}
		}
		name := "the entire message"
		if r.Part >= 0 && r.Part < len(m.Parts) {
			name = line(m.Parts[r.Part].Filename)
		}
		if name != "" && !seen[name] && len(n.Filenames) < maxReports {
			seen[name] = true
			n.Filenames = append(n.Filenames, name)
		}
	}
	if headers {
		n.Headers = text(string(m.Header), maxHeaders)
	}
	return n
}

// line makes s one bounded line of valid UTF-8 without control characters.
func line(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	return truncate(s, maxField)
}

// text is like line but keeps line breaks.
func text(s string, max int) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\r\n", "\n"), "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if (r < ' ' && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
	return truncate(s, max)
}

// truncate cuts s to at most max bytes at a rune boundary, marking the cut.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	s = s[:max-3]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "..."
}

// decodeWords decodes RFC 2047 encoded words; undecodable text stays.
func decodeWords(s string) string {
	if len(s) > 4*maxField {
		s = s[:4*maxField]
	}
	d := mime.WordDecoder{}
	if out, err := d.DecodeHeader(s); err == nil {
		return out
	}
	return s
}

// NewReplacementData fills the data of a replacement text for report r of
// m, for the quarantine copy in dir ("" if none) made at now.
func NewReplacementData(m *message.Message, r message.Report, site Site, dir string, now time.Time) ReplacementData {
	d := ReplacementData{
		Filename:      "the entire message",
		Report:        text(r.User, 4*maxField),
		Date:          now.Format(DateFormat),
		DateNumber:    now.Format("20060102"),
		ID:            line(m.ID),
		OrgName:       line(site.OrgName),
		QuarantineDir: line(dir),
		Hostname:      line(site.Hostname),
	}
	if d.Report == "" {
		d.Report = text(r.Text, 4*maxField)
	}
	if r.Part >= 0 && r.Part < len(m.Parts) {
		d.Filename = line(m.Parts[r.Part].Filename)
	}
	return d
}
