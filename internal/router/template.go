package router

import (
	"sort"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/switchyard-db/switchyard/internal/shard"
)

// maxTemplateTargets bounds the physical statements a template holds.
const maxTemplateTargets = 256

// Template is a statement to prepare whose physical table is chosen at each
// execution by one parameter: the sharding key (`key = ?` among the
// top-level AND conditions, or the key's value in a one-row INSERT). The
// proxy prepares the physical statement on the backend and relays its
// binary results, as for an unsharded statement.
type Template struct {
	// Table is the logical table.
	Table *shard.Table
	// KeyParam is the position (from 0) of the ? holding the key.
	KeyParam int
	// SQL is the physical statement, with its ? markers, per physical table.
	SQL map[shard.Target]string
}

// PrepareTemplate returns the template of a statement to prepare, or nil
// when its placement does not depend on one key parameter alone (it is
// then prepared by the proxy and routed at each execution).
func PrepareTemplate(sql string, rules *shard.Rules, db string) *Template {
	p := parsers.Get().(*parser.Parser)
	stmts, ok := parse(p, sql)
	if !ok {
		return nil
	}
	defer parsers.Put(p)
	if len(stmts) != 1 {
		return nil
	}
	st := stmts[0]
	tc := &tableCollector{rules: rules, db: db}
	st.Accept(tc)
	if len(tc.found) != 1 || tc.all != 1 {
		return nil
	}
	r := tc.found[0]
	t := r.table
	if (t.Kind() != shard.Sharded && t.Kind() != shard.Linked) || len(t.Keys()) != 1 || t.Sequence() != nil || len(t.All()) > maxTemplateTargets {
		return nil
	}
	var marker ast.ExprNode
	switch n := st.(type) {
	case *ast.SelectStmt:
		if n.SelectIntoOpt != nil {
			return nil
		}
		marker = keyMarker(n.Where, t)
		for _, f := range n.Fields.Fields {
			keepLabel(f)
		}
	case *ast.UpdateStmt:
		for _, as := range n.List {
			if t.IsKey(as.Column.Name.O) {
				return nil
			}
		}
		marker = keyMarker(n.Where, t)
	case *ast.DeleteStmt:
		if n.IsMultiTable {
			return nil
		}
		marker = keyMarker(n.Where, t)
	case *ast.InsertStmt:
		if n.Select != nil || len(n.Lists) != 1 || len(n.Columns) != len(n.Lists[0]) {
			return nil
		}
		for _, as := range n.OnDuplicate {
			if t.IsKey(as.Column.Name.O) {
				return nil
			}
		}
		for i, c := range n.Columns {
			if t.IsKey(c.Name.O) {
				if _, ok := n.Lists[0][i].(*test_driver.ParamMarkerExpr); ok {
					marker = n.Lists[0][i]
				}
			}
		}
	default:
		return nil
	}
	m, ok := marker.(*test_driver.ParamMarkerExpr)
	if !ok {
		return nil
	}
	v := &markerCollector{}
	st.Accept(v)
	sort.Ints(v.offsets)
	tpl := &Template{Table: t, KeyParam: -1, SQL: map[shard.Target]string{}}
	for i, off := range v.offsets {
		if off == m.Offset {
			tpl.KeyParam = i
		}
	}
	if tpl.KeyParam < 0 {
		return nil
	}
	for _, x := range t.All() {
		phys, err := rewrite(st, r, x)
		if err != nil {
			return nil
		}
		tpl.SQL[x] = phys
	}
	return tpl
}

// keyMarker finds `key = ?` (or `? = key`) among the top-level AND terms.
func keyMarker(where ast.ExprNode, t *shard.Table) ast.ExprNode {
	if where == nil {
		return nil
	}
	for _, term := range andTerms(where) {
		b, ok := term.(*ast.BinaryOperationExpr)
		if !ok || b.Op != opcode.EQ {
			continue
		}
		col, val := b.L, b.R
		if _, isCol := col.(*ast.ColumnNameExpr); !isCol {
			col, val = b.R, b.L
		}
		c, isCol := col.(*ast.ColumnNameExpr)
		if !isCol || !t.IsKey(c.Name.Name.O) {
			continue
		}
		if _, isMarker := val.(*test_driver.ParamMarkerExpr); isMarker {
			return val
		}
	}
	return nil
}

// Place returns the physical statement for a key value.
func (tpl *Template) Place(key shard.Value) (shard.Target, string, error) {
	x, err := tpl.Table.Locate(key)
	if err != nil {
		return shard.Target{}, "", err
	}
	return x, tpl.SQL[x], nil
}
