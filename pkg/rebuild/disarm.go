package rebuild

import (
	"fmt"
	"strconv"

	"github.com/qscan/qscan/pkg/htmlsafe"
	"github.com/qscan/qscan/pkg/message"
)

// Disarm rewrites the text and HTML bodies of a message as opt says
// (pkg/htmlsafe: dangerous HTML disarmed, web bugs replaced, phishing
// links marked, banners and signatures put in), each changed part
// re-encoded in its own charset and transfer encoding, every other byte
// kept. HTML parts opt.ConvertDangerous turns to text are replaced by
// their text. The parts rewritten must read the same to the MIME library
// (ErrAmbiguous otherwise). Result.Changed is false when nothing changed.
func Disarm(header, body []byte, opt htmlsafe.Options, o Options) (Result, htmlsafe.Plan, error) {
	o = o.withDefaults()
	plan, err := htmlsafe.Inspect(header, body, opt)
	if err != nil {
		return Result{}, plan, fmt.Errorf("rebuild disarm: %w", err)
	}
	if len(plan.Edits) == 0 && len(plan.Convert) == 0 {
		return Result{Body: body}, plan, nil
	}
	t, err := walk(header, body, o)
	if err != nil {
		return Result{}, plan, err
	}
	var tgs []*target
	converted := map[string]bool{}
	for _, p := range plan.Convert {
		converted[p] = true
	}
	var edits []edit
	for _, e := range plan.Edits {
		if converted[e.Path] {
			continue
		}
		n, err := find(t, e.Path)
		if err != nil {
			return Result{}, plan, err
		}
		tgs = append(tgs, &target{n: n})
		edits = append(edits, edit{e.Start, e.End, e.With})
	}
	if err := verify(t, header, tgs, o.MaxDepth); err != nil {
		return Result{}, plan, err
	}
	out, err := splice(body, edits)
	if err != nil {
		return Result{}, plan, err
	}
	res := Result{Body: out, Changed: true}
	if len(plan.Convert) > 0 {
		if res, err = convert(header, out, plan.Convert, o); err != nil {
			return Result{}, plan, err
		}
	}
	res.Delete = appendName(res.Delete, "Content-Length")
	return res, plan, nil
}

// convert replaces the HTML parts at paths by their text.
func convert(header, body []byte, paths []string, o Options) (Result, error) {
	parts, err := htmlParts(header, body, HTMLLimits{MaxParts: o.MaxParts, MaxDepth: o.MaxDepth}.withDefaults())
	if err != nil {
		return Result{}, err
	}
	want := map[string]bool{}
	for _, p := range paths {
		want[p] = true
	}
	var repl []Replacement
	for _, p := range parts {
		if want[p.path] {
			text, _ := HTMLText(p.html, DefaultMaxTokens)
			o.MaxTextBytes = max(o.MaxTextBytes, len(text))
			repl = append(repl, Replacement{MIMEPath: p.path, Text: text, Convert: true})
		}
	}
	if len(repl) == 0 {
		return Result{Body: body, Changed: true}, nil
	}
	o.InlineParts = true
	return Rebuild(header, body, repl, o)
}

// disarm runs Disarm for the cleaner: the message's options (signatures
// for clean mail only), and the phishing header.
func (c *Cleaner) disarm(m *message.Message, d *message.Decision, header, body []byte) ([]byte, []message.HeaderEdit, bool, error) {
	so := c.Safe(m)
	if d.Verdict != message.VerdictClean {
		so.SignText, so.SignHTML = "", ""
	}
	res, plan, err := Disarm(header, body, so, c.Options)
	if err != nil {
		return nil, nil, false, err
	}
	edits := res.Edits()
	if c.PhishingHeader != "" {
		edits = append(edits, message.HeaderEdit{Op: message.HeaderDelete, Name: c.PhishingHeader})
		n := 0
		for _, f := range plan.Findings {
			if f.Kind == htmlsafe.KindPhishing {
				n += f.Count
			}
		}
		if n > 0 {
			edits = append(edits, message.HeaderEdit{Op: message.HeaderAdd, Name: c.PhishingHeader,
				Value: "possible fraud: " + strconv.Itoa(n) + " suspicious link(s) marked"})
		}
	}
	return res.Body, edits, res.Changed, nil
}

// Rewrites tells the pipeline that the cleaner may change a message no
// report asks to change: a signature or a banner to put in.
func (c *Cleaner) Rewrites(m *message.Message, d *message.Decision) bool {
	if c.Safe == nil || !d.Deliver {
		return false
	}
	so := c.Safe(m)
	return so.BannerText != "" || (d.Verdict == message.VerdictClean && (so.SignText != "" || so.SignHTML != ""))
}
