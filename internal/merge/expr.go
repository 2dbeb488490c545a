package merge

import "github.com/switchyard-db/switchyard/internal/protocol"

// This file compiles Plan expressions into nodes and types them statically;
// eval.go evaluates them.

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
	op    nodeOp
	i, j  int // Col index; Avg sum and count columns
	bin   BinOp
	not   bool // IsNull.Not
	lit   val
	l, r  *node
	dfunc DistinctFunc
	fname string // Func
	// real: evaluated in a double context (val_real): Avg divides in
	// doubles, arithmetic converts its operands to doubles first.
	real bool
	// typedBy-1 is the physical column whose definition the output takes
	// (AsColumn); 0: the static type.
	typedBy int
	args    []*node // Func arguments; Case WHEN/THEN pairs
	t       typeInfo
	dfloat  bool // Avg / DistinctAgg: the sum is a double
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
		if x.Op >= OpAdd && n.t.k == vFloat || x.Op < OpAnd && (numericKind(l.t.k) == vFloat) != (numericKind(r.t.k) == vFloat) {
			// MariaDB evaluates a double context with val_real all the
			// way down: AVG as sum/count in doubles, decimals as doubles.
			if err := markReal(l); err != nil {
				return nil, err
			}
			if err := markReal(r); err != nil {
				return nil, err
			}
		}
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
	case AsColumn:
		n, err := compile(x.E, cx)
		if err != nil {
			return nil, err
		}
		if x.Col < 0 || x.Col >= len(cx.specs) {
			return nil, badPlan("column %d out of range (%d columns)", x.Col, len(cx.specs))
		}
		if n.op == nCol {
			// A copy of a column: keep it a plain column.
			return n, nil
		}
		pt := typeOfSpec(&cx.specs[x.Col], -1)
		if (n.op == nAvg || n.op == nBin && n.bin == OpDiv) && n.t.k == vDec && pt.k == vDec && pt.scale != n.t.scale {
			// The shards' scale says div_precision_increment is not 4.
			return nil, unsupported("AVG() or / with a div_precision_increment other than 4")
		}
		n.t = pt
		n.typedBy = x.Col + 1
		return n, nil
	case Func:
		return compileFunc(x, cx)
	case *Func:
		if x != nil {
			return compileFunc(*x, cx)
		}
	case Case:
		return compileCase(x, cx)
	case *Case:
		if x != nil {
			return compileCase(*x, cx)
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

// markReal marks the numeric subtree of n as evaluated in doubles. An AVG
// of exact values there is refused: MariaDB reads it as sum/count in
// doubles, or as the 9-decimal quotient when the grouping went through a
// temporary table, which the proxy cannot tell apart.
func markReal(n *node) error {
	var err error
	mark := func(c *node) {
		if e := markReal(c); e != nil && err == nil {
			err = e
		}
	}
	switch n.op {
	case nAvg, nDistinct:
		if (n.op == nAvg || n.dfunc == DistinctAvg) && !n.dfloat {
			return unsupported("AVG() of an exact value inside a double expression (with a DOUBLE, a string or a float literal)")
		}
		n.real = true
	case nBin:
		if n.bin >= OpAdd {
			n.real = true
			mark(n.l)
			mark(n.r)
		}
	case nNeg:
		mark(n.l)
	case nFunc:
		switch n.fname {
		case "IFNULL", "COALESCE", "NULLIF", "ABS":
			for _, a := range n.args {
				mark(a)
			}
		case "IF":
			for _, a := range n.args[1:] {
				mark(a)
			}
		}
	case nCase:
		for i := 1; i < len(n.args); i += 2 {
			mark(n.args[i])
		}
		if n.r != nil {
			mark(n.r)
		}
	}
	return err
}
