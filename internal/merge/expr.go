package merge

import (
	"math"
	"math/bits"
	"strconv"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// typeInfo is the static type of an expression.
type typeInfo struct {
	k        vkind
	unsigned bool
	scale    int32
	// boolean: a comparison or logical result (MySQL types it INT(1)).
	boolean bool
	notNull bool
	// col: the column an expression reads as is (Col), else -1.
	col int
	// charset: the collation id of a string result (0: default).
	charset uint16
}

// nodeOp is the operation of a compiled expression node.
type nodeOp uint8

const (
	nCol nodeOp = iota
	nLit
	nBin
	nNot
	nNeg
	nIsNull
	nAvg
	nDistinct
)

// node is a compiled, validated expression.
type node struct {
	op     nodeOp
	i, j   int // Col index; Avg sum and count columns
	bin    BinOp
	not    bool // IsNull.Not
	lit    val
	l, r   *node
	dfunc  DistinctFunc
	t      typeInfo
	dfloat bool // Avg / DistinctAgg: the sum is a double
}

// compileCtx says what the columns an expression reads are.
type compileCtx struct {
	specs    []colSpec // Col{I} reads specs[I]
	pspecs   []colSpec // physical columns, for Avg
	distinct *colSpec  // the DISTINCT argument column, or nil
	grouped  bool
}

// typeOfSpec is the static type of a column.
func typeOfSpec(s *colSpec, col int) typeInfo {
	t := typeInfo{col: col}
	switch {
	case s.typ == protocol.TypeNull:
		t.k = vNull
	case s.isInt():
		t.k, t.unsigned = vInt, s.unsigned
	case s.typ == protocol.TypeBit:
		t.k, t.unsigned = vInt, true
	case s.isDecimal():
		t.k, t.scale = vDec, s.decimals
	case s.typ == protocol.TypeFloat || s.typ == protocol.TypeDouble:
		t.k = vFloat
	case s.kind == cmpTime || s.kind == cmpBytes:
		t.k = vTemporal
	default:
		t.k = vStr
	}
	return t
}

// sumIsFloat reports whether SUM/AVG over the column is computed in
// doubles (FLOAT, DOUBLE and non-numeric columns) rather than exactly.
func sumIsFloat(s *colSpec) bool {
	return !s.isInt() && !s.isDecimal() && s.typ != protocol.TypeBit
}

func compile(e Expr, cx *compileCtx) (*node, error) {
	switch x := e.(type) {
	case Col:
		if x.I < 0 || x.I >= len(cx.specs) {
			return nil, badPlan("column %d out of range (%d columns)", x.I, len(cx.specs))
		}
		return &node{op: nCol, i: x.I, t: typeOfSpec(&cx.specs[x.I], x.I)}, nil
	case *Col:
		if x != nil {
			return compile(*x, cx)
		}
	case Lit:
		n := &node{op: nLit, lit: litVal(x)}
		n.t = typeInfo{k: n.lit.k, col: -1}
		switch n.lit.k {
		case vUint:
			n.t.k, n.t.unsigned = vInt, true
		case vDec:
			n.t.scale = n.lit.d.scale
		}
		return n, nil
	case *Lit:
		if x != nil {
			return compile(*x, cx)
		}
	case Bin:
		l, err := compile(x.L, cx)
		if err != nil {
			return nil, err
		}
		r, err := compile(x.R, cx)
		if err != nil {
			return nil, err
		}
		if x.Op > OpMod {
			return nil, badPlan("unknown operator %d", x.Op)
		}
		n := &node{op: nBin, bin: x.Op, l: l, r: r}
		n.t = binType(x.Op, l.t, r.t)
		return n, nil
	case *Bin:
		if x != nil {
			return compile(*x, cx)
		}
	case Not:
		a, err := compile(x.E, cx)
		if err != nil {
			return nil, err
		}
		return &node{op: nNot, l: a, t: typeInfo{k: vInt, boolean: true, col: -1}}, nil
	case *Not:
		if x != nil {
			return compile(*x, cx)
		}
	case Neg:
		a, err := compile(x.E, cx)
		if err != nil {
			return nil, err
		}
		t := typeInfo{k: numericKind(a.t.k), scale: a.t.scale, col: -1}
		if a.t.k == vTemporal {
			t.scale = 0
		}
		return &node{op: nNeg, l: a, t: t}, nil
	case *Neg:
		if x != nil {
			return compile(*x, cx)
		}
	case IsNull:
		a, err := compile(x.E, cx)
		if err != nil {
			return nil, err
		}
		return &node{op: nIsNull, l: a, not: x.Not, t: typeInfo{k: vInt, boolean: true, notNull: true, col: -1}}, nil
	case *IsNull:
		if x != nil {
			return compile(*x, cx)
		}
	case Avg:
		if x.Sum < 0 || x.Sum >= len(cx.pspecs) || x.Count < 0 || x.Count >= len(cx.pspecs) {
			return nil, badPlan("AVG columns %d, %d out of range (%d columns)", x.Sum, x.Count, len(cx.pspecs))
		}
		n := &node{op: nAvg, i: x.Sum, j: x.Count}
		n.dfloat = sumIsFloat(&cx.pspecs[x.Sum])
		n.t = avgType(&cx.pspecs[x.Sum], n.dfloat)
		return n, nil
	case *Avg:
		if x != nil {
			return compile(*x, cx)
		}
	case DistinctAgg:
		if cx.distinct == nil {
			return nil, badPlan("DISTINCT aggregate without Plan.Distinct")
		}
		n := &node{op: nDistinct, dfunc: x.Func, lit: val{k: vStr, s: []byte(x.Sep)}}
		n.dfloat = sumIsFloat(cx.distinct)
		switch x.Func {
		case DistinctCount:
			n.t = typeInfo{k: vInt, notNull: true, col: -1}
		case DistinctSum:
			n.t = typeInfo{k: vDec, scale: cx.distinct.decimals, col: -1}
			if n.dfloat {
				n.t = typeInfo{k: vFloat, col: -1}
			} else if !cx.distinct.isDecimal() {
				n.t.scale = 0
			}
		case DistinctAvg:
			n.t = avgType(cx.distinct, n.dfloat)
		case DistinctGroupConcat:
			n.t = typeInfo{k: vStr, col: -1}
			if cx.distinct.kind == cmpStr {
				n.t.charset = cx.distinct.charset
			}
		default:
			return nil, badPlan("unknown DISTINCT aggregate %d", x.Func)
		}
		return n, nil
	case *DistinctAgg:
		if x != nil {
			return compile(*x, cx)
		}
	}
	return nil, badPlan("unsupported expression %T", e)
}

func avgType(s *colSpec, isFloat bool) typeInfo {
	if isFloat {
		return typeInfo{k: vFloat, col: -1}
	}
	sc := int32(0)
	if s.isDecimal() {
		sc = s.decimals
	}
	return typeInfo{k: vDec, scale: min(sc+divIncrement, maxScale), col: -1}
}

// numericKind is the kind a value of kind k has in arithmetic.
func numericKind(k vkind) vkind {
	switch k {
	case vStr:
		return vFloat
	case vTemporal:
		return vDec
	}
	return k
}

// binType is the static result type of l op r, mirroring evalBin.
func binType(op BinOp, l, r typeInfo) typeInfo {
	if op <= OpXor {
		return typeInfo{k: vInt, boolean: true, notNull: op == OpNullEQ, col: -1}
	}
	lk, rk := numericKind(l.k), numericKind(r.k)
	if lk == vNull {
		lk, l = rk, r
	}
	if rk == vNull {
		rk, r = lk, l
	}
	ls, rs := l.scale, r.scale
	if l.k == vTemporal {
		ls = 0
	}
	if r.k == vTemporal {
		rs = 0
	}
	t := typeInfo{col: -1}
	switch {
	case lk == vNull:
		t.k = vNull
	case op == OpIntDiv:
		t.k = vInt
		t.unsigned = lk != vFloat && rk != vFloat && lk != vDec && rk != vDec && (l.unsigned || r.unsigned)
	case lk == vFloat || rk == vFloat:
		t.k = vFloat
	case lk == vDec || rk == vDec || op == OpDiv:
		t.k = vDec
		switch op {
		case OpMul:
			t.scale = min(ls+rs, maxScale)
		case OpDiv:
			t.scale = min(ls+divIncrement, maxScale)
		default:
			t.scale = max(ls, rs)
		}
	default:
		t.k = vInt
		if op == OpMod {
			t.unsigned = l.unsigned
		} else {
			t.unsigned = l.unsigned || r.unsigned
		}
	}
	return t
}

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
	if n.dfloat {
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
