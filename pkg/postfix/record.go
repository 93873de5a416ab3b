// Package postfix reads and writes Postfix 3.x queue files, lists, locks
// and publishes them in Postfix queue directories, and makes Postfix queue
// IDs. It is a plain library that knows nothing of scanning, like
// pkg/sendmail.
//
// A Postfix queue file is a sequence of typed records: one type byte, the
// data length in 7-bit groups (low group first, the high bit set on every
// byte but the last), then the data. The records come in three segments:
// the envelope (size record C first, then T, A, S, O, R ... up to M), the
// message content (N and L text records up to X) and the extracted segment
// (up to the end marker E). Pointer records (p) jump elsewhere in the file,
// which is how Postfix's cleanup edits a file in place for a milter.
//
// File keeps the bytes it was parsed from: written back unchanged it gives
// the same bytes. An edited File is written out flat, without pointers,
// with a new size record; the queue manager reads such a file as it reads
// any file cleanup wrote for a message without milters.
package postfix

import (
	"errors"
	"fmt"
)

// Record types, as in Postfix's src/global/rec_type.h.
const (
	RecSize      = 'C' // first record: content size, data offset, recipient count, qmgr flags, content length, smtputf8
	RecTime      = 'T' // arrival time "sec usec"
	RecCTime     = 'c' // create time (old form; now A create_time=)
	RecFull      = 'F' // full name
	RecInsp      = 'I' // inspector transport
	RecFilt      = 'L' // content filter (envelope segment); the same letter as RecCont
	RecFrom      = 'S' // sender
	RecDone      = 'D' // delivered recipient
	RecRcpt      = 'R' // recipient to deliver to
	RecOrcp      = 'O' // original recipient
	RecDrcp      = '/' // canceled recipient
	RecWarn      = 'W' // next delay warning time
	RecAttr      = 'A' // named attribute name=value
	RecKill      = 'K' // killed record
	RecRdr       = '>' // redirect target
	RecFlgs      = 'f' // cleanup processing flags
	RecDelay     = 'd' // cleanup delay upon arrival
	RecMesg      = 'M' // start of the content segment
	RecCont      = 'L' // part of a long text line (no line end)
	RecNorm      = 'N' // text line (a line end follows it)
	RecDtxt      = 'w' // padding
	RecXtra      = 'X' // start of the extracted segment
	RecRrto      = 'r' // return-receipt, from headers
	RecErto      = 'e' // errors-to, from headers
	RecPrio      = 'P' // priority
	RecPtr       = 'p' // pointer to another offset of the file
	RecVerp      = 'V' // VERP delimiters
	RecDSNRet    = '<' // DSN RET
	RecDSNEnvID  = 'i' // DSN ENVID
	RecDSNOrcpt  = 'o' // DSN ORCPT
	RecDSNNotify = 'n' // DSN NOTIFY
	RecMiltCount = 'm' // milter count
	RecEnd       = 'E' // end marker
)

// The record types each segment may hold (rec_type.h: REC_TYPE_ENVELOPE,
// REC_TYPE_CONTENT, REC_TYPE_EXTRACT), pointers and padding everywhere.
const (
	envelopeTypes = "MCTcFILSDRO/WVA>K<ion" + "pwfdm"
	contentTypes  = "XLNw" + "p"
	extractTypes  = "EDRO/PreAFIL>Kon" + "pw"
)

// Sentinel errors. Callers test them with errors.Is.
var (
	ErrFormat     = errors.New("postfix: malformed queue file")
	ErrTruncated  = errors.New("postfix: queue file ends before its end record")
	ErrTooLarge   = errors.New("postfix: queue file larger than the limit")
	ErrRecordSize = errors.New("postfix: record longer than the limit")
	ErrTooMany    = errors.New("postfix: more records than the limit")
	ErrNoSender   = errors.New("postfix: queue file has no sender record")
)

// maxLenBytes bounds the length field: Postfix reads at most 32 bits of it.
const maxLenBytes = 5

// readRecord decodes the record at off in data. It returns the type, the
// data and the offset of the next record.
func readRecord(data []byte, off int, maxLen int) (typ byte, val []byte, next int, err error) {
	if off >= len(data) {
		return 0, nil, off, fmt.Errorf("offset %d: %w", off, ErrTruncated)
	}
	typ = data[off]
	p := off + 1
	n := 0
	for shift := 0; ; shift += 7 {
		if p-off-1 >= maxLenBytes {
			return 0, nil, off, fmt.Errorf("offset %d: %w: too many length bytes", off, ErrFormat)
		}
		if p >= len(data) {
			return 0, nil, off, fmt.Errorf("offset %d: %w", off, ErrTruncated)
		}
		b := data[p]
		p++
		n |= int(b&0x7f) << shift
		if b&0x80 == 0 {
			break
		}
	}
	if n < 0 || n > maxLen {
		return 0, nil, off, fmt.Errorf("offset %d type %q: %w (%d bytes)", off, typ, ErrRecordSize, maxLen)
	}
	if len(data)-p < n {
		return 0, nil, off, fmt.Errorf("offset %d: %w", off, ErrTruncated)
	}
	return typ, data[p : p+n : p+n], p + n, nil
}

// appendRecord appends one record as Postfix's rec_put writes it.
func appendRecord(b []byte, typ byte, val []byte) []byte {
	b = append(b, typ)
	n := len(val)
	for {
		c := byte(n & 0x7f)
		n >>= 7
		if n != 0 {
			c |= 0x80
		}
		b = append(b, c)
		if n == 0 {
			break
		}
	}
	return append(b, val...)
}

// recordLen is the encoded size of a record holding n data bytes.
func recordLen(n int) int {
	l := 2 // type and the first length byte
	for m := n >> 7; m != 0; m >>= 7 {
		l++
	}
	return l + n
}
