package merge

import (
	"math"
	"strconv"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// vkind is the type class of a value in expression evaluation.
type vkind uint8

const (
	vNull vkind = iota
	vInt
	vUint
	vDec
	vFloat
	vStr
	vTemporal
)

// val is a decoded value. s aliases the row it came from.
type val struct {
	k vkind
	i int64
	u uint64
	f float64
	d dec
	s []byte
	// coll and hasColl: the collation of a string from a column (a literal
	// has none and takes the other side's).
	coll    strColl
	hasColl bool
}

var nullVal = val{}

func intVal(i int64) val { return val{k: vInt, i: i} }

func boolVal(b bool) val {
	if b {
		return intVal(1)
	}
	return intVal(0)
}

// decodeVal decodes the text of a column into a value of the column's type.
func decodeVal(s *colSpec, v []byte, null bool) val {
	if null || s.typ == protocol.TypeNull {
		return nullVal
	}
	switch {
	case s.isInt():
		if s.unsigned {
			if u, err := strconv.ParseUint(bstr(v), 10, 64); err == nil {
				return val{k: vUint, u: u}
			}
		} else if i, err := strconv.ParseInt(bstr(v), 10, 64); err == nil {
			return intVal(i)
		}
		if d, ok := parseDec(v); ok {
			return val{k: vDec, d: d}
		}
		return val{k: vFloat, f: parseFloatPrefix(v)}
	case s.isDecimal():
		if d, ok := parseDec(v); ok {
			return val{k: vDec, d: d}
		}
		return val{k: vFloat, f: parseFloatPrefix(v)}
	case s.typ == protocol.TypeFloat || s.typ == protocol.TypeDouble:
		return val{k: vFloat, f: atof(v)}
	case s.typ == protocol.TypeBit:
		var u uint64
		for _, c := range v {
			u = u<<8 | uint64(c)
		}
		return val{k: vUint, u: u}
	case s.kind == cmpTime || s.kind == cmpBytes:
		return val{k: vTemporal, s: v}
	}
	return val{k: vStr, s: v, coll: s.coll, hasColl: true}
}

// litVal converts a Lit.
func litVal(l Lit) val {
	switch x := l.V.(type) {
	case nil:
		return nullVal
	case int64:
		return intVal(x)
	case int:
		return intVal(int64(x))
	case uint64:
		return val{k: vUint, u: x}
	case float64:
		return val{k: vFloat, f: x}
	case string:
		if l.IsDecimal {
			if d, ok := parseDec([]byte(x)); ok {
				return val{k: vDec, d: d}
			}
			return val{k: vFloat, f: parseFloatPrefix([]byte(x))}
		}
		return val{k: vStr, s: []byte(x)}
	case []byte:
		return val{k: vStr, s: x}
	case bool:
		return boolVal(x)
	}
	return nullVal
}

// isDate reports whether temporal text is a DATE or DATETIME
// ('YYYY-MM-DD...'), not a TIME.
func isDate(s []byte) bool { return len(s) >= 10 && s[4] == '-' && s[7] == '-' }

// datetimeNumber is a DATE or DATETIME as YYYYMMDDhhmmss[.ffffff].
func datetimeNumber(s []byte) dec {
	d := temporalNumber(s)
	if len(s) == 10 {
		d = d.mul(decFromInt(1000000))
	}
	return d
}

// intAsDatetime reads an integer compared with a DATE or DATETIME the way
// MariaDB does (YYYYMMDD, YYMMDD, YYYYMMDDhhmmss, YYMMDDhhmmss; two-digit
// years 70-99 are 19xx) and returns it as YYYYMMDDhhmmss. Other lengths
// are not handled (ok false).
func intAsDatetime(n int64) (dec, bool) {
	if n < 0 {
		return dec{}, false
	}
	yy := func(y int64) int64 {
		if y < 70 {
			return 2000 + y
		}
		return 1900 + y
	}
	switch digits := len(strconv.FormatInt(n, 10)); {
	case digits <= 6 && n >= 101: // YYMMDD
		return decFromInt((yy(n/10000)*10000 + n%10000) * 1000000), true
	case digits == 8: // YYYYMMDD
		return decFromInt(n * 1000000), true
	case digits == 12: // YYMMDDhhmmss
		return decFromInt(yy(n/10000000000)*10000000000 + n%10000000000), true
	case digits == 14:
		return decFromInt(n), true
	}
	return dec{}, false
}

// temporalNumber converts DATE/TIME text to the number MySQL uses for it in
// numeric context: its digits (20200102030405.5, -10000 for -01:00:00).
func temporalNumber(s []byte) dec {
	var b []byte
	neg := false
	point := false
	for i, c := range s {
		switch {
		case c >= '0' && c <= '9':
			b = append(b, c)
		case c == '-' && i == 0:
			neg = true
		case c == '.' && !point:
			point = true
			b = append(b, '.')
		}
	}
	d, ok := parseDec(b)
	if !ok {
		return dec{}
	}
	if neg {
		d = d.neg()
	}
	return d
}

// numeric converts v for arithmetic: strings become doubles, temporal values
// decimals; numbers stay as they are.
func numeric(v val) val {
	switch v.k {
	case vStr:
		return val{k: vFloat, f: parseFloatPrefix(v.s)}
	case vTemporal:
		return val{k: vDec, d: temporalNumber(v.s)}
	}
	return v
}

// toFloat converts a numeric value to a double.
func toFloat(v val) float64 {
	switch v.k {
	case vInt:
		return float64(v.i)
	case vUint:
		return float64(v.u)
	case vDec:
		return v.d.float()
	case vFloat:
		return v.f
	case vStr:
		return parseFloatPrefix(v.s)
	case vTemporal:
		return temporalNumber(v.s).float()
	}
	return 0
}

// toDec converts an integer or decimal value to a decimal.
func toDec(v val) dec {
	switch v.k {
	case vInt:
		return decFromInt(v.i)
	case vUint:
		return decFromUint(v.u)
	case vDec:
		return v.d
	case vTemporal:
		return temporalNumber(v.s)
	}
	d, _ := decFromFloat(toFloat(v))
	return d
}

// truth is MySQL's truth value of a non-NULL value.
func truth(v val) bool {
	switch v.k {
	case vInt:
		return v.i != 0
	case vUint:
		return v.u != 0
	case vDec:
		return v.d.sign() != 0
	case vNull:
		return false
	}
	return toFloat(v) != 0
}

// compareVals compares two non-NULL values with MySQL's rules: two strings
// by collation, two temporal values (or one and a string) as times, a string
// or double with a number as doubles, decimals exactly, integers exactly.
func compareVals(a, b val) int {
	switch {
	case a.k == vStr && b.k == vStr:
		c := defaultColl
		switch {
		case a.hasColl && a.coll == binaryColl, b.hasColl && b.coll == binaryColl:
			c = binaryColl
		case a.hasColl:
			c = a.coll
		case b.hasColl:
			c = b.coll
		}
		return c.compare(a.s, b.s)
	case (a.k == vTemporal || a.k == vStr) && (b.k == vTemporal || b.k == vStr):
		return compareTemporal(a.s, b.s)
	case a.k == vTemporal && isDate(a.s) && b.k == vInt:
		if n, ok := intAsDatetime(b.i); ok {
			return datetimeNumber(a.s).cmp(n)
		}
		a = numeric(a)
	case b.k == vTemporal && isDate(b.s) && a.k == vInt:
		if n, ok := intAsDatetime(a.i); ok {
			return n.cmp(datetimeNumber(b.s))
		}
		b = numeric(b)
	case a.k == vTemporal:
		a = numeric(a)
	}
	if b.k == vTemporal {
		b = numeric(b)
	}
	switch {
	case a.k == vFloat || b.k == vFloat || a.k == vStr || b.k == vStr:
		return cmpFloat64(toFloat(a), toFloat(b))
	case a.k == vDec || b.k == vDec:
		return toDec(a).cmp(toDec(b))
	}
	return cmpInts(a, b)
}

// cmpInts compares two vInt/vUint values.
func cmpInts(a, b val) int {
	switch {
	case a.k == vInt && b.k == vInt:
		return cmpInt64(a.i, b.i)
	case a.k == vUint && b.k == vUint:
		switch {
		case a.u < b.u:
			return -1
		case a.u > b.u:
			return 1
		}
		return 0
	case a.k == vInt: // b unsigned
		if a.i < 0 || uint64(a.i) < b.u {
			return -1
		}
		if uint64(a.i) > b.u {
			return 1
		}
		return 0
	}
	return -cmpInts(b, a)
}

// compareTemporal compares DATE/DATETIME/TIME texts by value.
func compareTemporal(a, b []byte) int {
	da, ok1 := temporalKey(a)
	db, ok2 := temporalKey(b)
	if ok1 && ok2 {
		return da.cmp(db)
	}
	return compareBytes(a, b)
}

// temporalKey maps "YYYY-MM-DD[ hh:mm:ss[.f]]" to YYYYMMDDhhmmss[.f] and a
// TIME "[-]h:mm:ss[.f]" to its signed number of seconds, so that values of
// one kind compare by value.
func temporalKey(s []byte) (dec, bool) {
	if t, ok := parseTimeMicros(s); ok {
		return dec{c: t, scale: 6}, true
	}
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return dec{}, false
	}
	var digits [20]byte
	n := 0
	for _, c := range s[:min(len(s), 19)] {
		if c >= '0' && c <= '9' {
			digits[n] = c
			n++
		}
	}
	for n < 14 {
		digits[n] = '0'
		n++
	}
	d, ok := parseDec(digits[:n])
	if !ok {
		return dec{}, false
	}
	if len(s) > 20 && s[19] == '.' {
		if f, ok := parseDec(append([]byte("0"), s[19:]...)); ok {
			d = d.add(f)
		}
	}
	return d, true
}

func compareBytes(a, b []byte) int {
	return binaryColl.compare(a, b)
}

// intOperand splits an integer value into sign and magnitude.
func intOperand(v val) (neg bool, mag uint64) {
	if v.k == vUint {
		return false, v.u
	}
	if v.i < 0 {
		return true, uint64(-v.i)
	}
	return false, uint64(v.i)
}

// intResult builds an integer result from sign and magnitude, or the
// out-of-range error MySQL raises.
func intResult(neg bool, mag uint64, overflow, unsigned bool) (val, error) {
	if overflow {
		return nullVal, outOfRange(unsigned)
	}
	if mag == 0 {
		neg = false
	}
	if unsigned {
		if neg {
			return nullVal, outOfRange(true)
		}
		return val{k: vUint, u: mag}, nil
	}
	if neg {
		if mag > 1<<63 {
			return nullVal, outOfRange(false)
		}
		return intVal(int64(-mag)), nil
	}
	if mag > math.MaxInt64 {
		return nullVal, outOfRange(false)
	}
	return intVal(int64(mag)), nil
}
