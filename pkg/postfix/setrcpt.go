package postfix

import (
	"fmt"
	"strconv"
	"strings"
)

// rcptTypes are the records that make a recipient: its address (to do,
// done, canceled), original address and DSN data.
const rcptTypes = "RD/Oon"

// SetRecipients replaces every recipient of the message (a copy going to
// other addresses: a forward, a quarantine release), those extracted from
// the header included, by rs, written in the envelope segment as cleanup
// writes them (O, o, n before each R). The file is written out flat.
func (f *File) SetRecipients(rs []NewRcpt) error {
	var recs []Record
	for _, r := range rs {
		if r.Addr == "" || strings.ContainsAny(r.Addr+r.Orig+r.DSNOrcpt, "\r\n\x00") {
			return fmt.Errorf("set recipients: %w: %q", ErrFormat, r.Addr)
		}
		if r.Orig != "" {
			recs = append(recs, Record{Type: RecOrcp, Data: []byte(r.Orig), Off: -1})
		}
		if r.DSNOrcpt != "" {
			recs = append(recs, Record{Type: RecDSNOrcpt, Data: []byte(r.DSNOrcpt), Off: -1})
		}
		if r.Notify != 0 {
			recs = append(recs, Record{Type: RecDSNNotify, Data: []byte(strconv.Itoa(r.Notify)), Off: -1})
		}
		recs = append(recs, Record{Type: RecRcpt, Data: []byte(r.Addr), Off: -1})
	}
	keep := func(in []Record) []Record {
		var out []Record
		for _, r := range in {
			if !strings.ContainsRune(rcptTypes, rune(r.Type)) {
				out = append(out, r)
			}
		}
		return out
	}
	f.env = append(keep(f.env), recs...)
	f.extra = keep(f.extra)
	f.envelope = makeEnvelope(f.env, f.extra)
	f.dirty = true
	return nil
}
