// Package explode turns a raw RFC 822 message into the flat list of parts
// that the checks look at: decoded MIME leaves, files hidden in text bodies
// (uuencode, BinHex), TNEF attachments and archive members, all under limits.
package explode

import (
	"context"
	"fmt"

	"github.com/qscan/qscan/pkg/message"
)

// Limits bounds the work Explode does for one message. Every field has its
// default in DefaultLimits; a zero or negative value there means "use the
// default" when passed through Limits.normalize.
type Limits struct {
	MaxArchiveDepth       int   // archives inside archives (default 8)
	MaxArchiveMembers     int   // members per archive (default 1000)
	MaxParts              int   // parts of every kind per message: nested archives multiply members (default 5000)
	MaxExpandedBytes      int64 // bytes produced by all decoders per message (default 200 MiB)
	MaxRatio              int64 // expansion ratio, for members > RatioMinBytes (default 100)
	RatioMinBytes         int64 // members up to this size are exempt from MaxRatio (default 1 MiB)
	MaxMIMEParts          int   // MIME parts per message, nested messages included (default 1000)
	MaxMIMEDepth          int   // multipart and message/rfc822 nesting (default 50)
	MaxHeaderBytes        int64 // one header block, top-level or part (default 1 MiB)
	MaxHeaderParams       int   // parameters of one Content-Type or Content-Disposition (default 100)
	MaxPartBytes          int64 // one decoded part or archive member (default 100 MiB)
	MaxUnclosedMultiparts int   // nested multiparts without close delimiter (default 8)
	// MaxMIMEReadings caps the other readings of ambiguous MIME entities
	// that are exploded and scanned, per message (default 16); past it
	// the message is held ("too many MIME readings").
	MaxMIMEReadings       int
	AllowPasswordArchives bool // encrypted archives pass with a report (default true)
	// AllowUnopenedArchives lets containers qscan cannot open (cab, xar,
	// disk images ...) pass with a report; by default they are taken out
	// (default false).
	AllowUnopenedArchives bool
	// SevenZip opens the archives the Go readers cannot (ARJ, CAB, CHM,
	// disk images, Deflate64 zips ...) under the same limits; off by
	// default (no Path).
	SevenZip SevenZip
	// UnpackOLE takes the files embedded in Microsoft documents (OLE2
	// Ole10Native packages) out to be checked (MailScanner's "Unpack
	// Microsoft Documents"; config default true).
	UnpackOLE bool
}

// DefaultLimits returns the documented defaults; they are the values
// etc/qscan.toml shows under [limits].
func DefaultLimits() Limits {
	return Limits{
		MaxArchiveDepth:       8,
		MaxArchiveMembers:     1000,
		MaxParts:              5000,
		MaxExpandedBytes:      200 << 20,
		MaxRatio:              100,
		RatioMinBytes:         1 << 20,
		MaxMIMEParts:          1000,
		MaxMIMEDepth:          50,
		MaxHeaderBytes:        1 << 20,
		MaxHeaderParams:       100,
		MaxPartBytes:          100 << 20,
		MaxUnclosedMultiparts: 8,
		MaxMIMEReadings:       16,
		AllowPasswordArchives: true,
		UnpackOLE:             true,
	}
}

// normalize replaces unset (zero or negative) numeric fields by defaults, so
// that a partly filled Limits never means "unlimited".
func (l Limits) normalize() Limits {
	d := DefaultLimits()
	setInt := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set64 := func(v *int64, def int64) {
		if *v <= 0 {
			*v = def
		}
	}
	setInt(&l.MaxArchiveDepth, d.MaxArchiveDepth)
	setInt(&l.MaxArchiveMembers, d.MaxArchiveMembers)
	setInt(&l.MaxParts, d.MaxParts)
	set64(&l.MaxExpandedBytes, d.MaxExpandedBytes)
	set64(&l.MaxRatio, d.MaxRatio)
	set64(&l.RatioMinBytes, d.RatioMinBytes)
	setInt(&l.MaxMIMEParts, d.MaxMIMEParts)
	setInt(&l.MaxMIMEDepth, d.MaxMIMEDepth)
	set64(&l.MaxHeaderBytes, d.MaxHeaderBytes)
	setInt(&l.MaxHeaderParams, d.MaxHeaderParams)
	set64(&l.MaxPartBytes, d.MaxPartBytes)
	setInt(&l.MaxUnclosedMultiparts, d.MaxUnclosedMultiparts)
	setInt(&l.MaxMIMEReadings, d.MaxMIMEReadings)
	return l
}

// Result is what Explode found in one message.
type Result struct {
	Parts   []message.Part
	Reports []message.Report
	Stats   Stats
}

// Stats summarises the work done, for logs and metrics.
type Stats struct {
	MIMEParts     int   // MIME leaves seen (nested messages included)
	MIMEDepth     int   // deepest MIME nesting seen
	ArchiveDepth  int   // deepest archive nesting seen
	ExpandedBytes int64 // bytes produced by the decoders (transfer encodings, embedded files, archives)
}

// Report texts. They are stable: policy, tests and operators match on the
// part before the first colon.
const (
	TextArchiveDepth   = "archive nested too deeply"
	TextArchiveExpand  = "archive expands too much"
	TextExpandLimit    = "expansion limit exceeded"
	TextArchiveMembers = "too many archive members"
	TextParts          = "too many parts in the message"
	TextMIMEParts      = "too many MIME parts"
	TextMIMEDepth      = "MIME nested too deeply"
	TextHeaderSize     = "header too large"
	TextHeaderParams   = "too many header parameters"
	TextPassword       = "password-protected archive"
	TextUnreadable     = "unreadable archive"
	TextUnsupported    = "archive could not be opened"
	TextAmbiguous      = "ambiguous MIME structure"
	TextAmbiguousCTE   = "ambiguous transfer encoding"
	TextReadings       = "too many MIME readings"
	TextMalformed      = "malformed MIME structure"
	TextUnparsable     = "unparsable message"
	TextMacros         = "document contains macros"
	TextDuplicate      = "duplicate header"
	TextTNEF           = "unreadable TNEF attachment"
)

// engine is the Report.Engine of everything this package reports.
const engine = "explode"

// Explode parses raw (a whole message, header and body, LF or CRLF line
// ends) and returns its parts. Problems with the message itself, including
// every exceeded limit, are reports in the result; the error is only for
// internal failures.
func Explode(raw []byte, lim Limits) (res *Result, err error) {
	return ExplodeContext(context.Background(), raw, lim)
}

// ExplodeContext is Explode that stops when ctx ends (the message's time
// limit): it returns what it found so far and an error wrapping ctx's.
// The MIME walk, archive members, decoded files and decompressed streams
// are checked against ctx as they go, so an abandoned check stops burning
// CPU soon after its time is up.
func ExplodeContext(ctx context.Context, raw []byte, lim Limits) (res *Result, err error) {
	x := &exploder{ctx: ctx, lim: lim.normalize(), res: &Result{}, scope: scope{parent: -1}}
	defer func() {
		// A bug in a decoder must not take the scanner down; the caller
		// treats an error as "retry later", which is the safe side.
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("explode message: internal panic: %v", r)
		}
	}()
	x.message(raw, "", 0, true)
	if x.stopped != nil {
		return x.res, fmt.Errorf("explode message: %w", x.stopped)
	}
	return x.res, nil
}

// exploder carries the state of one Explode call: limits and the budgets
// that are shared by the whole message.
type exploder struct {
	// ctx ends the work (see done); stopped is its error once seen.
	ctx      context.Context
	stopped  error
	lim      Limits
	res      *Result
	expanded int64 // bytes the decoders produced so far (see budget.go)
	stopMIME bool  // a MIME limit was hit: no more MIME parts are added
	// stopArchives is set by the first expansion limit: no more archives
	// are opened in this message.
	stopArchives bool
	// scope places the MIME leaves being walked; mimeDepth is the MIME
	// nesting of the part being inspected.
	scope     scope
	mimeDepth int
	// readingsUsed counts the other readings of ambiguous entities
	// exploded so far; readingTop says the message about to be walked is
	// one (see readings.go).
	readingsUsed int
	readingTop   bool
}

// scope places the MIME leaves of the message being walked: those of the
// message itself (parent -1), or those of a message found inside a part
// (a forwarded .eml, one in a zip), which become members of that part.
type scope struct {
	parent   int    // the part holding the message, -1 at top level
	path     string // its Path
	mimePath string // its MIMEPath
	depth    int    // container depth of the leaves
}

// done reports whether the caller gave up (ctx ended): every loop of
// the walk asks it before the next part, member or decoded file.
func (x *exploder) done() bool {
	if x.stopped == nil {
		x.stopped = x.ctx.Err()
	}
	return x.stopped != nil
}

// report appends a report.
func (x *exploder) report(kind message.ReportKind, part int, name, text string, act message.Action) {
	x.res.Reports = append(x.res.Reports, message.Report{
		Kind: kind, Part: part, Engine: engine, Name: name, Text: text, Action: act,
	})
}

// addPart appends p with its index set and returns the index.
func (x *exploder) addPart(p message.Part) int {
	p.Index = len(x.res.Parts)
	x.res.Parts = append(x.res.Parts, p)
	return p.Index
}
