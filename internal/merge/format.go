package merge

import (
	"math"
	"strconv"
)

// appendDouble appends f the way MariaDB prints a DOUBLE: the shortest
// digits that round-trip, in positional notation when the decimal point
// falls within 15 places of the first digit (0.00000015, 123456789012345.67)
// and as d.ddde±x otherwise (1e20, 1.2345678901234568e17, 1e-16); -0 is "0".
func appendDouble(dst []byte, f float64) []byte {
	if f == 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		// MySQL has neither NaN nor infinities; print them as 0 rather than
		// as text a client cannot parse.
		return append(dst, '0')
	}
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	if e[0] == '-' {
		dst = append(dst, '-')
		e = e[1:]
	}
	// e is d[.ddd]e±xx.
	var digits [20]byte
	nd := 0
	i := 0
	for ; i < len(e) && e[i] != 'e'; i++ {
		if e[i] != '.' {
			digits[nd] = e[i]
			nd++
		}
	}
	exp, _ := strconv.Atoi(string(e[i+1:]))
	decpt := exp + 1
	ds := digits[:nd]
	if decpt > -15 && decpt <= 15 {
		switch {
		case decpt <= 0:
			dst = append(dst, '0', '.')
			for j := decpt; j < 0; j++ {
				dst = append(dst, '0')
			}
			return append(dst, ds...)
		case decpt >= nd:
			dst = append(dst, ds...)
			for j := nd; j < decpt; j++ {
				dst = append(dst, '0')
			}
			return dst
		}
		dst = append(dst, ds[:decpt]...)
		dst = append(dst, '.')
		return append(dst, ds[decpt:]...)
	}
	dst = append(dst, ds[0])
	if nd > 1 {
		dst = append(dst, '.')
		dst = append(dst, ds[1:]...)
	}
	dst = append(dst, 'e')
	return strconv.AppendInt(dst, int64(exp), 10)
}

// parseFloatPrefix converts text to a double the way MySQL converts a string
// in numeric context: leading spaces are skipped and the longest numeric
// prefix is used ("12abc" is 12, "abc" is 0).
func parseFloatPrefix(s []byte) float64 {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	s = s[i:]
	end := 0
	j := 0
	if j < len(s) && (s[j] == '+' || s[j] == '-') {
		j++
	}
	digits := 0
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
		digits++
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
			digits++
		}
	}
	if digits == 0 {
		return 0
	}
	end = j
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && s[k] >= '0' && s[k] <= '9' {
			for k < len(s) && s[k] >= '0' && s[k] <= '9' {
				k++
			}
			end = k
		}
	}
	f, err := strconv.ParseFloat(string(s[:end]), 64)
	if err != nil {
		// Out of range: ParseFloat returns ±Inf; MySQL clamps to ±DBL_MAX.
		if math.IsInf(f, 1) {
			return math.MaxFloat64
		}
		if math.IsInf(f, -1) {
			return -math.MaxFloat64
		}
	}
	return f
}
