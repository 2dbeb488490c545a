package router

import (
	"sort"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// ParamOffsets returns the byte offsets of the ? parameter markers of a
// statement to prepare, in order, or ok=false when it does not parse.
func ParamOffsets(sql string) (offsets []int, ok bool) {
	p := parsers.Get().(*parser.Parser)
	stmts, ok := parse(p, sql)
	if !ok {
		// INSERT ... RETURNING: the markers are in the INSERT (a prefix).
		if base, _, ok := splitReturning(sql); ok {
			return ParamOffsets(base)
		}
		return nil, false
	}
	defer parsers.Put(p)
	v := &markerCollector{}
	for _, st := range stmts {
		st.Accept(v)
	}
	sort.Ints(v.offsets)
	return v.offsets, true
}

type markerCollector struct{ offsets []int }

func (v *markerCollector) Enter(n ast.Node) (ast.Node, bool) {
	if m, ok := n.(*test_driver.ParamMarkerExpr); ok {
		v.offsets = append(v.offsets, m.Offset)
	}
	return n, false
}

func (v *markerCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }
