package config

import (
	"fmt"
	"strings"
)

// Phishing configures the phishing net ([phishing]).
type Phishing struct {
	Find    Setting `toml:"find"`    // yes/no or a ruleset (Find Phishing Fraud)
	Numeric Setting `toml:"numeric"` // also flag links to numeric IP addresses
	// SafeSites and BadSites are list files in MailScanner's format; none:
	// the shipped lists (etc/rules/phishing.*.sites.conf).
	SafeSites []string `toml:"safe_sites"`
	BadSites  []string `toml:"bad_sites"`
	// SitesRefresh is how often the list files are looked at for a change
	// (size, modification time) on the check path; 0 turns it off.
	SitesRefresh Duration `toml:"sites_refresh"`
	Banner       string   `toml:"banner"`      // put once at the top of the message
	SubjectTag   string   `toml:"subject_tag"` // "{Fraud?}"; "" none (Phishing Modify Subject)
}

// Signature configures signatures and warning banners ([signature]).
type Signature struct {
	SignClean Setting `toml:"sign_clean"` // yes/no or a ruleset (Sign Clean Messages)
	// Text and HTML are template files; "": the shipped
	// reports/<language>/inline.sig.txt and .html. Or a ruleset.
	Text Setting `toml:"text"`
	HTML Setting `toml:"html"`
	// ExternalWarning puts ExternalWarningText at the top of mail whose
	// sender is outside [virus] local_domains; yes/no or a ruleset.
	ExternalWarning     Setting `toml:"external_warning"`
	ExternalWarningText string  `toml:"external_warning_text"`
	// DKIMFriendly leaves a DKIM-signed message unmodified (no signature,
	// banner or web bug replacement) unless something dangerous is
	// disarmed in it anyway.
	DKIMFriendly bool `toml:"dkim_friendly"`
}

// DefaultPhishingBanner is the default of [phishing] banner.
const DefaultPhishingBanner = "Warning: qscan has detected a possible fraud attempt in this message. " +
	"Links marked below may not lead where they say."

// DefaultExternalWarning is the default of [signature] external_warning_text.
const DefaultExternalWarning = "CAUTION: this message comes from outside your organisation. " +
	"Do not open links or attachments unless you know the sender."

func defaultPhishing() Phishing {
	return Phishing{Find: plain("yes"), Numeric: plain("yes"), Banner: DefaultPhishingBanner, SubjectTag: "{Fraud?}",
		SitesRefresh: Duration(60e9)}
}

func defaultSignature() Signature {
	return Signature{SignClean: plain("no"), ExternalWarning: plain("no"), ExternalWarningText: DefaultExternalWarning, DKIMFriendly: true}
}

// dangerousSettings are the per-message options of dangerous content.
func (c *Config) dangerousSettings() map[string]*Setting {
	return map[string]*Setting{
		"content.html.iframe":                    &c.Content.HTML.IFrame,
		"content.html.form":                      &c.Content.HTML.Form,
		"content.html.script":                    &c.Content.HTML.Script,
		"content.html.object_codebase":           &c.Content.HTML.ObjectCodebase,
		"content.html.convert_dangerous_to_text": &c.Content.HTML.ConvertDangerous,
		"content.html.web_bugs":                  &c.Content.HTML.WebBugs,
		"phishing.find":                          &c.Phishing.Find,
		"phishing.numeric":                       &c.Phishing.Numeric,
		"signature.sign_clean":                   &c.Signature.SignClean,
		"signature.text":                         &c.Signature.Text,
		"signature.html":                         &c.Signature.HTML,
		"signature.external_warning":             &c.Signature.ExternalWarning,
	}
}

// dangerousCheck returns the value check of a dangerous-content setting,
// nil for others.
func dangerousCheck(key string) func(string) error {
	switch key {
	case "content.html.iframe", "content.html.form", "content.html.script", "content.html.object_codebase":
		return func(v string) error {
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "allow", "block", "disarm", "yes", "no":
				return nil
			}
			return fmt.Errorf("%q: use allow (yes), block (no) or disarm", v)
		}
	case "content.html.web_bugs":
		return func(v string) error {
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "allow", "disarm", "yes":
				return nil
			}
			return fmt.Errorf("%q: use allow or disarm", v)
		}
	case "content.html.convert_dangerous_to_text", "phishing.find", "phishing.numeric", "signature.sign_clean", "signature.external_warning":
		return yesNo
	}
	return nil
}

func (c *Config) validateDangerous(bad func(key, format string, a ...any)) {
	for key, v := range map[string]string{"phishing.subject_tag": c.Phishing.SubjectTag, "phishing.banner": c.Phishing.Banner} {
		if strings.ContainsAny(v, "\r\n\x00") {
			bad(key, "%s: must be one line", key)
		}
	}
}
