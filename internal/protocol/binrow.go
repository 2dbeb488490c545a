package protocol

import (
	"encoding/binary"
	"math"
	"strconv"
	"unsafe"
)

// AppendBinaryRow converts a text-protocol row (as merge.Run emits it, or
// as a server sends it) into a binary-protocol result row (COM_STMT_EXECUTE
// format) and appends it to dst: the 0x00 header, the NULL bitmap (offset
// 2), then each non-NULL value by column type: TINY, SHORT, YEAR, INT24,
// LONG, LONGLONG as little-endian integers of 1, 2, 2, 4, 4, 8 bytes;
// FLOAT and DOUBLE as IEEE 754 of 4 and 8 bytes; DATE, DATETIME, TIMESTAMP
// as a length-prefixed date (0, 4, 7 or 11 bytes); TIME as a
// length-prefixed time (0, 8 or 12 bytes, with sign and days); anything
// else (DECIMAL, strings, blobs, JSON, BIT, ENUM, SET, GEOMETRY) as a
// length-encoded string. A row that does not fit cols fails with a
// *Error 2027.
func AppendBinaryRow(dst, textRow []byte, cols []ColumnDef) ([]byte, error) {
	orig := len(dst)
	dst = append(dst, 0x00)
	bm := len(dst)
	for i := (len(cols) + 7 + 2) / 8; i > 0; i-- {
		dst = append(dst, 0)
	}
	pos := 0
	for i := range cols {
		v, null, n := ReadLenEncString(textRow[pos:])
		if n == 0 {
			return dst[:orig], errMalformedRow()
		}
		pos += n
		if null {
			dst[bm+(i+2)/8] |= 1 << ((i + 2) % 8)
			continue
		}
		c := &cols[i]
		var ok bool
		switch c.Type {
		case TypeTiny:
			dst, ok = appendBinInt(dst, v, c.Flags, 1)
		case TypeShort, TypeYear:
			dst, ok = appendBinInt(dst, v, c.Flags, 2)
		case TypeInt24, TypeLong:
			dst, ok = appendBinInt(dst, v, c.Flags, 4)
		case TypeLongLong:
			dst, ok = appendBinInt(dst, v, c.Flags, 8)
		case TypeFloat:
			var x float64
			x, ok = parseFloatStrict(v)
			dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(x)))
		case TypeDouble:
			var x float64
			x, ok = parseFloatStrict(v)
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(x))
		case TypeDate, TypeNewDate, TypeDateTime, TypeTimestamp:
			dst, ok = appendBinDate(dst, v)
		case TypeTime:
			dst, ok = appendBinTime(dst, v)
		default:
			dst, ok = AppendLenEncBytes(dst, v), true
		}
		if !ok {
			return dst[:orig], errMalformedRow()
		}
	}
	if pos != len(textRow) {
		return dst[:orig], errMalformedRow()
	}
	return dst, nil
}

// errMalformedRow is CR_MALFORMED_PACKET for a row that does not fit its
// columns.
func errMalformedRow() error { return NewError(2027, "HY000", "Malformed packet") }

// bstr views b as a string without copying, for parsing calls that do not
// keep their argument.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func parseFloatStrict(v []byte) (float64, bool) {
	x, err := strconv.ParseFloat(bstr(v), 64)
	if err != nil && !math.IsInf(x, 0) {
		return 0, false
	}
	return x, true
}

// appendBinInt appends the integer text v as a size-byte little-endian
// integer.
func appendBinInt(dst, v []byte, flags uint16, size int) ([]byte, bool) {
	var u uint64
	if flags&FlagUnsigned != 0 {
		x, err := strconv.ParseUint(bstr(v), 10, 64)
		if err != nil {
			return dst, false
		}
		u = x
	} else {
		x, err := strconv.ParseInt(bstr(v), 10, 64)
		if err != nil {
			return dst, false
		}
		u = uint64(x)
	}
	for i := 0; i < size; i++ {
		dst = append(dst, byte(u>>(8*i)))
	}
	return dst, true
}

// digitsAt parses n decimal digits at v[i:].
func digitsAt(v []byte, i, n int) (int, bool) {
	if i+n > len(v) {
		return 0, false
	}
	x := 0
	for _, c := range v[i : i+n] {
		if c < '0' || c > '9' {
			return 0, false
		}
		x = x*10 + int(c-'0')
	}
	return x, true
}

// parseMicros parses ".ffffff" (1 to 6 digits, or none) at v[i:].
func parseMicros(v []byte, i int) (int, bool) {
	if i == len(v) {
		return 0, true
	}
	if v[i] != '.' || i+1 == len(v) || len(v)-i-1 > 9 {
		return 0, false
	}
	n := len(v) - i - 1
	x, ok := digitsAt(v, i+1, n)
	if !ok {
		return 0, false
	}
	for ; n < 6; n++ {
		x *= 10
	}
	for ; n > 6; n-- {
		x /= 10
	}
	return x, true
}

// appendBinDate encodes "YYYY-MM-DD[ hh:mm:ss[.ffffff]]".
func appendBinDate(dst, v []byte) ([]byte, bool) {
	y, ok1 := digitsAt(v, 0, 4)
	mo, ok2 := digitsAt(v, 5, 2)
	d, ok3 := digitsAt(v, 8, 2)
	if !ok1 || !ok2 || !ok3 || v[4] != '-' || v[7] != '-' {
		return dst, false
	}
	var h, mi, s, us int
	if len(v) > 10 {
		var ok4, ok5, ok6, ok7 bool
		h, ok4 = digitsAt(v, 11, 2)
		mi, ok5 = digitsAt(v, 14, 2)
		s, ok6 = digitsAt(v, 17, 2)
		if !ok4 || !ok5 || !ok6 || (v[10] != ' ' && v[10] != 'T') || v[13] != ':' || v[16] != ':' {
			return dst, false
		}
		us, ok7 = parseMicros(v, 19)
		if !ok7 {
			return dst, false
		}
	}
	var l byte
	switch {
	case us != 0:
		l = 11
	case h != 0 || mi != 0 || s != 0:
		l = 7
	case y != 0 || mo != 0 || d != 0:
		l = 4
	}
	dst = append(dst, l)
	if l == 0 {
		return dst, true
	}
	dst = binary.LittleEndian.AppendUint16(dst, uint16(y))
	dst = append(dst, byte(mo), byte(d))
	if l == 4 {
		return dst, true
	}
	dst = append(dst, byte(h), byte(mi), byte(s))
	if us != 0 {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(us))
	}
	return dst, true
}

// appendBinTime encodes "[-]h[hh]:mm:ss[.ffffff]" (also "D hh:mm:ss").
func appendBinTime(dst, v []byte) ([]byte, bool) {
	neg := false
	if len(v) > 0 && v[0] == '-' {
		neg = true
		v = v[1:]
	}
	days := 0
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	if i > 0 && i < len(v) && v[i] == ' ' {
		days, _ = strconv.Atoi(string(v[:i]))
		v = v[i+1:]
		i = 0
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
		}
	}
	if i == 0 || i > 9 || i+6 > len(v) || v[i] != ':' || v[i+3] != ':' {
		return dst, false
	}
	h, _ := strconv.Atoi(string(v[:i]))
	mi, ok1 := digitsAt(v, i+1, 2)
	s, ok2 := digitsAt(v, i+4, 2)
	us, ok3 := parseMicros(v, i+6)
	if !ok1 || !ok2 || !ok3 {
		return dst, false
	}
	days += h / 24
	h %= 24
	switch {
	case us != 0:
		dst = append(dst, 12)
	case days != 0 || h != 0 || mi != 0 || s != 0:
		dst = append(dst, 8)
	default:
		return append(dst, 0), true
	}
	sign := byte(0)
	if neg {
		sign = 1
	}
	dst = append(dst, sign)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(days))
	dst = append(dst, byte(h), byte(mi), byte(s))
	if us != 0 {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(us))
	}
	return dst, true
}
