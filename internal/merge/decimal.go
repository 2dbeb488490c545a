package merge

import (
	"math"
	"math/big"
	"strconv"
)

// maxScale is the largest number of decimals a computed DECIMAL gets
// (MySQL's DECIMAL_MAX_SCALE).
const maxScale = 30

// divIncrement is MySQL's div_precision_increment default: a quotient has 4
// more decimals than its dividend.
const divIncrement = 4

var pow10 = [...]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

var bigTen = big.NewInt(10)

// dec is an exact decimal number: coefficient × 10^-scale. The coefficient
// lives in c while it fits an int64, in b (non-nil) otherwise, so the common
// case never allocates.
type dec struct {
	c     int64
	b     *big.Int
	scale int32
}

// decFromInt returns v as a decimal with scale 0.
func decFromInt(v int64) dec { return dec{c: v} }

// decFromUint returns v as a decimal with scale 0.
func decFromUint(v uint64) dec {
	if v <= math.MaxInt64 {
		return dec{c: int64(v)}
	}
	return dec{b: new(big.Int).SetUint64(v)}
}

// parseDec parses [+-]digits[.digits] (surrounding spaces allowed).
func parseDec(s []byte) (dec, bool) {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var d dec
	var c uint64
	digits, point := 0, -1
	for i, ch := range s {
		switch {
		case ch >= '0' && ch <= '9':
			if digits < 18 {
				c = c*10 + uint64(ch-'0')
			}
			digits++
		case ch == '.' && point < 0:
			point = i
		default:
			return dec{}, false
		}
	}
	if digits == 0 {
		return dec{}, false
	}
	if point >= 0 {
		d.scale = int32(len(s) - point - 1)
	}
	if digits <= 18 {
		d.c = int64(c)
		if neg {
			d.c = -d.c
		}
		return d, true
	}
	b := new(big.Int)
	for _, ch := range s {
		if ch != '.' {
			b.Mul(b, bigTen)
			b.Add(b, big.NewInt(int64(ch-'0')))
		}
	}
	if neg {
		b.Neg(b)
	}
	d.b = b
	return d.norm(), true
}

// bigInt returns the coefficient as a new big.Int.
func (d dec) bigInt() *big.Int {
	if d.b != nil {
		return new(big.Int).Set(d.b)
	}
	return big.NewInt(d.c)
}

// norm moves a big coefficient that fits an int64 back to c.
func (d dec) norm() dec {
	if d.b != nil && d.b.IsInt64() {
		return dec{c: d.b.Int64(), scale: d.scale}
	}
	return d
}

func (d dec) sign() int {
	if d.b != nil {
		return d.b.Sign()
	}
	switch {
	case d.c < 0:
		return -1
	case d.c > 0:
		return 1
	}
	return 0
}

func (d dec) neg() dec {
	if d.b == nil && d.c != math.MinInt64 {
		return dec{c: -d.c, scale: d.scale}
	}
	b := d.bigInt()
	return dec{b: b.Neg(b), scale: d.scale}.norm()
}

func pow10Big(n int32) *big.Int {
	return new(big.Int).Exp(bigTen, big.NewInt(int64(n)), nil)
}

// upscale returns d with scale s >= d.scale, exactly.
func (d dec) upscale(s int32) dec {
	k := s - d.scale
	if k <= 0 {
		return d
	}
	if d.b == nil && k < int32(len(pow10)) {
		hi, lo := mul64(d.c, pow10[k])
		if hi {
			return dec{c: lo, scale: s}
		}
	}
	b := d.bigInt()
	b.Mul(b, pow10Big(k))
	return dec{b: b, scale: s}.norm()
}

// mul64 multiplies signed a and b, reporting whether the product fit.
func mul64(a, b int64) (ok bool, p int64) {
	if a == 0 || b == 0 {
		return true, 0
	}
	p = a * b
	if p/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return false, 0
	}
	return true, p
}

// round returns d with scale s, rounding half away from zero when s is
// smaller than d's scale.
func (d dec) round(s int32) dec {
	if s >= d.scale {
		return d.upscale(s)
	}
	k := d.scale - s
	if d.b == nil && k < int32(len(pow10)) {
		p := pow10[k]
		q, r := d.c/p, d.c%p
		if r < 0 {
			r = -r
		}
		if r >= p-r { // r*2 >= p without overflow
			if d.c < 0 {
				q--
			} else {
				q++
			}
		}
		return dec{c: q, scale: s}
	}
	return dec{b: quoRound(d.bigInt(), pow10Big(k)), scale: s}.norm()
}

// quoRound returns n/m rounded half away from zero (m != 0).
func quoRound(n, m *big.Int) *big.Int {
	q, r := new(big.Int).QuoRem(n, m, new(big.Int))
	r.Abs(r)
	r.Lsh(r, 1)
	if r.CmpAbs(m) >= 0 {
		if n.Sign()*m.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

// align returns a and b at the same scale.
func align(a, b dec) (dec, dec) {
	if a.scale < b.scale {
		a = a.upscale(b.scale)
	} else if b.scale < a.scale {
		b = b.upscale(a.scale)
	}
	return a, b
}

func (d dec) add(e dec) dec {
	d, e = align(d, e)
	if d.b == nil && e.b == nil {
		s := d.c + e.c
		if (s > d.c) == (e.c > 0) {
			return dec{c: s, scale: d.scale}
		}
	}
	b := d.bigInt()
	return dec{b: b.Add(b, e.bigInt()), scale: d.scale}.norm()
}

func (d dec) sub(e dec) dec { return d.add(e.neg()) }

// mul multiplies exactly, then rounds to at most maxScale decimals.
func (d dec) mul(e dec) dec {
	s := d.scale + e.scale
	var r dec
	if ok, p := mul64(d.c, e.c); ok && d.b == nil && e.b == nil {
		r = dec{c: p, scale: s}
	} else {
		b := d.bigInt()
		r = dec{b: b.Mul(b, e.bigInt()), scale: s}.norm()
	}
	if s > maxScale {
		r = r.round(maxScale)
	}
	return r
}

// div divides as MariaDB's decimal_div with div_precision_increment 4:
// the fractions of both operands count in whole 9-digit words, the
// increment is what that padding does not already give, and the quotient
// is truncated (toward zero) at a whole number of words of decimals. The
// value keeps those decimals; the result's declared scale (d.scale+4) is
// applied when it is printed. e must not be zero.
func (d dec) div(e dec) dec {
	f1, f2 := roundUp9(d.scale), roundUp9(e.scale)
	incr := max(0, divIncrement-(f1-d.scale)-(f2-e.scale))
	s := roundUp9(f1 + f2 + incr)
	n := d.bigInt()
	m := e.bigInt()
	if k := s + e.scale - d.scale; k > 0 {
		n.Mul(n, pow10Big(k))
	} else if k < 0 {
		m.Mul(m, pow10Big(-k))
	}
	return dec{b: n.Quo(n, m), scale: s}.norm()
}

// roundUp9 rounds a number of decimals up to whole 9-digit words.
func roundUp9(s int32) int32 { return (s + 8) / 9 * 9 }

// quoTrunc returns the integer part of d/e (e not zero).
func (d dec) quoTrunc(e dec) *big.Int {
	d, e = align(d, e)
	return new(big.Int).Quo(d.bigInt(), e.bigInt())
}

// mod returns d - trunc(d/e)*e with the sign of d (e not zero).
func (d dec) mod(e dec) dec {
	d, e = align(d, e)
	if d.b == nil && e.b == nil && e.c != -1 {
		return dec{c: d.c % e.c, scale: d.scale}
	}
	return dec{b: new(big.Int).Rem(d.bigInt(), e.bigInt()), scale: d.scale}.norm()
}

func (d dec) cmp(e dec) int {
	d, e = align(d, e)
	if d.b == nil && e.b == nil {
		switch {
		case d.c < e.c:
			return -1
		case d.c > e.c:
			return 1
		}
		return 0
	}
	return d.bigInt().Cmp(e.bigInt())
}

// appendText appends d with exactly its scale ("-0.50", "12").
func (d dec) appendText(dst []byte) []byte {
	var buf [24]byte
	var digits []byte
	neg := false
	if d.b != nil {
		neg = d.b.Sign() < 0
		digits = new(big.Int).Abs(d.b).Append(nil, 10)
	} else {
		u := uint64(d.c)
		if d.c < 0 {
			neg = true
			u = -u
		}
		digits = strconv.AppendUint(buf[:0], u, 10)
	}
	if neg {
		dst = append(dst, '-')
	}
	s := int(d.scale)
	if s <= 0 {
		return append(dst, digits...)
	}
	if len(digits) <= s {
		dst = append(dst, '0', '.')
		for i := len(digits); i < s; i++ {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[:len(digits)-s]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-s:]...)
}

// float returns the nearest float64.
func (d dec) float() float64 {
	if d.b == nil && d.scale == 0 {
		return float64(d.c)
	}
	var buf [48]byte
	f, _ := strconv.ParseFloat(string(d.appendText(buf[:0])), 64)
	return f
}

// decFromFloat converts f exactly enough for DIV and comparisons: the
// shortest decimal that round-trips.
func decFromFloat(f float64) (dec, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dec{}, false
	}
	var buf [32]byte
	b := strconv.AppendFloat(buf[:0], f, 'f', -1, 64)
	return parseDec(b)
}
