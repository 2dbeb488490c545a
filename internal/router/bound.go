package router

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/switchyard-db/switchyard/internal/shard"
)

// Bound is the plan of a statement the proxy prepares, made once with its
// ? markers in place, when no parameter's value can change the plan: each
// execution binds the parameters' literals into the physical statements
// (Bind) instead of parsing and planning the statement again.
//
// A parameter cannot change the plan when it stands only where the router
// reads no values: in a WHERE condition (or an UPDATE's SET value) whose
// expression names no sharding key of the statement's tables. Parameters
// in a select list, GROUP BY, ORDER BY, HAVING, LIMIT or a JOIN's ON are
// read by the merge planner, so a statement with them is bound only when
// its plan is one physical statement (a Route, which the executor
// prepares on the backend, so MariaDB itself reads them). Parameters in an
// INSERT or next to a key column place rows: such statements are planned
// at each execution.
type Bound struct {
	// Analysis is the statement's analysis (it does not depend on values).
	Analysis *Analysis
	// Root is the plan; its physical statements hold the ? markers.
	Root Node
	// marks are the byte offsets of the markers of each physical statement,
	// in parameter order.
	marks [][]int
}

// PrepareBound returns the bound plan of sql, or nil when a parameter may
// change its plan, when it has no parameters, or when its plan is not a
// Route, Merge or plain Write (those are planned at each execution). src
// gives column types as for AnalyzeShardedWith; it never takes sequence IDs.
func PrepareBound(sql string, rules *shard.Rules, db string, src Sources) *Bound {
	p := parsers.Get().(*parser.Parser)
	stmts, ok := parse(p, sql)
	if !ok {
		return nil
	}
	if len(stmts) != 1 {
		parsers.Put(p)
		return nil
	}
	n, inert, routeOnly := inertParams(stmts[0], rules, db)
	parsers.Put(p)
	if n == 0 || !inert {
		return nil
	}
	a, root := AnalyzeShardedWith(sql, rules, db, Sources{Columns: src.Columns, Schema: src.Schema})
	if a.Err != nil || a.Local != LocalNone || a.Flags&(FlagMulti|FlagUnparsed) != 0 {
		return nil
	}
	switch r := root.(type) {
	case *Route:
	case *Merge:
		if routeOnly {
			return nil
		}
	case *Write:
		if routeOnly {
			return nil
		}
		if r.Global || r.Eval != nil || r.InsertID != 0 || r.Returning != "" {
			return nil
		}
	default:
		return nil
	}
	steps := root.Physical()
	b := &Bound{Analysis: a, Root: root, marks: make([][]int, len(steps))}
	for i, st := range steps {
		offs, ok := ParamOffsets(st.SQL)
		if !ok || len(offs) != n {
			return nil
		}
		b.marks[i] = offs
	}
	return b
}

// Bind returns the plan of one execution: the physical statements with
// the parameters' literals (SQL text, one per marker) in place of the
// markers.
func (b *Bound) Bind(lits []string) Node {
	steps := b.Root.Physical()
	out := make([]Step, len(steps))
	for i, st := range steps {
		out[i] = st
		out[i].SQL = Substitute(st.SQL, b.marks[i], lits)
	}
	switch r := b.Root.(type) {
	case *Route:
		return &Route{Step: out[0]}
	case *Merge:
		return &Merge{Steps: out, Scatter: r.Scatter}
	case *Write:
		w := *r
		w.Steps = out
		return &w
	}
	return b.Root
}

// Substitute puts lits[i] in place of the ? marker at byte offset offs[i]
// (offsets from ParamOffsets).
func Substitute(sql string, offs []int, lits []string) string {
	n := len(sql)
	for _, l := range lits {
		n += len(l)
	}
	var sb strings.Builder
	sb.Grow(n)
	last := 0
	for i, off := range offs {
		sb.WriteString(sql[last:off])
		sb.WriteString(lits[i])
		last = off + 1
	}
	sb.WriteString(sql[last:])
	return sb.String()
}

// inertParams counts the ? markers of st and reports whether none can
// change which physical tables the statement reaches (inert), and whether
// some stand where the merge planner reads them (routeOnly: the plan is
// usable only as one physical statement). See Bound.
func inertParams(st ast.StmtNode, rules *shard.Rules, db string) (n int, inert, routeOnly bool) {
	switch st.(type) {
	case *ast.SelectStmt, *ast.UpdateStmt, *ast.DeleteStmt:
	default:
		return 0, false, false
	}
	tc := &tableCollector{rules: rules, db: db}
	st.Accept(tc)
	if len(tc.found) == 0 {
		return 0, false, false
	}
	keys := map[string]bool{}
	for _, r := range tc.found {
		for _, k := range r.table.Keys() {
			keys[strings.ToLower(k)] = true
		}
	}
	v := &paramPlaces{keys: keys, inert: true}
	st.Accept(v)
	return v.n, v.inert, v.routeOnly
}

// paramPlaces walks a statement with the stack of nodes above each ?
// marker.
type paramPlaces struct {
	keys      map[string]bool
	stack     []ast.Node
	n         int
	inert     bool
	routeOnly bool
}

func (v *paramPlaces) Enter(n ast.Node) (ast.Node, bool) {
	if _, ok := n.(*test_driver.ParamMarkerExpr); ok {
		v.n++
		if v.inert {
			switch v.place() {
			case placeRead:
				v.routeOnly = true
			case placePlacing:
				v.inert = false
			}
		}
		return n, true
	}
	v.stack = append(v.stack, n)
	return n, false
}

func (v *paramPlaces) Leave(n ast.Node) (ast.Node, bool) {
	if _, ok := n.(*test_driver.ParamMarkerExpr); !ok && len(v.stack) > 0 {
		v.stack = v.stack[:len(v.stack)-1]
	}
	return n, true
}

// Places of a marker.
const (
	// placeInert: the planner reads no value there (a WHERE condition or
	// SET value naming no key).
	placeInert = iota
	// placeRead: the merge planner reads it (select list, ORDER/GROUP BY,
	// HAVING, LIMIT, a join or derived table); one physical table is fine.
	placeRead
	// placePlacing: it may place rows (next to a key column, in an INSERT).
	placePlacing
)

// place classifies the marker being visited by the nodes above it: no
// expression above it may name a key column; statements, SET assignments,
// subqueries and expressions are inert; any other node is read by the
// merge planner.
func (v *paramPlaces) place() int {
	p := placeInert
	for _, a := range v.stack {
		switch x := a.(type) {
		case *ast.SelectStmt, *ast.UpdateStmt, *ast.DeleteStmt, *ast.Assignment:
		case *ast.SubqueryExpr, *ast.ExistsSubqueryExpr, *ast.CompareSubqueryExpr:
			// A subquery in a condition: its own places are checked on
			// the way down.
		case *ast.InsertStmt:
			return placePlacing
		case ast.ExprNode:
			if v.namesKey(x) {
				return placePlacing
			}
		default:
			p = placeRead
		}
	}
	return p
}

// namesKey reports whether e mentions a column named like a sharding key.
func (v *paramPlaces) namesKey(e ast.Node) bool {
	f := &keyColumnFinder{keys: v.keys}
	e.Accept(f)
	return f.found
}

type keyColumnFinder struct {
	keys  map[string]bool
	found bool
}

func (f *keyColumnFinder) Enter(n ast.Node) (ast.Node, bool) {
	if c, ok := n.(*ast.ColumnNameExpr); ok && f.keys[c.Name.Name.L] {
		f.found = true
	}
	return n, f.found
}

func (f *keyColumnFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }
