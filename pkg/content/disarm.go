package content

import (
	"fmt"

	"github.com/qscan/qscan/pkg/htmlsafe"
	"github.com/qscan/qscan/pkg/message"
)

// safeOptions are the dangerous-content options for msg: HTMLOptions.For
// when set (rulesets), else the fixed modes.
func (c *Checker) safeOptions(msg *message.Message) htmlsafe.Options {
	if c.opts.HTML.For != nil {
		o := c.opts.HTML.For(msg)
		o.SignText, o.SignHTML, o.BannerText = "", "", "" // the cleaner's business
		return o
	}
	h := c.opts.HTML
	return htmlsafe.Options{IFrame: htmlsafe.Mode(h.IFrame), Form: htmlsafe.Mode(h.Form),
		Script: htmlsafe.Mode(h.Script), ObjectCodebase: htmlsafe.Mode(h.ObjectCodebase), MaxTokens: h.MaxTokens}
}

// disarm reports what the rewrite of the message's text bodies disarms,
// replaces or marks (pkg/htmlsafe): each a report with ActionDisarm, so
// that the message is delivered rewritten, logged and not clean.
func (c *Checker) disarm(msg *message.Message, so htmlsafe.Options) []message.Report {
	if !so.Active() || len(msg.Body) == 0 {
		return nil
	}
	plan, err := htmlsafe.Inspect(msg.Header, msg.Body, so)
	if err != nil {
		return nil // the MIME limits are explode's reports
	}
	var out []message.Report
	converted := map[string]bool{}
	for _, p := range plan.Convert {
		converted[p] = true
	}
	for _, f := range plan.Findings {
		r := message.Report{Kind: message.KindContent, Part: mimeLeaf(msg, f.Path), Engine: "content",
			Name: "html-" + string(f.Kind), Action: message.ActionDisarm}
		count := ""
		if f.Count > 1 {
			count = fmt.Sprintf(" (%d in this part)", f.Count)
		}
		switch f.Kind {
		case htmlsafe.KindPhishing:
			r.Kind, r.Name = message.KindPhishing, "phishing"
			r.Text = "Possible fraud (phishing): " + f.Detail + count
		case htmlsafe.KindWebBug:
			r.Name = "webbug"
			r.Text = "Web bug replaced: " + f.Detail + count
		default:
			if converted[f.Path] {
				r.Text = fmt.Sprintf("Dangerous HTML converted to text: %s%s: %s", f.Kind, count, f.Detail)
			} else {
				r.Text = fmt.Sprintf("Dangerous HTML disarmed: %s%s: %s", f.Kind, count, f.Detail)
			}
		}
		out = append(out, r)
	}
	if plan.Truncated {
		out = append(out, message.Report{Kind: message.KindContent, Part: -1, Engine: "content", Name: "html-limit",
			Text: "HTML or links beyond the limits were not checked"})
	}
	return out
}

// mimeLeaf returns the index of the MIME part at path, -1 when none.
func mimeLeaf(msg *message.Message, path string) int {
	for i := range msg.Parts {
		if msg.Parts[i].Parent < 0 && msg.Parts[i].MIMEPath == path {
			return i
		}
	}
	return -1
}
