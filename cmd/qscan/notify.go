package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/qscan/qscan/etc"
	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/message"
	"github.com/qscan/qscan/pkg/notify"
	"github.com/qscan/qscan/pkg/pipeline"
	"github.com/qscan/qscan/pkg/policy"
)

// loadTemplates loads [notify] reports/<language>, or the shipped ones.
func loadTemplates(n config.Notify) (*notify.Templates, error) {
	if n.Reports != "" {
		return notify.Load(n.Reports, n.Language)
	}
	sub, err := fs.Sub(etc.Reports, "reports")
	if err != nil {
		return nil, err
	}
	return notify.LoadFS(sub, n.Language)
}

// site describes this installation to the templates.
func site(c *config.Config) notify.Site {
	host := c.Notify.Hostname
	if host == "" {
		host, _ = os.Hostname()
	}
	return notify.Site{OrgName: c.Headers.OrgName, Hostname: host, Postmaster: c.Notify.Postmaster.Plain}
}

// notifier writes the postmaster report from the templates.
type notifier struct {
	t    *notify.Templates
	site notify.Site
	to   config.Setting
	org  string
	now  func() time.Time
}

var _ pipeline.Notifier = (*notifier)(nil)

// Postmaster writes one report per postmaster address: [notify]
// postmaster may be a ruleset choosing the address by sender or recipient.
func (n *notifier) Postmaster(ns []pipeline.Notice) ([]pipeline.Mail, error) {
	byAddr := map[string][]notify.Notice{}
	var order []string
	for _, x := range ns {
		m := &message.Message{ID: x.ID, Envelope: x.Envelope, Header: x.Header, Reports: x.Reports, Parts: x.Parts, Received: x.Received}
		to := n.to.Resolve(rulesMsg(m))
		if to == "" {
			continue
		}
		if _, ok := byAddr[to]; !ok {
			order = append(order, to)
		}
		byAddr[to] = append(byAddr[to], notify.NewNotice(m, x.QuarantineDir, false))
	}
	var mails []pipeline.Mail
	for _, to := range order {
		m, err := n.report(to, byAddr[to])
		if err != nil {
			return mails, err
		}
		mails = append(mails, m)
	}
	return mails, nil
}

func (n *notifier) report(to string, ns []notify.Notice) (pipeline.Mail, error) {
	data := notify.PostmasterData{Site: n.site, Date: n.now().Format(notify.DateFormat), Messages: ns}
	body, err := n.t.Render(notify.Postmaster, data)
	if err != nil {
		return pipeline.Mail{}, err
	}
	subject, err := n.t.Subject(notify.Postmaster, data)
	if err != nil {
		return pipeline.Mail{}, err
	}
	from := n.site.Postmaster
	if from == "" {
		from = to
	}
	raw, err := notify.Mail{From: from, FromName: "qscan", To: []string{to}, Subject: subject, Body: body}.
		Bytes(notify.MailOptions{Now: n.now, Hostname: n.site.Hostname, OrgName: n.org})
	if err != nil {
		return pipeline.Mail{}, err
	}
	header, b := raw, []byte(nil)
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		header, b = raw[:i+1], raw[i+2:]
	}
	return pipeline.Mail{Recipients: []string{to}, Header: header, Body: b}, nil
}

// templateText renders the replacement text of a removed part.
func templateText(t *notify.Templates, s notify.Site, quarantineDir string, now func() time.Time) replacementText {
	return func(m *message.Message, r policy.Replacement, _ string) ([]byte, error) {
		name := map[message.ReportKind]string{
			message.KindVirus: notify.DeletedVirus, message.KindFilename: notify.DeletedFilename,
			message.KindFiletype: notify.DeletedFiletype, message.KindSize: notify.DeletedSize,
		}[r.Report.Kind]
		if name == "" {
			name = notify.DeletedContent
		}
		return t.Render(name, notify.NewReplacementData(m, r.Report, s, quarantineDir, now()))
	}
}

// newNotifier builds the report writer and the replacement texts.
func newNotifier(c *config.Config) (*notifier, replacementText, error) {
	t, err := loadTemplates(c.Notify)
	if err != nil {
		return nil, nil, fmt.Errorf("report templates: %w", err)
	}
	s := site(c)
	n := &notifier{t: t, site: s, to: c.Notify.Postmaster, org: c.Headers.OrgName, now: time.Now}
	return n, templateText(t, s, c.Quarantine.Dir, time.Now), nil
}
