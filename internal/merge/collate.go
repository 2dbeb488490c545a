package merge

import (
	"bytes"
	"encoding/binary"
	"unicode"
	"unicode/utf8"
)

// strColl is how strings of one collation compare.
type strColl struct {
	fold foldMode
	// pad: PAD SPACE, trailing spaces do not matter ('a' = 'a ').
	pad bool
}

type foldMode uint8

const (
	foldNone   foldMode = iota // bytewise
	foldUTF8                   // utf8mb3/utf8mb4 text, general_ci weights
	foldLatin1                 // one byte a character, general_ci weights
	foldASCII                  // other character sets: only ASCII letters fold
)

// binaryColl is the binary collation (id 63): bytes, no padding.
var binaryColl = strColl{}

// defaultColl is used for strings that carry no collation (literals).
var defaultColl = strColl{fold: foldUTF8, pad: true}

// Collation ids (MySQL/MariaDB) that are bytewise: *_bin and *_cs.
var binIDs = map[uint16]bool{
	2: true, 20: true, 34: true, 42: true, 43: true, 46: true, 47: true, 49: true,
	50: true, 52: true, 53: true, 55: true, 58: true, 61: true, 62: true, 64: true,
	65: true, 66: true, 67: true, 68: true, 69: true, 70: true, 71: true, 72: true,
	73: true, 74: true, 75: true, 77: true, 78: true, 79: true, 80: true, 81: true,
	82: true, 83: true, 84: true, 85: true, 86: true, 87: true, 88: true, 89: true,
	90: true, 91: true, 93: true, 96: true, 98: true, 249: true,
}

// collationFor classifies a collation id from a column definition.
// Approximations: UCA collations (unicode_ci, 0900_ai_ci, uca1400) use
// utf8mb4_general_ci weights; other character sets fold ASCII letters only.
func collationFor(id uint16) strColl {
	if id == 63 {
		return binaryColl
	}
	pad := true
	base := id
	switch {
	case id >= 255 && id <= 323: // MySQL 8 *_0900_*: NO PAD
		pad = false
		switch {
		case id >= 278 && id <= 300, id == 303, id == 304, id == 307, id == 308, id == 309:
			return strColl{pad: false} // _as_cs and _bin
		}
		return strColl{fold: foldUTF8}
	case id >= 1024 && id < 2048: // MariaDB *_nopad_* = id of the PAD variant + 1024
		pad = false
		base = id - 1024
	}
	if binIDs[base] {
		return strColl{pad: pad}
	}
	switch {
	case base == 33 || base == 45 || base == 76 || (base >= 192 && base <= 247) || base >= 2048:
		return strColl{fold: foldUTF8, pad: pad}
	case base == 5 || base == 8 || base == 15 || base == 31 || base == 48 || base == 94:
		return strColl{fold: foldLatin1, pad: pad}
	}
	return strColl{fold: foldASCII, pad: pad}
}

// ciRange is one run of ciExceptions.
type ciRange struct {
	lo, hi uint16
	w      int32
	delta  uint8
}

// ciWeight is the utf8mb4_general_ci weight of r.
func ciWeight(r rune) rune {
	if r < 0x80 {
		if r >= 'a' && r <= 'z' {
			return r - ('a' - 'A')
		}
		return r
	}
	if r > 0xffff {
		return 0xfffd
	}
	lo, hi := 0, len(ciExceptions)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		e := &ciExceptions[m]
		switch {
		case r < rune(e.lo):
			hi = m
		case r > rune(e.hi):
			lo = m + 1
		default:
			if e.delta != 0 {
				return r + e.w
			}
			return e.w
		}
	}
	return unicode.ToUpper(r)
}

// invalidBase offsets the weight of a byte that is not valid UTF-8 past
// every code point, so that distinct invalid bytes stay distinct.
const invalidBase = 0x110000

// next returns the weight of the character at the start of s and its size.
func (c strColl) next(s []byte) (rune, int) {
	b := s[0]
	if b < 0x80 {
		if c.fold != foldNone && b >= 'a' && b <= 'z' {
			return rune(b - ('a' - 'A')), 1
		}
		return rune(b), 1
	}
	switch c.fold {
	case foldUTF8:
		r, n := utf8.DecodeRune(s)
		if r == utf8.RuneError && n <= 1 {
			return invalidBase + rune(b), 1
		}
		return ciWeight(r), n
	case foldLatin1:
		return ciWeight(rune(b)), 1
	}
	return rune(b), 1
}

// compare compares two strings under the collation.
func (c strColl) compare(a, b []byte) int {
	if c.fold == foldNone {
		if !c.pad {
			return bytes.Compare(a, b)
		}
		n := min(len(a), len(b))
		if r := bytes.Compare(a[:n], b[:n]); r != 0 {
			return r
		}
		return padRest(a[n:], b[n:], func(s []byte) (rune, int) { return rune(s[0]), 1 })
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		// ASCII fast path.
		x, y := a[i], b[j]
		if x < 0x80 && y < 0x80 {
			if x >= 'a' && x <= 'z' {
				x -= 'a' - 'A'
			}
			if y >= 'a' && y <= 'z' {
				y -= 'a' - 'A'
			}
			if x != y {
				if x < y {
					return -1
				}
				return 1
			}
			i++
			j++
			continue
		}
		wa, na := c.next(a[i:])
		wb, nb := c.next(b[j:])
		if wa != wb {
			if wa < wb {
				return -1
			}
			return 1
		}
		i += na
		j += nb
	}
	if !c.pad {
		switch {
		case i < len(a):
			return 1
		case j < len(b):
			return -1
		}
		return 0
	}
	return padRest(a[i:], b[j:], c.next)
}

// padRest compares the rest of the longer string with spaces (PAD SPACE);
// at most one of ra, rb is non-empty.
func padRest(ra, rb []byte, next func([]byte) (rune, int)) int {
	sign := 1
	if len(ra) == 0 {
		ra, sign = rb, -1
	}
	for len(ra) > 0 {
		w, n := next(ra)
		if w != ' ' {
			if w < ' ' {
				return -sign
			}
			return sign
		}
		ra = ra[n:]
	}
	return 0
}

// appendKey appends a form of s that is bytewise equal for strings the
// collation deems equal (for hashing group keys and DISTINCT rows).
func (c strColl) appendKey(dst, s []byte) []byte {
	if c.pad {
		s = bytes.TrimRight(s, " ")
	}
	if c.fold == foldNone {
		return append(dst, s...)
	}
	for i := 0; i < len(s); {
		w, n := c.next(s[i:])
		i += n
		if w < 0x80 {
			dst = append(dst, byte(w))
			continue
		}
		dst = binary.BigEndian.AppendUint32(append(dst, 0xff), uint32(w))
	}
	return dst
}
