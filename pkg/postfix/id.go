package postfix

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// safeChars is Postfix's alphabet for long queue IDs (safe_ultostr.c): no
// vowels, so that an ID never spells a word. The inode part uses the
// first 51 characters, leaving 'z' as the separator.
const safeChars = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"

// Long queue ID fields (mail_queue.h, MQID_LG_*).
const (
	lgSecBase  = 52
	lgSecPad   = 6
	lgUsecBase = 52
	lgUsecPad  = 4
	lgInumBase = 51
	lgInumSep  = 'z'
	shUsecPad  = 5
)

// MaxIDLen is the longest queue ID accepted (VALID_HOSTNAME_LEN).
const MaxIDLen = 255

// ShortID returns a queue ID in Postfix's short form, as mail_queue_enter
// makes it with enable_long_queue_ids = no: the microseconds of t as five
// upper-case hex digits, then the file's inode number in hex. A short ID
// that matches its file's inode is valid whatever enable_long_queue_ids
// says: postsuper -s renames only long IDs (when long IDs are off) and
// IDs whose inode part does not match.
func ShortID(t time.Time, inode uint64) string {
	return fmt.Sprintf("%05X%X", t.Nanosecond()/1000, inode)
}

// LongID returns a queue ID in Postfix's long form (enable_long_queue_ids
// = yes): seconds in base 52 (at least 6 digits), microseconds in base 52
// (4 digits), 'z', the inode number in base 51. Long IDs do not repeat;
// postsuper -s turns them into short ones when long IDs are off.
func LongID(t time.Time, inode uint64) string {
	return safeString(uint64(t.Unix()), lgSecBase, lgSecPad) +
		safeString(uint64(t.Nanosecond()/1000), lgUsecBase, lgUsecPad) +
		string(rune(lgInumSep)) + safeString(inode, lgInumBase, 0)
}

// safeString is safe_ultostr: v in base (at most 52) over safeChars,
// padded with '0' to pad digits.
func safeString(v uint64, base uint64, pad int) string {
	var b []byte
	for ; v != 0; v /= base {
		b = append(b, safeChars[v%base])
	}
	for len(b) < pad {
		b = append(b, '0')
	}
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

func safeValue(s string, base uint64) (uint64, bool) {
	var v uint64
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(safeChars[:base], s[i])
		if d < 0 || v > (1<<63)/base {
			return 0, false
		}
		v = v*base + uint64(d)
	}
	return v, true
}

// ValidID reports whether id can name a queue file (mail_queue_id_ok):
// 1 to MaxIDLen letters, digits and '_'. It is what keeps a file name from
// becoming a path.
func ValidID(id string) bool {
	if id == "" || len(id) > MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// IDInode returns the inode number an ID names, in either form
// (MQID_GET_INUM), and whether the ID is a long one.
func IDInode(id string) (inode uint64, long bool, ok bool) {
	if i := strings.LastIndexByte(id, lgInumSep); i >= lgSecPad+lgUsecPad {
		v, ok := safeValue(id[i+1:], lgInumBase)
		return v, true, ok && i+1 < len(id)
	}
	if len(id) <= shUsecPad {
		return 0, false, false
	}
	v, err := strconv.ParseUint(id[shUsecPad:], 16, 64)
	return v, false, err == nil
}

// hashKey is the part of an ID that names its hashed sub-directories:
// the ID itself, or for a long ID its microseconds as five hex digits
// (MQID_LG_GET_HEX_USEC), so that both forms hash alike.
func hashKey(id string) string {
	i := strings.LastIndexByte(id, lgInumSep)
	if i < lgSecPad+lgUsecPad {
		return id
	}
	us, ok := safeValue(id[i-lgUsecPad:i], lgUsecBase)
	if !ok {
		us = 0
	}
	return fmt.Sprintf("%05X", us)
}
