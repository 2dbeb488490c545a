package merge

import (
	"fmt"
	"math"
	"strconv"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// Func is a scalar function over merged values: IFNULL, COALESCE, NULLIF,
// IF, ABS, ROUND (second argument an integer literal), CONCAT. Other names,
// or argument types whose MariaDB semantics the evaluator does not
// reproduce exactly, make Run fail with error 1235 before any row is sent.
type Func struct {
	Name string // upper case
	Args []Expr
}

// Case is CASE [Value] WHEN When[i] THEN Then[i] ... [ELSE Else] END (Value
// nil: the searched form; Else nil: NULL).
type Case struct {
	Value Expr
	When  []Expr
	Then  []Expr
	Else  Expr
}

// AsColumn is E typed as physical column Col: the router uses it for
// a select item that is an expression over aggregates, which the shards
// evaluate too, so that the column's type, decimals and length are the
// server's own.
type AsColumn struct {
	E   Expr
	Col int
}

func (Func) expr()     {}
func (Case) expr()     {}
func (AsColumn) expr() {}

const (
	nFunc nodeOp = iota + 100
	nCase
)

func unsupported(format string, args ...any) error {
	return protocol.ErrUnsupported(fmt.Sprintf(format, args...) + " in a query over several shards")
}

// resultType aggregates the types of IFNULL/COALESCE/IF/CASE results as
// MariaDB does for the kinds the evaluator handles: any string (or a
// temporal value next to a non-temporal one) makes a string, then any
// double a double, then any decimal a decimal with the largest scale, else
// an integer. NULL literals do not count.
func resultType(ts []typeInfo) typeInfo {
	t := typeInfo{k: vNull, col: -1}
	var str, flt, dec, tmp, other bool
	for _, x := range ts {
		switch x.k {
		case vNull:
			continue
		case vStr:
			str = true
			if x.charset != 0 {
				t.charset = x.charset
			}
		case vFloat:
			flt = true
		case vDec:
			dec = true
			t.scale = max(t.scale, x.scale)
		case vTemporal:
			tmp = true
		default:
			other = true
			if x.unsigned {
				t.unsigned = true
			}
		}
	}
	switch {
	case str || tmp && (flt || dec || other):
		t.k = vStr
	case tmp:
		t.k = vTemporal
	case flt:
		t.k = vFloat
	case dec:
		t.k = vDec
	case other:
		t.k = vInt
	}
	if t.k != vDec {
		t.scale = 0
	}
	return t
}

func compileFunc(x Func, cx *compileCtx) (*node, error) {
	args := make([]*node, len(x.Args))
	ts := make([]typeInfo, len(x.Args))
	for i, a := range x.Args {
		n, err := compile(a, cx)
		if err != nil {
			return nil, err
		}
		args[i], ts[i] = n, n.t
	}
	n := &node{op: nFunc, fname: x.Name, args: args}
	want := func(lo, hi int) error {
		if len(args) < lo || hi >= 0 && len(args) > hi {
			return badPlan("%s with %d arguments", x.Name, len(args))
		}
		return nil
	}
	var err error
	switch x.Name {
	case "IFNULL":
		err = want(2, 2)
		n.t = resultType(ts)
	case "COALESCE":
		err = want(1, -1)
		n.t = resultType(ts)
	case "IF":
		err = want(3, 3)
		n.t = resultType(ts[1:])
	case "NULLIF":
		err = want(2, 2)
		n.t = ts[0]
		n.t.notNull, n.t.col = false, -1
	case "ABS":
		err = want(1, 1)
		switch ts[0].k {
		case vInt, vDec, vFloat, vNull:
			n.t = typeInfo{k: ts[0].k, scale: ts[0].scale, unsigned: ts[0].unsigned, col: -1}
		default:
			return nil, unsupported("ABS() of a string or temporal value over aggregate functions")
		}
	case "ROUND":
		if err = want(1, 2); err != nil {
			return nil, err
		}
		if len(args) == 2 {
			d, neg := args[1], false
			if d.op == nNeg {
				d, neg = d.l, true
			}
			if d.op != nLit || d.lit.k != vInt || d.lit.i > 1000 || d.lit.i < -1000 {
				return nil, unsupported("ROUND() over aggregate functions with decimals that are not an integer literal")
			}
			n.i = int(d.lit.i)
			if neg {
				n.i = -n.i
			}
		}
		switch ts[0].k {
		case vInt, vNull:
			n.t = typeInfo{k: ts[0].k, unsigned: ts[0].unsigned, col: -1}
		case vDec:
			n.t = typeInfo{k: vDec, scale: int32(max(0, min(n.i, int(ts[0].scale)))), col: -1}
		default:
			return nil, unsupported("ROUND() of a double, string or temporal value over aggregate functions")
		}
	case "CONCAT":
		err = want(1, -1)
		for _, t := range ts {
			if t.k == vFloat {
				// The text of a double in CONCAT depends on the
				// expression's precision, which the proxy does not know.
				return nil, unsupported("CONCAT() of a double over aggregate functions")
			}
		}
		n.t = typeInfo{k: vStr, col: -1}
	default:
		return nil, unsupported("the function %s() over aggregate functions", x.Name)
	}
	if err != nil {
		return nil, err
	}
	return n, nil
}

func compileCase(x Case, cx *compileCtx) (*node, error) {
	if len(x.When) == 0 || len(x.When) != len(x.Then) {
		return nil, badPlan("CASE with %d WHEN and %d THEN", len(x.When), len(x.Then))
	}
	n := &node{op: nCase}
	var err error
	if x.Value != nil {
		if n.l, err = compile(x.Value, cx); err != nil {
			return nil, err
		}
	}
	var ts []typeInfo
	for i := range x.When {
		w, err := compile(x.When[i], cx)
		if err != nil {
			return nil, err
		}
		t, err := compile(x.Then[i], cx)
		if err != nil {
			return nil, err
		}
		n.args = append(n.args, w, t)
		ts = append(ts, t.t)
	}
	if x.Else != nil {
		if n.r, err = compile(x.Else, cx); err != nil {
			return nil, err
		}
		ts = append(ts, n.r.t)
	}
	n.t = resultType(ts)
	return n, nil
}

// pick evaluates argument a as the result of n (IFNULL, IF, CASE...): a
// decimal in a string result is printed with its declared scale.
func (n *node) pick(a *node, en *env) (val, error) {
	v, err := a.eval(en)
	if err == nil && v.k == vDec && n.t.k == vStr {
		return val{k: vStr, s: appendText(nil, v, &a.t)}, nil
	}
	return v, err
}

func (n *node) evalFunc(en *env) (val, error) {
	switch n.fname {
	case "IFNULL", "COALESCE":
		for _, a := range n.args {
			v, err := n.pick(a, en)
			if err != nil || v.k != vNull {
				return v, err
			}
		}
		return nullVal, nil
	case "IF":
		c, err := n.args[0].eval(en)
		if err != nil {
			return nullVal, err
		}
		if c.k != vNull && truth(c) {
			return n.pick(n.args[1], en)
		}
		return n.pick(n.args[2], en)
	case "NULLIF":
		a, err := n.args[0].eval(en)
		if err != nil || a.k == vNull {
			return a, err
		}
		b, err := n.args[1].eval(en)
		if err != nil {
			return nullVal, err
		}
		if b.k != vNull && compareVals(a, b) == 0 {
			return nullVal, nil
		}
		return a, nil
	case "ABS":
		v, err := n.args[0].eval(en)
		if err != nil || v.k == vNull {
			return nullVal, err
		}
		switch v.k {
		case vInt:
			if v.i < 0 {
				return negate(v)
			}
			return v, nil
		case vDec:
			if v.d.sign() < 0 {
				return val{k: vDec, d: v.d.neg()}, nil
			}
			return v, nil
		case vUint:
			return v, nil
		}
		return val{k: vFloat, f: math.Abs(toFloat(v))}, nil
	case "ROUND":
		v, err := n.args[0].eval(en)
		if err != nil || v.k == vNull {
			return nullVal, err
		}
		return roundVal(v, n.i)
	case "CONCAT":
		var out []byte
		for _, a := range n.args {
			v, err := a.eval(en)
			if err != nil || v.k == vNull {
				return nullVal, err
			}
			out = appendText(out, v, &a.t)
		}
		return val{k: vStr, s: out}, nil
	}
	return nullVal, badPlan("unknown function %s", n.fname)
}

// appendText appends the text MariaDB gives a value of static type t in
// string context: a decimal with t's scale.
func appendText(dst []byte, v val, t *typeInfo) []byte {
	switch v.k {
	case vInt:
		return strconv.AppendInt(dst, v.i, 10)
	case vUint:
		return strconv.AppendUint(dst, v.u, 10)
	case vDec:
		if t.k == vDec {
			return v.d.round(t.scale).appendText(dst)
		}
		return v.d.appendText(dst)
	case vFloat:
		return appendDouble(dst, v.f)
	}
	return append(dst, v.s...)
}

// roundVal is ROUND(v, d) for integers and decimals: half away from zero;
// a negative d rounds to tens, hundreds...
func roundVal(v val, d int) (val, error) {
	switch v.k {
	case vDec:
		if d >= 0 {
			if int32(d) >= v.d.scale {
				return v, nil
			}
			return val{k: vDec, d: v.d.round(int32(d))}, nil
		}
		if d < -65 {
			return val{k: vDec, d: dec{}}, nil
		}
		// v / 10^k rounded to an integer, times 10^k.
		k := int32(-d)
		shifted := v.d
		shifted.scale += k
		p := dec{b: pow10Big(k)}.norm()
		return val{k: vDec, d: shifted.round(0).mul(p).round(0)}, nil
	case vInt, vUint:
		if d >= 0 {
			return v, nil
		}
		x := toDec(v)
		r, _ := roundVal(val{k: vDec, d: x}, d)
		if v.k == vUint {
			return val{k: vUint, u: uint64(r.d.float())}, nil
		}
		if r.d.b == nil && r.d.scale == 0 {
			return intVal(r.d.c), nil
		}
		f := r.d.float()
		if f > math.MaxInt64 || f < math.MinInt64 {
			return nullVal, outOfRange(false)
		}
		return intVal(int64(f)), nil
	}
	return nullVal, unsupported("ROUND() of a double over aggregate functions")
}

func (n *node) evalCase(en *env) (val, error) {
	var subject val
	if n.l != nil {
		var err error
		if subject, err = n.l.eval(en); err != nil {
			return nullVal, err
		}
	}
	for i := 0; i < len(n.args); i += 2 {
		w, err := n.args[i].eval(en)
		if err != nil {
			return nullVal, err
		}
		hit := false
		if n.l != nil {
			hit = subject.k != vNull && w.k != vNull && compareVals(subject, w) == 0
		} else {
			hit = w.k != vNull && truth(w)
		}
		if hit {
			return n.pick(n.args[i+1], en)
		}
	}
	if n.r != nil {
		return n.pick(n.r, en)
	}
	return nullVal, nil
}
