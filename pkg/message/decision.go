package message

// Replacement is a part to take out of the delivered message.
type Replacement struct {
	Part     int // index into Message.Parts of the leaf that was reported; -1: the whole body
	MIMEPath string
	Delete   bool // remove silently, no replacement text
	// Rename, in Decision.Rename, is the name the part is delivered
	// under: only its headers' file names change.
	Rename string
	Report Report
}

// Unpacking is a MIME part delivered as the files decoded from it.
type Unpacking struct {
	MIMEPath string
	Keep     bool  // keep the container beside its files ("add")
	Files    []int // indexes into Message.Parts, in order
}

// Decision is what becomes of a checked message (pkg/policy decides it;
// the pipeline carries it out).
type Decision struct {
	Verdict Verdict // clean, infected, blocked, spam, high-spam or silent
	// Deliver to the original recipients (after Replace, with headers).
	Deliver bool
	Replace []Replacement
	// Disarm lists the parts delivered rewritten in place (reports with
	// ActionDisarm): the cleaner disarms them (pkg/htmlsafe).
	Disarm []Replacement
	// Rename lists parts delivered under another name (rename rules); a
	// part that is also replaced is not renamed.
	Rename []Replacement
	// Unpack lists containers delivered as the files inside them (TNEF
	// winmail.dat: MailScanner's "Use TNEF Contents").
	Unpack []Unpacking
	// QuarantineWhole keeps the original message; QuarantineParts keeps
	// the replaced parts.
	QuarantineWhole  bool
	QuarantineParts  bool
	StoreSpam        bool     // spam "store": copy into the spam quarantine
	ForwardOnly      bool     // deliver to Forward instead of the original recipients
	Forward          []string // extra recipients of a copy
	Bounce           bool
	StripHTML        bool
	SpamAttachment   bool // wrap the original as message/rfc822
	NotifyRecipient  bool
	Headers          [][2]string // extra headers from spam "header" actions
	HeaderValue      string      // value of X-<Org>-QScan
	NotifyPostmaster bool        // a non-silent virus or block: postmaster report
	Reason           string      // why, for the log and the quarantine
	Notes            []string    // informational reports that changed nothing
	// Spam is the spam result the decision went by: the message's, leveled
	// with its own thresholds.
	Spam *SpamResult
}

// Verdict is what the checks made of a message, as the log line, the
// metrics and `qscan scan` say it.
type Verdict string

// The verdicts.
const (
	VerdictClean    Verdict = "clean"
	VerdictInfected Verdict = "infected"  // a virus: cleaned or kept back
	VerdictBlocked  Verdict = "blocked"   // a filename, filetype, size or content rule
	VerdictSpam     Verdict = "spam"      // spam, nothing worse
	VerdictHighSpam Verdict = "high-spam" // high-scoring spam, nothing worse
	VerdictSilent   Verdict = "silent"    // a silent virus: dropped without notice
	VerdictPoison   Verdict = "poison"    // failed max_attempts times: quarantined whole
	VerdictCorrupt  Verdict = "corrupt"   // a corrupt queue entry, set aside
	VerdictReport   Verdict = "report"    // a report qscan wrote itself
	VerdictError    Verdict = "error"     // could not be checked (`qscan scan`)
)

// Outcome is what became of a processed message: the action of its log
// line.
type Outcome string

// The outcomes.
const (
	OutcomeDelivered   Outcome = "delivered"   // went out unchanged but for headers
	OutcomeCleaned     Outcome = "cleaned"     // went out with parts replaced by warnings
	OutcomeHeld        Outcome = "held"        // left in the incoming queue for a retry
	OutcomeQuarantined Outcome = "quarantined" // kept back whole (verdict poison: failed max_attempts)
	OutcomeSetAside    Outcome = "set-aside"   // a corrupt queue entry moved to the quarantine
	OutcomeReleased    Outcome = "released"    // released from the quarantine to the outgoing queue
	OutcomeQueued      Outcome = "queued"      // a report qscan wrote, queued for delivery (verdict report)
)
