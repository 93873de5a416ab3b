// Package ruleset parses and evaluates MailScanner-style per-message
// rulesets: files of "Direction pattern [and Direction pattern] value" lines
// that give a configuration option a different value for different senders,
// recipients, client addresses or viruses.
//
// # File syntax
//
// One rule per line; blank lines are ignored and "#" starts a comment when it
// begins the line or follows white space. Fields are separated by white space:
//
//	Direction  Pattern  Value...
//	Direction  Pattern  and  Direction  Pattern  Value...
//
// Direction is one of From, To, FromOrTo, FromAndTo or Virus; case and
// punctuation are ignored ("From:", "from", "FROM:" are the same). Unlike
// MailScanner, which guesses from substrings, any other word is an error, so
// a typo is reported by lint instead of silently changing the meaning.
// At most one "and" clause.
//
// # Matching a message
//
// A From side matches the envelope sender (or, for client patterns, the
// connecting client); a To side matches if any recipient matches; FromOrTo
// if either does; FromAndTo if the sender and every recipient match (as
// MailScanner's "b" rules); Virus if any virus name or report text matches.
// The two sides of an "and" rule are checked independently, so in
// "From: a and To: b" the To side is satisfied by any recipient.
//
// Ruleset.Value is MailScanner's "First" evaluation (first matching rule in
// file order, else the default); Ruleset.All its "All" evaluation (every
// matching rule's value, else the default). Ruleset.AnyRecipient evaluates
// the first-match value once per recipient, which is the safer reading of
// "yes if any recipient says yes" for options such as virus scanning.
//
// The value is the rest of the line with surrounding white space removed.
// It may contain spaces; quotes are kept as written, and %vars%, ${ENV} and
// \n are left for the caller to expand.
//
// # Defaults
//
// A single-clause rule whose pattern is "default", "*" or "*@*" (any
// direction), or a line "default value", sets the ruleset's default value:
// it is stored apart from the rules and used only when no rule matches, so
// its position in the file does not matter (as in MailScanner). A second
// default is an error.
//
// # Patterns
//
// Address patterns (From and To directions) are compared with the envelope
// address case-insensitively, as globs where "*" matches any run of
// characters, anchored at both ends; one trailing dot on the address is
// ignored ("user@example.com." matches "user@example.com"). Shorthands:
//
//	example.com       = *@example.com  (that domain only, not its subdomains)
//	*.example.com     = *@*.example.com (subdomains only, not example.com)
//	@example.com      = *@example.com
//	user@             = user@*
//	/regex/ or /regex/i  a regular expression (unanchored, always case-insensitive)
//
// A regular expression whose body contains no ASCII letter is matched against
// the client IP address instead of the sender (MailScanner's convention, e.g.
// /^192\.168\.13[4567]\./). Regular expressions use Go's RE2 syntax; the Perl
// constructs RE2 lacks (look-around, back-references, atomic groups,
// possessive quantifiers, \G) are reported as errors.
//
// Client address patterns (From, FromOrTo and the From side of FromAndTo):
//
//	192.168.21. or 192.168.21   octet prefix (= 192.168.21.0/24)
//	192.168.21.7                one address
//	192.168.21.0/24             CIDR
//	192.168.21.0/255.255.255.0  network and mask
//	10.0.0.1-10.0.0.200         inclusive range
//	2001:db8:  2001:db8::/32    IPv6 group prefix, IPv6 CIDR
//
// A complete address (IPv4 or IPv6, such as "2001:db8::") matches that one
// address; write a CIDR for an IPv6 network. IPv4-mapped IPv6 client
// addresses are unmapped before comparison.
//
// Host patterns match the client's reverse-DNS name, which the caller looks up
// and puts in Msg.ClientHost (see Ruleset.UsesHost):
//
//	host:example.com            the name or any name ending in .example.com
//	host:mail*.example.com      glob on the name or a label-aligned suffix
//	host:/regex/                regular expression on the name
//	host:                       the client has no reverse-DNS name
//	host:_SPOOFED_              the name does not resolve back to the client
//	host-nocheck:...            as host:, without forward confirmation
//
// Virus patterns are globs matched case-insensitively anywhere in each of the
// message's virus names or report texts ("sobig" matches "W32/Sobig.F"), or
// /regex/.
//
// Deliberate differences from MailScanner, each of which would otherwise
// hide a mistake: "192.168.21" is an octet prefix (MailScanner's string
// prefix also matches 192.168.210.x); a word made of hex digits and dots
// ("dead.be") is a domain, not an IPv6 prefix; "#" inside a word is not a
// comment; an unknown direction or bad pattern is an error, not a warning
// and a rule that never matches.
//
// A pattern that is an absolute file name (starts with "/", is not a regular
// expression) names a file of patterns, one per line, read through
// Options.ReadFile; pattern files may nest MaxNesting deep.
package ruleset

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"strings"
)

// Sentinel errors; a LineError wraps one of them.
var (
	ErrSyntax           = errors.New("ruleset: syntax error")
	ErrUnknownDirection = errors.New("ruleset: unknown direction")
	ErrPattern          = errors.New("ruleset: bad pattern")
	ErrDuplicateDefault = errors.New("ruleset: duplicate default")
	ErrLimit            = errors.New("ruleset: limit exceeded")
	ErrValue            = errors.New("ruleset: bad value")
)

// Default limits (see Options).
const (
	DefaultMaxFileSize   = 1 << 20
	DefaultMaxRules      = 10000
	DefaultMaxLineLength = 4096
	DefaultMaxNesting    = 4
	DefaultMaxAddress    = 1024
)

// Options bound what a ruleset file may hold. Zero fields take the defaults.
type Options struct {
	// MaxFileSize is the largest ruleset or pattern file accepted, in bytes.
	// Default 1 MiB.
	MaxFileSize int64
	// MaxRules is the largest number of rules (plus patterns read from
	// pattern files) in one ruleset. Default 10000.
	MaxRules int
	// MaxLineLength is the longest line accepted, in bytes. Default 4096.
	MaxLineLength int
	// MaxNesting is how deep pattern files may include pattern files.
	// Default 4, as MailScanner.
	MaxNesting int
	// MaxAddress is how many bytes of an address, host name or virus text
	// are compared; longer inputs are truncated before matching, which
	// bounds the work per message. Default 1024.
	MaxAddress int
	// ReadFile reads pattern files. Nil means os.ReadFile for ParseFile
	// and "pattern files not allowed" for Parse.
	ReadFile func(name string) ([]byte, error)
}

func (o Options) withDefaults() Options {
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	if o.MaxRules <= 0 {
		o.MaxRules = DefaultMaxRules
	}
	if o.MaxLineLength <= 0 {
		o.MaxLineLength = DefaultMaxLineLength
	}
	if o.MaxNesting <= 0 {
		o.MaxNesting = DefaultMaxNesting
	}
	if o.MaxAddress <= 0 {
		o.MaxAddress = DefaultMaxAddress
	}
	return o
}

// Msg is what a ruleset looks at in one message.
type Msg struct {
	From       string     // envelope sender, bare or in <>; "" for the null sender
	To         []string   // envelope recipients
	ClientIP   netip.Addr // the connecting client; zero if unknown
	Virus      []string   // virus names and problem report texts
	ClientHost string     // reverse-DNS name of ClientIP, "" if none
	// HostVerified says ClientHost resolves back to ClientIP.
	HostVerified bool
}

// LineError is one problem in a ruleset file, printed as "FILE:LINE: text".
type LineError struct {
	File string
	Line int
	Text string
	Err  error // one of the package's sentinel errors
}

func (e *LineError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Text)
}

func (e *LineError) Unwrap() error { return e.Err }

// Errors is every problem found in a ruleset, in file order. It is what
// Parse and ParseFile return when anything is wrong.
type Errors []*LineError

func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap lets errors.Is and errors.As look at each problem.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Ruleset is a parsed ruleset file. It is immutable and safe for concurrent
// use.
type Ruleset struct {
	name     string
	rules    []rule
	def      *rule // the default line, nil if none
	usesHost bool
	maxAddr  int
}

// Name is the file name the ruleset was parsed from.
func (r *Ruleset) Name() string { return r.name }

// Len is the number of rules, not counting the default.
func (r *Ruleset) Len() int { return len(r.rules) }

// Default returns the default value and whether the ruleset has one.
func (r *Ruleset) Default() (string, bool) {
	if r.def == nil {
		return "", false
	}
	return r.def.value, true
}

// UsesHost reports whether any rule needs Msg.ClientHost, so the caller
// only does reverse-DNS lookups when they matter.
func (r *Ruleset) UsesHost() bool { return r.usesHost }

// CheckValues calls check on every rule's value (and the default) and
// returns every failure as a FILE:LINE error wrapping ErrValue, or nil.
// Use it to insist that a yes/no option's ruleset only says yes or no.
func (r *Ruleset) CheckValues(check func(value string) error) error {
	var errs Errors
	all := r.rules
	if r.def != nil {
		all = append(all[:len(all):len(all)], *r.def)
	}
	for _, ru := range all {
		if err := check(ru.value); err != nil {
			errs = append(errs, &LineError{File: ru.file, Line: ru.line,
				Text: fmt.Sprintf("value %q: %v", ru.value, err), Err: ErrValue})
		}
	}
	if len(errs) == 0 {
		return nil
	}
	sortErrors(errs)
	return errs
}

// ParseFile reads and parses the ruleset file at path.
func ParseFile(path string, opt Options) (*Ruleset, error) {
	opt = opt.withDefaults()
	if opt.ReadFile == nil {
		opt.ReadFile = os.ReadFile
	}
	data, err := readBounded(path, opt)
	if err != nil {
		return nil, err
	}
	return Parse(path, data, opt)
}

func readBounded(path string, opt Options) ([]byte, error) {
	if opt.ReadFile == nil {
		return nil, fmt.Errorf("ruleset read %s: pattern files not allowed here", path)
	}
	// Stat first when the file is local, so a huge file is never read whole.
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() && st.Size() > opt.MaxFileSize {
		return nil, fmt.Errorf("ruleset read %s: %d bytes, more than %d: %w", path, st.Size(), opt.MaxFileSize, ErrLimit)
	}
	data, err := opt.ReadFile(path)
	if err != nil {
		// The os error repeats the path; keep only its cause.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("ruleset read %s: %w", path, err)
	}
	if int64(len(data)) > opt.MaxFileSize {
		return nil, fmt.Errorf("ruleset read %s: %d bytes, more than %d: %w", path, len(data), opt.MaxFileSize, ErrLimit)
	}
	return data, nil
}
