package merge

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"
	"unsafe"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// cmpKind is how the text values of one column compare.
type cmpKind uint8

const (
	cmpBytes cmpKind = iota // bytewise: DATE, DATETIME, TIMESTAMP, BIT, unknown
	cmpNum                  // integers and decimals, exactly, from their text
	cmpFloat                // FLOAT, DOUBLE
	cmpTime                 // TIME (signed, hours may exceed 99)
	cmpStr                  // strings, by collation
)

// colSpec describes one column for comparing, hashing and decoding.
type colSpec struct {
	kind     cmpKind
	coll     strColl
	typ      byte
	unsigned bool
	decimals int32
	charset  uint16
}

// specFor derives the spec of a column definition.
func specFor(c *protocol.ColumnDef) colSpec {
	s := colSpec{typ: c.Type, unsigned: c.Flags&protocol.FlagUnsigned != 0, decimals: int32(c.Decimals), charset: c.Charset}
	switch c.Type {
	case protocol.TypeTiny, protocol.TypeShort, protocol.TypeLong, protocol.TypeLongLong,
		protocol.TypeInt24, protocol.TypeYear, protocol.TypeDecimal, protocol.TypeNewDecimal:
		s.kind = cmpNum
	case protocol.TypeFloat, protocol.TypeDouble:
		s.kind = cmpFloat
	case protocol.TypeTime:
		s.kind = cmpTime
	case protocol.TypeDate, protocol.TypeNewDate, protocol.TypeDateTime, protocol.TypeTimestamp,
		protocol.TypeBit, protocol.TypeNull:
		s.kind = cmpBytes
	default:
		s.kind = cmpStr
		s.coll = collationFor(c.Charset)
	}
	return s
}

func (s *colSpec) isInt() bool {
	switch s.typ {
	case protocol.TypeTiny, protocol.TypeShort, protocol.TypeLong, protocol.TypeLongLong,
		protocol.TypeInt24, protocol.TypeYear:
		return true
	}
	return false
}

func (s *colSpec) isDecimal() bool {
	return s.typ == protocol.TypeDecimal || s.typ == protocol.TypeNewDecimal
}

// compare orders two non-NULL values of the column.
func (s *colSpec) compare(a, b []byte) int {
	switch s.kind {
	case cmpNum:
		if r, ok := cmpNumText(a, b); ok {
			return r
		}
		return cmpFloat64(parseFloatPrefix(a), parseFloatPrefix(b))
	case cmpFloat:
		return cmpFloat64(atof(a), atof(b))
	case cmpTime:
		x, ok1 := parseTimeMicros(a)
		y, ok2 := parseTimeMicros(b)
		if ok1 && ok2 {
			return cmpInt64(x, y)
		}
	case cmpStr:
		return s.coll.compare(a, b)
	}
	return bytes.Compare(a, b)
}

// appendKey appends a form of v that is bytewise equal exactly for values
// compare deems equal. Keys of several columns are made self-delimiting by
// appendKeyCol.
func (s *colSpec) appendKey(dst, v []byte) []byte {
	switch s.kind {
	case cmpNum:
		if neg, ip, fp, ok := splitNum(v); ok {
			if neg && (len(ip) > 0 || len(fp) > 0) {
				dst = append(dst, '-')
			}
			dst = append(dst, ip...)
			dst = append(dst, '.')
			return append(dst, fp...)
		}
		return binary.BigEndian.AppendUint64(append(dst, 'f'), floatKey(parseFloatPrefix(v)))
	case cmpFloat:
		return binary.BigEndian.AppendUint64(dst, floatKey(atof(v)))
	case cmpTime:
		if t, ok := parseTimeMicros(v); ok {
			return binary.BigEndian.AppendUint64(append(dst, 't'), uint64(t))
		}
	case cmpStr:
		return s.coll.appendKey(dst, v)
	}
	return append(dst, v...)
}

// appendKeyCol appends one column's key, delimited: NULL is 0x00, a value is
// 0x01, its 4-byte key length and the key.
func (s *colSpec) appendKeyCol(dst, v []byte, null bool) []byte {
	if null {
		return append(dst, 0)
	}
	dst = append(dst, 1, 0, 0, 0, 0)
	at := len(dst)
	dst = s.appendKey(dst, v)
	binary.BigEndian.PutUint32(dst[at-4:], uint32(len(dst)-at))
	return dst
}

func floatKey(f float64) uint64 {
	if f == 0 {
		f = 0 // -0 groups with 0
	}
	return math.Float64bits(f)
}

func cmpFloat64(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// atof parses a DOUBLE's text without allocating.
func atof(b []byte) float64 {
	if len(b) == 0 {
		return 0
	}
	f, err := strconv.ParseFloat(bstr(b), 64)
	if err != nil {
		return parseFloatPrefix(b)
	}
	return f
}

// bstr views b as a string without copying, for parsing calls that do not
// keep their argument.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// splitNum splits the text of an integer or decimal into its sign, its
// integer digits without leading zeros and its fraction digits without
// trailing zeros. ok is false when v is not of that form.
func splitNum(v []byte) (neg bool, ip, fp []byte, ok bool) {
	if len(v) > 0 && (v[0] == '-' || v[0] == '+') {
		neg = v[0] == '-'
		v = v[1:]
	}
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	ip = v[:i]
	if i < len(v) {
		if v[i] != '.' {
			return false, nil, nil, false
		}
		fp = v[i+1:]
		for _, c := range fp {
			if c < '0' || c > '9' {
				return false, nil, nil, false
			}
		}
		if i == 0 && len(fp) == 0 {
			return false, nil, nil, false
		}
	} else if i == 0 {
		return false, nil, nil, false
	}
	for len(ip) > 0 && ip[0] == '0' {
		ip = ip[1:]
	}
	for len(fp) > 0 && fp[len(fp)-1] == '0' {
		fp = fp[:len(fp)-1]
	}
	return neg, ip, fp, true
}

// cmpNumText compares integer or decimal texts exactly without parsing
// them into numbers.
func cmpNumText(a, b []byte) (int, bool) {
	an, ai, af, ok1 := splitNum(a)
	bn, bi, bf, ok2 := splitNum(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	az := len(ai) == 0 && len(af) == 0
	bz := len(bi) == 0 && len(bf) == 0
	if az {
		an = false
	}
	if bz {
		bn = false
	}
	if an != bn {
		if an {
			return -1, true
		}
		return 1, true
	}
	var r int
	switch {
	case len(ai) != len(bi):
		r = cmpInt64(int64(len(ai)), int64(len(bi)))
	default:
		r = bytes.Compare(ai, bi)
		if r == 0 {
			r = bytes.Compare(af, bf)
		}
	}
	if an {
		r = -r
	}
	return r, true
}

// parseTimeMicros parses a TIME text "[-][D ]hhh:mm:ss[.ffffff]" into
// signed microseconds.
func parseTimeMicros(v []byte) (int64, bool) {
	neg := false
	if len(v) > 0 && v[0] == '-' {
		neg = true
		v = v[1:]
	}
	var parts [3]int64
	n := 0
	i := 0
	var days int64
	for n < 3 {
		start := i
		var x int64
		for i < len(v) && v[i] >= '0' && v[i] <= '9' && i-start < 12 {
			x = x*10 + int64(v[i]-'0')
			i++
		}
		if i == start {
			return 0, false
		}
		if n == 0 && i < len(v) && v[i] == ' ' { // "D hh:mm:ss"
			days = x
			i++
			continue
		}
		parts[n] = x
		n++
		if n < 3 {
			if i >= len(v) || v[i] != ':' {
				return 0, false
			}
			i++
		}
	}
	var micro int64
	if i < len(v) {
		if v[i] != '.' {
			return 0, false
		}
		i++
		digits := 0
		for ; i < len(v); i++ {
			if v[i] < '0' || v[i] > '9' {
				return 0, false
			}
			if digits < 6 {
				micro = micro*10 + int64(v[i]-'0')
				digits++
			}
		}
		for ; digits < 6; digits++ {
			micro *= 10
		}
	}
	t := ((days*24+parts[0])*3600+parts[1]*60+parts[2])*1e6 + micro
	if neg {
		t = -t
	}
	return t, true
}

// fastKey maps a value to an int64 with the same order when that is cheap:
// integers and decimals of up to 18 digits that have exactly the column's
// decimals, doubles, and TIME. ok is false otherwise.
func (s *colSpec) fastKey(v []byte) (int64, bool) {
	switch s.kind {
	case cmpNum:
		i := 0
		neg := false
		if len(v) > 0 && v[0] == '-' {
			neg = true
			i = 1
		}
		var c int64
		digits, frac := 0, -1
		for ; i < len(v); i++ {
			ch := v[i]
			switch {
			case ch >= '0' && ch <= '9':
				c = c*10 + int64(ch-'0')
				digits++
				if frac >= 0 {
					frac++
				}
			case ch == '.' && frac < 0:
				frac = 0
			default:
				return 0, false
			}
		}
		if frac < 0 {
			frac = 0
		}
		want := int32(0)
		if s.isDecimal() {
			want = s.decimals
		}
		if digits == 0 || digits > 18 || int32(frac) != want {
			return 0, false
		}
		if neg {
			c = -c
		}
		return c, true
	case cmpFloat:
		f := atof(v)
		if f == 0 {
			f = 0
		}
		u := math.Float64bits(f)
		if u>>63 != 0 {
			u = ^u
		} else {
			u |= 1 << 63
		}
		return int64(u ^ 1<<63), true
	case cmpTime:
		return parseTimeMicros(v)
	}
	return 0, false
}

// rowKey caches the fastKey of a row's first order column.
type rowKey struct {
	v  int64
	ok bool
}

// firstKey computes the rowKey of a row (not ok for NULL).
func firstKey(orders []Order, specs []colSpec, row []byte, fs []field) rowKey {
	if len(orders) == 0 {
		return rowKey{}
	}
	f := fs[orders[0].Col]
	if f.null {
		return rowKey{}
	}
	v, ok := specs[orders[0].Col].fastKey(row[f.start:f.end])
	return rowKey{v, ok}
}

// cmpKeyed is cmpRows using the cached keys of the first order column.
func cmpKeyed(orders []Order, specs []colSpec, ak rowKey, ar []byte, af []field, bk rowKey, br []byte, bf []field) int {
	if ak.ok && bk.ok {
		c := cmpInt64(ak.v, bk.v)
		if orders[0].Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
		return cmpRows(orders[1:], specs, ar, af, br, bf)
	}
	return cmpRows(orders, specs, ar, af, br, bf)
}
