package main

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/qscan/qscan/etc"
	"github.com/qscan/qscan/pkg/config"
	"github.com/qscan/qscan/pkg/notify"
)

// newNotifier maps [notify] to the notifier: the templates of every
// language [notify] language can give (its value, or each value of its
// ruleset), from [notify] reports or the shipped ones.
func newNotifier(c *config.Config) (*notify.Notifier, error) {
	var fsys fs.FS = os.DirFS(c.Notify.Reports)
	if c.Notify.Reports == "" {
		sub, err := fs.Sub(etc.Reports, "reports")
		if err != nil {
			return nil, err
		}
		fsys = sub
	}
	ts, err := notify.LoadLanguages(fsys, c.Notify.Language.Values())
	if err != nil {
		return nil, fmt.Errorf("report templates: %w", err)
	}
	host := c.Notify.Hostname
	if host == "" {
		host, _ = os.Hostname()
	}
	n := c.Notify
	return notify.NewNotifier(notify.NotifierOptions{
		Templates: ts, Language: n.Language.Setting, Postmaster: n.Postmaster.Setting, FullHeaders: n.FullHeaders.Setting,
		Site:          notify.Site{OrgName: c.Headers.OrgName, Hostname: host, Postmaster: n.Postmaster.Plain},
		SenderViruses: n.SenderViruses, SenderBlocked: n.SenderBlocked, SenderOther: n.SenderOther,
		Bounce: c.Spam.Bounce, QuarantineDir: c.Quarantine.Dir,
	})
}
