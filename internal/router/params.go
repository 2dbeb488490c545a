package router

import (
	"sort"
	"strings"

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

// LabelParams returns sql with an alias added to each item of its outer
// select list that holds a ? marker and has none: its text as written.
// MariaDB labels such an item by the prepared text (a.f * ?, and ? for a
// bare marker); a statement the proxy prepares runs with the values in
// place of the markers, whose labels would show the values instead.
// Statements that do not parse, or that have no such item, come back as
// they are.
func LabelParams(sql string) string {
	p := parsers.Get().(*parser.Parser)
	stmts, ok := parse(p, sql)
	if !ok {
		return sql
	}
	defer parsers.Put(p)
	if len(stmts) != 1 {
		return sql
	}
	sel, ok := stmts[0].(*ast.SelectStmt)
	if !ok || sel.Fields == nil {
		return sql
	}
	type insert struct {
		at    int
		label string
	}
	var ins []insert
	for _, f := range sel.Fields.Fields {
		if f.WildCard != nil || f.AsName.O != "" {
			continue
		}
		v := &markerCollector{}
		f.Expr.Accept(v)
		if len(v.offsets) == 0 {
			continue
		}
		text := f.Text()
		end := f.Offset + len(text)
		if text == "" || f.Offset < 0 || end > len(sql) || sql[f.Offset:end] != text {
			return sql // the item's text is not where the parser says
		}
		label := text
		if len(label) > 256 {
			label = label[:256]
		}
		ins = append(ins, insert{at: end, label: label})
	}
	if len(ins) == 0 {
		return sql
	}
	var b strings.Builder
	last := 0
	for _, x := range ins {
		b.WriteString(sql[last:x.at])
		b.WriteString(" AS `")
		b.WriteString(strings.ReplaceAll(x.label, "`", "``"))
		b.WriteString("`")
		last = x.at
	}
	b.WriteString(sql[last:])
	return b.String()
}
