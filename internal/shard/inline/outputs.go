package inline

import (
	"math"
	"strconv"
)

// Outputs enumerates every string a single-valued template can produce,
// assuming the column holds a non-negative integer or any string (sharding
// keys are ids or codes in practice; a negative id is a data error that
// ShardingSphere would have rejected as well). It returns ErrUnbounded when
// the set is infinite or larger than max, e.g. for t_${order_id}.
//
// The analysis is interval arithmetic: ${id % 4} gives 0..3,
// ${id.hashCode() % 4} gives -3..3 (so a missing t_-1 is reported),
// ${Math.abs(id.hashCode()) % 4} gives 0..3. Java's abs(MIN_VALUE) quirk is
// ignored here; at run time such a value simply finds no table.
func (t *Template) Outputs(max int) ([]string, error) {
	out := []string{""}
	for _, p := range t.parts {
		if p.e == nil {
			for i := range out {
				out[i] += p.lit
			}
			continue
		}
		a := absEval(p.e)
		var items []string
		switch {
		case a.strs != nil:
			items = a.strs
		case a.ints && !a.loInf && !a.hiInf && a.hi >= a.lo && span(a.lo, a.hi) < uint64(max):
			for v := a.lo; ; v++ {
				items = append(items, strconv.FormatInt(v, 10))
				if v == a.hi {
					break
				}
			}
		default:
			return nil, ErrUnbounded
		}
		if len(out)*len(items) > max {
			return nil, ErrUnbounded
		}
		next := make([]string, 0, len(out)*len(items))
		for _, prefix := range out {
			for _, it := range items {
				next = append(next, prefix+it)
			}
		}
		out = next
	}
	return out, nil
}

// aval is what the analysis knows about a value: a finite set of strings,
// an integer interval (possibly open on either side), or nothing.
type aval struct {
	strs         []string // finite set of strings (non-nil when known)
	ints         bool     // an integer in [lo, hi]
	lo, hi       int64
	loInf, hiInf bool
	is32         bool
}

var unknown = aval{}

func interval(lo, hi int64, is32 bool) aval {
	a := aval{ints: true, lo: lo, hi: hi, is32: is32}
	if is32 && (lo < math.MinInt32 || hi > math.MaxInt32) {
		// 32-bit arithmetic wraps: anything is possible.
		return aval{ints: true, lo: math.MinInt32, hi: math.MaxInt32, is32: true}
	}
	return a
}

const maxStrs = 4096

func absEval(e *expr) aval {
	switch e.op {
	case opInt:
		return interval(e.i, e.i, e.is32)
	case opStr:
		return aval{strs: []string{e.s}}
	case opIdent:
		return aval{ints: true, lo: 0, hiInf: true}
	case opNeg:
		x := absEval(e.args[0])
		if !x.ints {
			return unknown
		}
		if x.lo == math.MinInt64 && !x.loInf {
			return aval{ints: true, loInf: true, hiInf: true}
		}
		return aval{ints: true, lo: -x.hi, hi: -x.lo, loInf: x.hiInf, hiInf: x.loInf, is32: x.is32}
	case opAdd, opSub, opMul:
		x, y := absEval(e.args[0]), absEval(e.args[1])
		if e.op == opAdd && (x.strs != nil || y.strs != nil) {
			xs, ys := x.asStrings(), y.asStrings()
			if xs == nil || ys == nil || len(xs)*len(ys) > maxStrs {
				return unknown
			}
			var r []string
			for _, a := range xs {
				for _, b := range ys {
					r = append(r, a+b)
				}
			}
			return aval{strs: r}
		}
		if !x.ints || !y.ints {
			return unknown
		}
		is32 := x.is32 && y.is32
		if x.loInf || x.hiInf || y.loInf || y.hiInf {
			if e.op == opAdd && !x.loInf && !y.loInf {
				if lo, ok := addOK(x.lo, y.lo); ok && !is32 {
					return aval{ints: true, lo: lo, hiInf: true}
				}
			}
			return open(is32)
		}
		var c [4]int64
		for i, p := range [4][2]int64{{x.lo, y.lo}, {x.lo, y.hi}, {x.hi, y.lo}, {x.hi, y.hi}} {
			var r int64
			var ok bool
			switch e.op {
			case opAdd:
				r, ok = addOK(p[0], p[1])
			case opSub:
				if p[1] == math.MinInt64 {
					return open(is32)
				}
				r, ok = addOK(p[0], -p[1])
			default:
				r, ok = mulOK(p[0], p[1])
			}
			if !ok {
				return open(is32)
			}
			c[i] = r
		}
		if e.op == opSub { // x - y ranges over [x.lo - y.hi, x.hi - y.lo]
			return interval(c[1], c[2], is32)
		}
		return interval(min(c[0], c[1], c[2], c[3]), max(c[0], c[1], c[2], c[3]), is32)
	case opDiv, opIntdiv:
		x, y := absEval(e.args[0]), absEval(e.args[1])
		if !x.ints || !y.ints || y.loInf || y.hiInf || y.lo != y.hi || y.lo == 0 {
			return unknown
		}
		d := y.lo
		is32 := x.is32 && y.is32
		if d == -1 {
			return open(is32)
		}
		lo, hi, loInf, hiInf := x.lo/d, x.hi/d, x.loInf, x.hiInf
		if d < 0 {
			lo, hi, loInf, hiInf = hi, lo, hiInf, loInf
		}
		return aval{ints: true, lo: lo, hi: hi, loInf: loInf, hiInf: hiInf, is32: is32}
	case opMod, opFloorMod:
		x, y := absEval(e.args[0]), absEval(e.args[1])
		if !x.ints || !y.ints || y.loInf || y.hiInf || y.lo != y.hi || y.lo == 0 {
			return unknown
		}
		is32 := x.is32 && y.is32
		m := y.lo
		if m == math.MinInt64 {
			return open(is32)
		}
		if m < 0 {
			m = -m
		}
		m-- // largest possible |remainder|
		if e.op == opFloorMod {
			if y.lo > 0 {
				return interval(0, m, is32)
			}
			return interval(-m, 0, is32)
		}
		switch {
		case !x.loInf && !x.hiInf && x.lo >= -m && x.hi <= m:
			return x
		case !x.loInf && x.lo >= 0:
			hi := m
			if !x.hiInf && x.hi < hi {
				hi = x.hi
			}
			return interval(0, hi, is32)
		case !x.hiInf && x.hi <= 0:
			lo := -m
			if !x.loInf && x.lo > lo {
				lo = x.lo
			}
			return interval(lo, 0, is32)
		}
		return interval(-m, m, is32)
	case opHash:
		return interval(math.MinInt32, math.MaxInt32, true)
	case opAbs:
		x := absEval(e.args[0])
		if !x.ints {
			return unknown
		}
		switch {
		case !x.loInf && x.lo >= 0:
			return x
		case !x.hiInf && x.hi <= 0 && !x.loInf && x.lo > math.MinInt64:
			return aval{ints: true, lo: -x.hi, hi: -x.lo, is32: x.is32}
		case !x.loInf && !x.hiInf && x.lo > math.MinInt64:
			return aval{ints: true, lo: 0, hi: max(-x.lo, x.hi), is32: x.is32}
		}
		return aval{ints: true, lo: 0, hiInf: true, is32: x.is32}
	}
	return unknown // ranges and lists: not single-valued
}

func open(is32 bool) aval {
	if is32 {
		return interval(math.MinInt32, math.MaxInt32, true)
	}
	return aval{ints: true, loInf: true, hiInf: true}
}

func (a aval) asStrings() []string {
	if a.strs != nil {
		return a.strs
	}
	if a.ints && !a.loInf && !a.hiInf && a.hi >= a.lo && span(a.lo, a.hi) < maxStrs {
		var r []string
		for v := a.lo; ; v++ {
			r = append(r, strconv.FormatInt(v, 10))
			if v == a.hi {
				break
			}
		}
		return r
	}
	return nil
}

func addOK(a, b int64) (int64, bool) {
	r := a + b
	if (b > 0 && r < a) || (b < 0 && r > a) {
		return 0, false
	}
	return r, true
}

func mulOK(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	r := a * b
	if r/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, false
	}
	return r, true
}

// span is hi - lo for hi >= lo, without overflow.
func span(lo, hi int64) uint64 { return uint64(hi) - uint64(lo) }
