package merge

import (
	"math"
	"math/bits"
	"strconv"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// env is what an expression reads while it is evaluated.
type env struct {
	row    []byte // Col{I}: column I of row, typed by specs
	fields []field
	specs  []colSpec
	prow   []byte // Avg: the folded physical row
	pfield []field
	pspecs []colSpec
	g      *group // DISTINCT aggregates; nil when not grouped
	dspec  *colSpec
}

func (n *node) eval(en *env) (val, error) {
	switch n.op {
	case nCol:
		f := en.fields[n.i]
		return decodeVal(&en.specs[n.i], en.row[f.start:f.end], f.null), nil
	case nLit:
		return n.lit, nil
	case nBin:
		return n.evalBin(en)
	case nNot:
		v, err := n.l.eval(en)
		if err != nil || v.k == vNull {
			return nullVal, err
		}
		return boolVal(!truth(v)), nil
	case nNeg:
		v, err := n.l.eval(en)
		if err != nil || v.k == vNull {
			return nullVal, err
		}
		return negate(v)
	case nIsNull:
		v, err := n.l.eval(en)
		if err != nil {
			return nullVal, err
		}
		return boolVal((v.k == vNull) != n.not), nil
	case nAvg:
		return n.evalAvg(en)
	case nDistinct:
		return n.evalDistinct(en)
	case nFunc:
		return n.evalFunc(en)
	case nCase:
		return n.evalCase(en)
	}
	return nullVal, nil
}

func (n *node) evalBin(en *env) (val, error) {
	l, err := n.l.eval(en)
	if err != nil {
		return nullVal, err
	}
	switch n.bin {
	case OpAnd:
		if l.k != vNull && !truth(l) {
			return intVal(0), nil
		}
	case OpOr:
		if l.k != vNull && truth(l) {
			return intVal(1), nil
		}
	}
	r, err := n.r.eval(en)
	if err != nil {
		return nullVal, err
	}
	switch n.bin {
	case OpAnd:
		if r.k != vNull && !truth(r) {
			return intVal(0), nil
		}
		if l.k == vNull || r.k == vNull {
			return nullVal, nil
		}
		return intVal(1), nil
	case OpOr:
		if r.k != vNull && truth(r) {
			return intVal(1), nil
		}
		if l.k == vNull || r.k == vNull {
			return nullVal, nil
		}
		return intVal(0), nil
	case OpNullEQ:
		if l.k == vNull || r.k == vNull {
			return boolVal(l.k == r.k), nil
		}
		return boolVal(compareVals(l, r) == 0), nil
	}
	if l.k == vNull || r.k == vNull {
		return nullVal, nil
	}
	switch n.bin {
	case OpXor:
		return boolVal(truth(l) != truth(r)), nil
	case OpEQ:
		return boolVal(compareVals(l, r) == 0), nil
	case OpNE:
		return boolVal(compareVals(l, r) != 0), nil
	case OpLT:
		return boolVal(compareVals(l, r) < 0), nil
	case OpLE:
		return boolVal(compareVals(l, r) <= 0), nil
	case OpGT:
		return boolVal(compareVals(l, r) > 0), nil
	case OpGE:
		return boolVal(compareVals(l, r) >= 0), nil
	}
	if n.real {
		l, r = val{k: vFloat, f: toFloat(l)}, val{k: vFloat, f: toFloat(r)}
	}
	return arith(n.bin, l, r)
}

func doubleOutOfRange() error {
	return protocol.NewError(errCodeOutOfRange, "22003", "DOUBLE value is out of range")
}

// arith applies an arithmetic operator to two non-NULL values.
func arith(op BinOp, a, b val) (val, error) {
	a, b = numeric(a), numeric(b)
	switch {
	case a.k == vFloat || b.k == vFloat:
		x, y := toFloat(a), toFloat(b)
		var z float64
		switch op {
		case OpAdd:
			z = x + y
		case OpSub:
			z = x - y
		case OpMul:
			z = x * y
		case OpDiv:
			if y == 0 {
				return nullVal, nil
			}
			z = x / y
		case OpIntDiv:
			if y == 0 {
				return nullVal, nil
			}
			q := math.Trunc(x / y)
			if q >= 0x1p63 || q < -0x1p63 || math.IsNaN(q) {
				return nullVal, outOfRange(false)
			}
			return intVal(int64(q)), nil
		case OpMod:
			if y == 0 {
				return nullVal, nil
			}
			z = math.Mod(x, y)
		}
		if math.IsInf(z, 0) || math.IsNaN(z) {
			return nullVal, doubleOutOfRange()
		}
		return val{k: vFloat, f: z}, nil
	case a.k == vDec || b.k == vDec || op == OpDiv:
		x, y := toDec(a), toDec(b)
		switch op {
		case OpAdd:
			return val{k: vDec, d: x.add(y)}, nil
		case OpSub:
			return val{k: vDec, d: x.sub(y)}, nil
		case OpMul:
			return val{k: vDec, d: x.mul(y)}, nil
		}
		if y.sign() == 0 {
			return nullVal, nil
		}
		switch op {
		case OpDiv:
			return val{k: vDec, d: x.div(y)}, nil
		case OpMod:
			return val{k: vDec, d: x.mod(y)}, nil
		}
		q := x.quoTrunc(y) // OpIntDiv
		if !q.IsInt64() {
			return nullVal, outOfRange(false)
		}
		return intVal(q.Int64()), nil
	}
	unsigned := a.k == vUint || b.k == vUint
	an, am := intOperand(a)
	bn, bm := intOperand(b)
	switch op {
	case OpSub:
		bn = !bn
		fallthrough
	case OpAdd:
		if bm == 0 {
			return intResult(an, am, false, unsigned)
		}
		if an == bn {
			s, carry := bits.Add64(am, bm, 0)
			return intResult(an, s, carry != 0, unsigned)
		}
		if am >= bm {
			return intResult(an, am-bm, false, unsigned)
		}
		return intResult(bn, bm-am, false, unsigned)
	case OpMul:
		hi, lo := bits.Mul64(am, bm)
		return intResult(an != bn, lo, hi != 0, unsigned)
	}
	if bm == 0 {
		return nullVal, nil
	}
	switch op {
	case OpIntDiv:
		return intResult(an != bn, am/bm, false, unsigned)
	case OpMod:
		return intResult(an, am%bm, false, a.k == vUint)
	}
	return nullVal, badPlan("unknown operator %d", op)
}

// negate is unary minus of a non-NULL value.
func negate(v val) (val, error) {
	v = numeric(v)
	switch v.k {
	case vInt:
		if v.i == math.MinInt64 {
			return nullVal, outOfRange(false)
		}
		return intVal(-v.i), nil
	case vUint:
		return intResult(v.u != 0, v.u, false, false)
	case vDec:
		return val{k: vDec, d: v.d.neg()}, nil
	}
	return val{k: vFloat, f: -toFloat(v)}, nil
}

// countOf parses a COUNT column.
func countOf(b []byte) (dec, bool) {
	if c, err := strconv.ParseInt(bstr(b), 10, 64); err == nil {
		return decFromInt(c), true
	}
	return parseDec(b)
}

func (n *node) evalAvg(en *env) (val, error) {
	sf, cf := en.pfield[n.i], en.pfield[n.j]
	if sf.null || cf.null {
		return nullVal, nil
	}
	cnt, ok := countOf(en.prow[cf.start:cf.end])
	if !ok || cnt.sign() == 0 {
		return nullVal, nil
	}
	sum := en.prow[sf.start:sf.end]
	if n.dfloat || n.real {
		return val{k: vFloat, f: atof(sum) / cnt.float()}, nil
	}
	d, ok := parseDec(sum)
	if !ok {
		return val{k: vFloat, f: parseFloatPrefix(sum) / cnt.float()}, nil
	}
	return val{k: vDec, d: d.div(cnt)}, nil
}

func (n *node) evalDistinct(en *env) (val, error) {
	g := en.g
	if g == nil {
		if n.dfunc == DistinctCount {
			return intVal(0), nil
		}
		return nullVal, nil
	}
	ds := &g.dist
	if n.dfunc == DistinctCount {
		return intVal(ds.n), nil
	}
	if ds.n == 0 {
		return nullVal, nil
	}
	switch n.dfunc {
	case DistinctSum:
		if n.dfloat {
			return val{k: vFloat, f: ds.fsum}, nil
		}
		return val{k: vDec, d: ds.sum}, nil
	case DistinctAvg:
		if n.real && !n.dfloat {
			return val{k: vFloat, f: ds.sum.float() / float64(ds.n)}, nil
		}
		if n.dfloat {
			return val{k: vFloat, f: ds.fsum / float64(ds.n)}, nil
		}
		return val{k: vDec, d: ds.sum.div(decFromInt(ds.n))}, nil
	}
	// GROUP_CONCAT(DISTINCT): join the values with the separator.
	var out []byte
	for rest, first := ds.vals, true; len(rest) > 0; first = false {
		v, _, k := protocol.ReadLenEncString(rest)
		if k == 0 {
			break
		}
		if !first {
			out = append(out, n.lit.s...)
		}
		out = append(out, v...)
		rest = rest[k:]
	}
	return val{k: vStr, s: out, coll: en.dspec.coll, hasColl: true}, nil
}

// appendVal appends v as a text column of static type t and returns the
// column's field.
func appendVal(dst []byte, v val, t *typeInfo) ([]byte, field) {
	if v.k == vNull {
		return appendCol(dst, nil, true)
	}
	dst = append(dst, 0)
	at := len(dst)
	switch {
	case t.k == vDec && v.k != vFloat:
		dst = toDec(v).round(t.scale).appendText(dst)
	case t.k == vFloat || v.k == vFloat:
		dst = appendDouble(dst, toFloat(v))
	case v.k == vInt:
		dst = strconv.AppendInt(dst, v.i, 10)
	case v.k == vUint:
		dst = strconv.AppendUint(dst, v.u, 10)
	case v.k == vDec:
		dst = v.d.appendText(dst)
	default:
		dst = append(dst, v.s...)
	}
	n := len(dst) - at
	if n < 251 {
		dst[at-1] = byte(n)
		return dst, field{at, len(dst), false}
	}
	// Rare: move the text behind a longer length header.
	tmp := append([]byte(nil), dst[at:]...)
	dst = appendLenEncHeader(dst[:at-1], n)
	s := len(dst)
	dst = append(dst, tmp...)
	return dst, field{s, len(dst), false}
}
