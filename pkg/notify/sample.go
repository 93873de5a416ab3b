package notify

import "strings"

// sample returns data of the type template name is rendered with, every
// field filled, for the check at load time.
func sample(name string) any {
	site := Site{OrgName: "yoursite", OrgLongName: "Your Organisation", WebSite: "www.example.org",
		Hostname: "mx1.example.org", Postmaster: "postmaster@example.org"}
	n := Notice{
		ID: "6AM8Fa4W008391", MessageID: "<inv-1@example.net>", Sender: "alice@example.net",
		Recipients: []string{"bob@example.org", "carol@example.org"}, Subject: "invoice",
		ClientIP: "192.0.2.7", Date: "Mon, 02 Jun 2025 10:00:00 +0200",
		Quarantine: "/var/spool/qscan/quarantine/20250602/6AM8Fa4W008391",
		Reports:    []string{"Virus 'Eicar-Test-Signature' found in file invoice.pdf.exe"},
		Filenames:  []string{"invoice.pdf.exe"},
		Headers:    "From: Alice <alice@example.net>\nSubject: invoice",
	}
	switch {
	case name == Postmaster:
		return PostmasterData{Site: site, Date: n.Date, Messages: []Notice{n}}
	case strings.HasPrefix(name, "sender."):
		return SenderData{Site: site, Notice: n}
	case strings.HasPrefix(name, "spam."):
		n.Subject = "Cheap watches"
		n.Reports = []string{"spam, SpamAssassin (not cached, score=12.3, required 6, BAYES_99 3.50, URIBL_BLACK 1.70)"}
		n.Filenames = []string{"the entire message"}
		n.Quarantine = "/var/spool/qscan/quarantine/20250602/spam/6AM8Fa4W008391"
		return SenderData{Site: site, Notice: n}
	case name == InlineWarning:
		return InlineData{Filename: "invoice.pdf.exe", WarningName: "VirusWarning.txt", OrgName: site.OrgName}
	default:
		return ReplacementData{Filename: "invoice.pdf.exe", Report: n.Reports[0], Date: n.Date,
			DateNumber: "20250602", ID: n.ID, OrgName: site.OrgName,
			QuarantineDir: "/var/spool/qscan/quarantine", Hostname: site.Hostname}
	}
}
