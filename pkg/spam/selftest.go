package spam

// GTUBE is the Generic Test for Unsolicited Bulk Email: every spam engine
// must call a message holding it spam, whatever its rules.
const GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

// TestMessage is a small message with body as its text, for the engines'
// self tests.
func TestMessage(body string) string {
	return "From: qscan lint <postmaster@localhost>\r\nTo: postmaster@localhost\r\nSubject: qscan lint\r\n" +
		"Message-ID: <qscan-lint@localhost>\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n\r\n" + body + "\r\n"
}
