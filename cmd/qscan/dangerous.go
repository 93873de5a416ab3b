package main

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"github.com/qscan/qscan/etc"
	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/htmlsafe"
	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/ruleset"
)

// dangerous maps [content.html], [phishing] and [signature] to the
// options of each message (pkg/htmlsafe), for the content check and the
// cleaner alike.
type dangerous struct {
	c     *config.Config
	sites *htmlsafe.Sites
	files map[string]string // signature template by file value ("" + language: shipped)
}

const maxSignatureBytes = 16 << 10

// newDangerous loads the phishing site lists and the signature templates.
func newDangerous(c *config.Config) (*dangerous, error) {
	d := &dangerous{c: c, files: map[string]string{}}
	if len(c.Phishing.SafeSites)+len(c.Phishing.BadSites) > 0 {
		s, err := htmlsafe.LoadSites(c.Phishing.SafeSites, c.Phishing.BadSites)
		if err != nil {
			return nil, err
		}
		s.SetRefresh(time.Duration(c.Phishing.SitesRefresh))
		if c.Phishing.SitesRefresh <= 0 {
			s.SetRefresh(-1)
		}
		d.sites = s
	}
	var reports fs.FS = os.DirFS(c.Notify.Reports)
	if c.Notify.Reports == "" {
		sub, err := fs.Sub(etc.Reports, "reports")
		if err != nil {
			return nil, err
		}
		reports = sub
	}
	for _, lang := range append(c.Notify.Language.Values(), "en") {
		for _, ext := range []string{"txt", "html"} {
			b, err := fs.ReadFile(reports, path.Join(lang, "signature", "inline.sig."+ext))
			if err == nil && len(b) <= maxSignatureBytes {
				d.files["\x00"+lang+"."+ext] = string(b)
			}
		}
	}
	for _, s := range []config.Setting{c.Signature.Text, c.Signature.HTML} {
		for _, v := range s.Values() {
			if v = strings.TrimSpace(v); v == "" {
				continue
			}
			b, err := os.ReadFile(c.RuleFiles(v)[0])
			if err != nil {
				return nil, fmt.Errorf("signature template: %w", err)
			}
			if len(b) > maxSignatureBytes {
				return nil, fmt.Errorf("signature template %s: larger than %d bytes", v, maxSignatureBytes)
			}
			d.files[v] = string(b)
		}
	}
	return d, nil
}

// options returns the options of m.
func (d *dangerous) options(m *message.Message) htmlsafe.Options {
	// Changed site lists are read again (at most once per sites_refresh);
	// a file that cannot be read keeps the lists as they were.
	d.sites.Refresh(time.Now())
	c, rm := d.c, ruleset.MsgOf(m)
	h := c.Content.HTML
	yes := func(s config.Setting) bool { y, _ := ruleset.Yes(s.Resolve(rm)); return y }
	o := htmlsafe.Options{
		IFrame: mode(h.IFrame.Resolve(rm)), Form: mode(h.Form.Resolve(rm)), Script: mode(h.Script.Resolve(rm)),
		ObjectCodebase: mode(h.ObjectCodebase.Resolve(rm)), ConvertDangerous: yes(h.ConvertDangerous),
		WebBugs:           mode(h.WebBugs.Resolve(rm)) == htmlsafe.Disarm && !listed(m.Envelope.Sender, h.WebBugAllow),
		WebBugReplacement: h.WebBugReplacement, WebBugServers: h.WebBugServers, IgnoredWebBugFiles: h.IgnoredWebBugFiles,
		Phishing: yes(c.Phishing.Find), Numeric: yes(c.Phishing.Numeric), Sites: d.sites, PhishingBanner: c.Phishing.Banner,
		DKIMFriendly: c.Signature.DKIMFriendly, MaxLinks: h.MaxLinks, MaxBytes: int(h.MaxHTMLBytes),
	}
	if yes(c.Signature.SignClean) {
		lang := c.Notify.Language.Resolve(rm)
		o.SignText = d.template(c.Signature.Text.Resolve(rm), lang, "txt")
		o.SignHTML = d.template(c.Signature.HTML.Resolve(rm), lang, "html")
	}
	if yes(c.Signature.ExternalWarning) && !listed(m.Envelope.Sender, c.Virus.LocalDomains) {
		o.BannerText = c.Signature.ExternalWarningText
	}
	return o
}

func (d *dangerous) template(v, lang, ext string) string {
	if v = strings.TrimSpace(v); v != "" {
		return d.files[v]
	}
	if t, ok := d.files["\x00"+lang+"."+ext]; ok {
		return t
	}
	return d.files["\x00en."+ext]
}

// mode reads a MailScanner "Allow ... Tags" value.
func mode(v string) htmlsafe.Mode {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "allow":
		return htmlsafe.Allow
	case "no", "block":
		return htmlsafe.Block
	}
	return htmlsafe.Disarm
}

// listed tells a sender whose address, domain or parent domain is in
// list.
func listed(sender string, list []string) bool {
	sender = strings.ToLower(sender)
	_, dom, _ := strings.Cut(sender, "@")
	for _, e := range list {
		e = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(e), "*."))
		if e != "" && (e == sender || e == dom || strings.HasSuffix(dom, "."+e)) {
			return true
		}
	}
	return false
}
