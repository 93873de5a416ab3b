package content

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/qscan/qscan/pkg/htmlsafe"
	"github.com/qscan/qscan/pkg/message"
)

// action maps a blocking rule to the action on the part.
func action(r *Rule) message.Action {
	if r.Delete {
		return message.ActionDelete
	}
	return message.ActionReplace
}

// userText is the replacement text: the rule's user text and the name.
func userText(r *Rule, name string) string {
	u := r.User
	if u == "" {
		u = r.Log
	}
	return fmt.Sprintf("%s (%s)", u, name)
}

// names applies filename and filetype rules to one part.
func (c *Checker) names(p *message.Part, inArchive bool) []message.Report {
	fnRules, ftRules := c.rules.Filename, c.rules.Filetype
	if inArchive {
		fnRules, ftRules = c.rules.ArchiveFilename, c.rules.ArchiveFiletype
	}
	written, h := checkNames(fnRules, p)
	if h != nil {
		return []message.Report{c.report(p, h, message.KindFilename, "filename-rules", written, "Filename: "+shown(written))}
	}
	if p.DetectedType == "" {
		return nil // no content (encrypted member): nothing to sniff
	}
	desc := describe(p.DetectedType)
	if h := ftRules.CheckType(desc, p.DetectedType); h != nil {
		name := orDefault(p.Filename, p.Path)
		r := c.report(p, h, message.KindFiletype, "filetype-rules", name, "Filetype: "+shown(name))
		r.Text += " (" + desc + ")"
		return []message.Report{r}
	}
	return nil
}

// checkNames runs the rules on every name of p, each in every form a
// receiving system may give it (Candidates); it returns the strongest
// verdict and the name, as written, that drew it.
func checkNames(rs *Rules, p *message.Part) (string, *Hit) {
	var best *Hit
	var written string
	for _, n := range append([]string{p.Filename}, p.AltNames...) {
		if n == "" {
			continue
		}
		if h := rs.Check(p.DetectedType, Candidates(n)); rank(h) > rank(best) {
			best, written = h, n
		}
	}
	return written, best
}

// report turns a verdict into a report about part p known as name.
func (c *Checker) report(p *message.Part, h *Hit, kind message.ReportKind, engine, name, what string) message.Report {
	r := h.Rule
	if h.Name != name && kind == message.KindFilename {
		what += " (read as " + shown(h.Name) + ")"
	}
	log := orDefault(r.Log, "blocked by rule "+r.ID())
	if h.Costly {
		log += " (pattern over its step budget, counted as a match)"
	}
	rep := message.Report{Kind: kind, Part: p.Index, Engine: engine, Name: r.ID(),
		Text: what + ": " + log, User: userText(r, shown(name)), Action: action(r)}
	switch r.Verb {
	case Rename:
		base := h.Name
		if kind == message.KindFiletype {
			base = orDefault(p.Filename, "attachment")
		}
		to := harmlessName(c.renamed(r, base))
		if p.Parent >= 0 {
			// A member of an archive, or a file encoded in a text part:
			// its name is not in a MIME header that could be rewritten.
			rep.Text = what + ": " + orDefault(r.Log, "renamed by rule "+r.ID()) + ": rename to " + shown(to) +
				" requested; a file inside another cannot be renamed, so it is replaced"
			break
		}
		rep.Text = what + ": " + orDefault(r.Log, "renamed by rule "+r.ID()) + ": renamed to " + shown(to)
		rep.User, rep.Action, rep.Rename = "", message.ActionRename, to
	case Addresses:
		rep.Text = what + ": " + orDefault(r.Log, "rule "+r.ID()) + ": message redirected to " + strings.Join(r.To, ", ")
		rep.User, rep.Action, rep.Redirect = "", message.ActionNone, r.To
	}
	if r.Verb == Deny && len(r.To) > 0 {
		rep.Redirect = r.To
		rep.Text += "; message redirected to " + strings.Join(r.To, ", ")
	}
	return rep
}

// shown is a name as it may be printed in a log line or a report: as it
// is when it holds only visible characters, else quoted with escapes
// (a U+202E would turn the rest of the line around).
func shown(name string) string {
	for _, r := range name {
		if r < ' ' || r == 0x7f || unicode.Is(unicode.Cf, r) || !unicode.IsPrint(r) && r != ' ' {
			return strconv.QuoteToASCII(name)
		}
	}
	return name
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// messageSize checks the whole message against MaxMessageSize.
func (c *Checker) messageSize(msg *message.Message) []message.Report {
	size := msg.Size
	if size == 0 {
		size = int64(len(msg.Header) + len(msg.Body))
	}
	if c.opts.MaxMessageSize <= 0 || size <= c.opts.MaxMessageSize {
		return nil
	}
	return []message.Report{{Kind: message.KindSize, Part: -1, Engine: "content", Name: "message-size",
		Text: fmt.Sprintf("Message is too large: %d bytes, limit %d", size, c.opts.MaxMessageSize),
		User: "Message is too large", Action: message.ActionQuarantine}}
}

// sizes checks top-level attachments (MIME parts with a file name).
func (c *Checker) sizes(p *message.Part) []message.Report {
	if p.Parent != -1 || p.Filename == "" {
		return nil
	}
	mk := func(what string, lim int64) []message.Report {
		return []message.Report{{Kind: message.KindSize, Part: p.Index, Engine: "content", Name: "attachment-size",
			Text: fmt.Sprintf("Size: %s: Attachment is too %s: %d bytes, limit %d", p.Filename, what, p.Size, lim),
			User: fmt.Sprintf("Attachment is too %s (%s)", what, p.Filename), Action: message.ActionReplace}}
	}
	if c.opts.MaxAttachmentSize >= 0 && p.Size > c.opts.MaxAttachmentSize {
		return mk("large", c.opts.MaxAttachmentSize)
	}
	if c.opts.MinAttachmentSize >= 0 && p.Size < c.opts.MinAttachmentSize {
		return mk("small", c.opts.MinAttachmentSize)
	}
	return nil
}

// encryptedTypes are content types of encrypted (not merely signed) mail.
var encryptedTypes = []string{"multipart/encrypted", "application/pgp-encrypted",
	"application/pkcs7-mime", "application/x-pkcs7-mime"}

// encrypted blocks encrypted messages when BlockEncrypted is set.
func (c *Checker) encrypted(msg *message.Message) []message.Report {
	if !c.opts.BlockEncrypted {
		return nil
	}
	hit := false
	lower := bytes.ToLower(msg.Header)
	for _, t := range encryptedTypes {
		if bytes.Contains(lower, []byte(t)) {
			hit = true
		}
	}
	for _, p := range msg.Parts {
		for _, t := range encryptedTypes {
			if p.Parent == -1 && p.DeclaredType == t {
				hit = true
			}
		}
	}
	if !hit {
		return nil
	}
	return []message.Report{{Kind: message.KindContent, Part: -1, Engine: "content", Name: "encrypted",
		Text: "Encrypted message", User: "Encrypted messages are not allowed", Action: message.ActionQuarantine}}
}

// dangerous runs the per-part content checks: partial and external
// bodies, QP denial of service, HTML.
func (c *Checker) dangerous(p *message.Part, so htmlsafe.Options) []message.Report {
	rep := func(name, text, user string, act message.Action) message.Report {
		return message.Report{Kind: message.KindContent, Part: p.Index, Engine: "content", Name: name,
			Text: text, User: user, Action: act}
	}
	var out []message.Report
	switch {
	case p.DeclaredType == "message/partial" && c.opts.BlockPartial:
		out = append(out, rep("partial", "Fragmented message (message/partial)",
			"Fragmented messages cannot be scanned and are not allowed", message.ActionReplace))
	case p.DeclaredType == "message/external-body" && c.opts.BlockExternalBody:
		out = append(out, rep("external-body", "External message body (message/external-body)",
			"External message bodies are not allowed", message.ActionReplace))
	}
	if isText(p) && c.opts.QPMaxBlankLine > 0 && longBlankLine(p.Data, c.opts.QPMaxBlankLine) {
		out = append(out, rep("qp-dos", fmt.Sprintf("Suspected QP denial-of-service attack: blank line over %d characters", c.opts.QPMaxBlankLine),
			"Suspected denial-of-service attack in message text", message.ActionReplace))
	}
	if p.DeclaredType == "text/html" || p.DetectedType == "text/html" {
		out = append(out, c.html(p, so, rep)...)
	}
	return out
}

func isText(p *message.Part) bool {
	return strings.HasPrefix(p.DeclaredType, "text/") || strings.HasPrefix(p.DetectedType, "text/")
}

// longBlankLine reports a line of only blanks longer than n: a run of
// n+1 blanks. It looks at the last byte of each window of n+1 first; a
// byte that is not blank rules out every window that holds it, so most
// of the data is skipped n+1 bytes at a time.
func longBlankLine(data []byte, n int) bool {
	if n < 0 {
		n = 0
	}
	start := 0 // the first byte of the window under test
	for start+n < len(data) {
		end := start + n
		if !isBlank(data[end]) {
			start = end + 1
			continue
		}
		i := end - 1
		for i >= start && isBlank(data[i]) {
			i--
		}
		if i < start {
			return true
		}
		start = i + 1
	}
	return false
}

func isBlank(b byte) bool { return b == ' ' || b == '\t' || b == '\r' }

// html reports dangerous tags of kinds set to "block" (the part is
// replaced); "disarm" is the rewrite's (disarm).
func (c *Checker) html(p *message.Part, so htmlsafe.Options, rep func(name, text, user string, act message.Action) message.Report) []message.Report {
	found, truncated := scanHTML(p.Data, c.opts.HTML.MaxTokens)
	var out []message.Report
	for _, f := range found {
		mode := map[string]htmlsafe.Mode{"iframe": so.IFrame, "form": so.Form,
			"script": so.Script, "object-codebase": so.ObjectCodebase}[f.Tag]
		if mode == HTMLBlock {
			out = append(out, rep("html-"+f.Tag, "Dangerous HTML: "+f.Sample+" tag",
				"HTML with "+f.Sample+" tags is not allowed", message.ActionReplace))
		}
	}
	if truncated {
		out = append(out, rep("html-limit", "HTML too large to check completely", "", message.ActionNone))
	}
	return out
}
