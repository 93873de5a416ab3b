package message

// Replacement is a part to take out of the delivered message.
type Replacement struct {
	Part     int // index into Message.Parts of the leaf that was reported; -1: the whole body
	MIMEPath string
	Delete   bool // remove silently, no replacement text
	Report   Report
}

// Decision is what becomes of a checked message (pkg/policy decides it;
// the pipeline carries it out).
type Decision struct {
	Verdict string // clean, infected, blocked, spam, high-spam, silent
	// Deliver to the original recipients (after Replace, with headers).
	Deliver bool
	Replace []Replacement
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
