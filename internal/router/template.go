package router

import (
	"errors"
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
	// KeyType is the key column's type: Place converts the parameter as
	// MariaDB stores it (INSERT) or compares with it (key = ?).
	KeyType shard.ColumnType
	// Insert: the parameter is the key of a row to store.
	Insert bool
}

// errNotPlaced: the parameter's key value is not known exactly.
var errNotPlaced = errors.New("the key parameter's value in the key column is not known exactly")

// PrepareTemplate returns the template of a statement to prepare, or nil
// when its placement does not depend on one key parameter alone (it is
// then prepared by the proxy and routed at each execution).
func PrepareTemplate(sql string, rules *shard.Rules, db string) *Template {
	return PrepareTemplateWith(sql, rules, db, nil)
}

// PrepareTemplateWith is PrepareTemplate with the executor's column types
// (see Sources.Schema).
func PrepareTemplateWith(sql string, rules *shard.Rules, db string, schema SchemaSource) *Template {
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
	tc := &tableCollector{rules: rules, db: db, schema: schema}
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
	_, insert := st.(*ast.InsertStmt)
	tpl := &Template{Table: t, KeyParam: -1, SQL: map[shard.Target]string{}, KeyType: *r.conv.types[0], Insert: insert}
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

// Place returns the physical statement for a key parameter's value. It
// fails when the value cannot be placed exactly (the caller then routes
// the execution with its parameters as literals).
func (tpl *Template) Place(param shard.Value) (shard.Target, string, error) {
	var key shard.Value
	if tpl.Insert {
		k, ok := tpl.KeyType.Stored(param)
		if !ok {
			return shard.Target{}, "", errNotPlaced
		}
		key = k
	} else {
		k, none, ok := tpl.KeyType.Equal(param)
		if !ok {
			return shard.Target{}, "", errNotPlaced
		}
		if none {
			// No row matches: any physical table answers so.
			x := tpl.Table.All()[0]
			return x, tpl.SQL[x], nil
		}
		key = k
	}
	x, err := tpl.Table.Locate(key)
	if errors.Is(err, shard.ErrNoTarget) && !tpl.Insert {
		x, err = tpl.Table.All()[0], nil
	}
	if err != nil {
		return shard.Target{}, "", err
	}
	return x, tpl.SQL[x], nil
}
