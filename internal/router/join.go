package router

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/shard"
)

// rootOf returns the sharded table a linked table (transitively) follows.
func rootOf(t *shard.Table) *shard.Table {
	for t.Kind() == shard.Linked && t.Parent() != nil {
		t = t.Parent()
	}
	return t
}

// samePlacement reports whether two sharded tables put equal key values
// at the same position: the same table, or hash/mod tables with the same
// physical layout.
func samePlacement(a, b *shard.Table) bool {
	if a == b {
		return true
	}
	if a.Algorithm() != b.Algorithm() || (a.Algorithm() != config.AlgHash && a.Algorithm() != config.AlgMod) {
		return false
	}
	at, bt := a.All(), b.All()
	if len(at) != len(bt) {
		return false
	}
	for i := range at {
		if at[i].Slice != bt[i].Slice || at[i].Index != bt[i].Index {
			return false
		}
	}
	return true
}

// refNames maps each ruled table reference to the names it is referred to
// by (its alias, or its table name).
func refNames(st ast.Node, refs []ruled) map[*ast.TableName]string {
	v := &aliasCollector{names: map[*ast.TableName]string{}}
	st.Accept(v)
	for _, r := range refs {
		if _, ok := v.names[r.node]; !ok {
			v.names[r.node] = r.node.Name.L
		}
	}
	return v.names
}

type aliasCollector struct {
	names   map[*ast.TableName]string
	aliased map[*ast.TableName]bool
}

func (v *aliasCollector) Enter(n ast.Node) (ast.Node, bool) {
	if ts, ok := n.(*ast.TableSource); ok {
		if tn, ok := ts.Source.(*ast.TableName); ok {
			if ts.AsName.O != "" {
				v.names[tn] = ts.AsName.L
				if v.aliased == nil {
					v.aliased = map[*ast.TableName]bool{}
				}
				v.aliased[tn] = true
			} else {
				v.names[tn] = tn.Name.L
			}
		}
	}
	return n, false
}

func (v *aliasCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// colOwner returns the reference a qualified column belongs to (-1: none
// or ambiguous).
func colOwner(c *ast.ColumnName, refs []ruled, names map[*ast.TableName]string) int {
	if c.Table.O == "" {
		return -1
	}
	owner := -1
	for i, r := range refs {
		if names[r.node] == c.Table.L {
			if owner >= 0 && refs[owner].table != r.table {
				return -1
			}
			if owner < 0 {
				owner = i
			}
		}
	}
	return owner
}

// keyDim returns the position of col among t's sharding keys (-1: not a key).
func keyDim(t *shard.Table, col string) int {
	for k, key := range t.Keys() {
		if strings.EqualFold(key, col) {
			return k
		}
	}
	return -1
}

// keysJoined reports whether the conditions that must hold (top-level AND
// terms of WHERE and of every JOIN ... ON / USING, key IN (SELECT key ...),
// correlated [NOT] EXISTS) equate the sharding keys of every family
// reference, key by key (a table sharded by a database key and a table key
// needs both equated), so that rows can only match within one position.
func keysJoined(n *ast.SelectStmt, family []ruled, names map[*ast.TableName]string) bool {
	dims := len(family[0].table.Keys())
	for _, f := range family {
		if len(f.table.Keys()) != dims {
			return false
		}
	}
	parent := make([]int, len(family)*dims)
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			i = parent[i]
		}
		return i
	}
	join := func(a, b int) { parent[find(a)] = find(b) }
	// node numbers a (reference, key dimension) pair; -1: not a key.
	keyRef := func(e ast.ExprNode) int {
		c, ok := e.(*ast.ColumnNameExpr)
		if !ok {
			return -1
		}
		i := colOwner(c.Name, family, names)
		if i < 0 {
			return -1
		}
		k := keyDim(family[i].table, c.Name.Name.O)
		if k < 0 {
			return -1
		}
		return i*dims + k
	}
	sole := func(sel *ast.SelectStmt, e ast.ExprNode) int {
		i := soleKeyRef(sel, e, family)
		if i < 0 {
			return -1
		}
		return i*dims + keyDim(family[i].table, e.(*ast.ColumnNameExpr).Name.Name.O)
	}
	var terms []ast.ExprNode
	if n.Where != nil {
		terms = append(terms, andTerms(n.Where)...)
	}
	if n.From != nil {
		terms = append(terms, joinConds(n.From.TableRefs)...)
		for _, u := range usingJoins(n.From.TableRefs) {
			// JOIN ... USING (c): c of the left side equals c of the right.
			for _, col := range u.cols {
				first := -1
				for i, f := range family {
					k := keyDim(f.table, col)
					if k < 0 || !u.tables[f.node] {
						continue
					}
					if first < 0 {
						first = i*dims + k
					} else if first%dims == k {
						join(first, i*dims+k)
					}
				}
			}
		}
	}
	for i := 0; i < len(terms); i++ {
		switch x := terms[i].(type) {
		case *ast.BinaryOperationExpr:
			if x.Op == opcode.EQ {
				l, r := keyRef(x.L), keyRef(x.R)
				if l >= 0 && r >= 0 && l%dims == r%dims {
					join(l, r)
				}
			}
		case *ast.UnaryOperationExpr:
			if x.Op == opcode.Not {
				if ex, ok := x.V.(*ast.ExistsSubqueryExpr); ok {
					terms = append(terms, ex)
				}
			}
		case *ast.ExistsSubqueryExpr:
			// A correlated [NOT] EXISTS: its own conditions must tie the
			// keys (they hold for every row it looks at).
			if sub, ok := x.Sel.(*ast.SubqueryExpr); ok {
				if sel, ok := sub.Query.(*ast.SelectStmt); ok && sel.Where != nil {
					terms = append(terms, andTerms(sel.Where)...)
				}
			}
		case *ast.PatternInExpr:
			sub, ok := x.Sel.(*ast.SubqueryExpr)
			if x.Not || !ok {
				continue
			}
			sel, ok := sub.Query.(*ast.SelectStmt)
			if !ok || sel.Fields == nil || len(sel.Fields.Fields) != 1 {
				continue
			}
			l := keyRef(x.Expr)
			if l < 0 {
				l = sole(n, x.Expr)
			}
			r := keyRef(sel.Fields.Fields[0].Expr)
			if r < 0 {
				r = sole(sel, sel.Fields.Fields[0].Expr)
			}
			if l >= 0 && r >= 0 && l%dims == r%dims {
				join(l, r)
			}
			if sel.Where != nil {
				terms = append(terms, andTerms(sel.Where)...)
			}
		}
	}
	for k := 0; k < dims; k++ {
		for i := range family {
			if find(i*dims+k) != find(k) {
				return false
			}
		}
	}
	return true
}

// usingJoin is one JOIN ... USING: its columns and the tables under it.
type usingJoin struct {
	cols   []string
	tables map[*ast.TableName]bool
}

// usingJoins lists the JOIN ... USING clauses of a FROM clause.
func usingJoins(j *ast.Join) []usingJoin {
	if j == nil {
		return nil
	}
	var out []usingJoin
	if l, ok := j.Left.(*ast.Join); ok {
		out = append(out, usingJoins(l)...)
	}
	if r, ok := j.Right.(*ast.Join); ok {
		out = append(out, usingJoins(r)...)
	}
	if len(j.Using) > 0 {
		u := usingJoin{tables: map[*ast.TableName]bool{}}
		for _, c := range j.Using {
			u.cols = append(u.cols, c.Name.O)
		}
		v := &tableNames{found: u.tables}
		j.Accept(v)
		out = append(out, u)
	}
	return out
}

type tableNames struct{ found map[*ast.TableName]bool }

func (v *tableNames) Enter(n ast.Node) (ast.Node, bool) {
	if tn, ok := n.(*ast.TableName); ok {
		v.found[tn] = true
	}
	return n, false
}

func (v *tableNames) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// soleKeyRef resolves an unqualified key column of a SELECT whose FROM
// has exactly one table: the column is that table's.
func soleKeyRef(sel *ast.SelectStmt, e ast.ExprNode, family []ruled) int {
	c, ok := e.(*ast.ColumnNameExpr)
	if !ok || c.Name.Table.O != "" || sel.From == nil || sel.From.TableRefs == nil || sel.From.TableRefs.Right != nil {
		return -1
	}
	ts, ok := sel.From.TableRefs.Left.(*ast.TableSource)
	if !ok {
		return -1
	}
	for j, f := range family {
		if ts.Source == f.node && f.table.IsKey(c.Name.Name.O) {
			return j
		}
	}
	return -1
}

// joinConds returns the top-level AND terms of the ON conditions of inner
// joins (an outer join's ON does not filter the preserved side, but its
// equality still confines matches to one position, which is what counts).
func joinConds(j *ast.Join) []ast.ExprNode {
	if j == nil {
		return nil
	}
	var out []ast.ExprNode
	if l, ok := j.Left.(*ast.Join); ok {
		out = append(out, joinConds(l)...)
	}
	if r, ok := j.Right.(*ast.Join); ok {
		out = append(out, joinConds(r)...)
	}
	if j.On != nil {
		out = append(out, andTerms(j.On.Expr)...)
	}
	return out
}

// planMulti routes a SELECT naming several tables with rules: tables of one
// placement family (a sharded table, the tables linked to it, and tables
// sharded the same way) joined on their keys, plus global tables, are sent
// whole to each position that can hold matching rows.
func planMulti(n *ast.SelectStmt, refs []ruled, rules *shard.Rules) Node {
	var family, globals []ruled
	var root *shard.Table
	for _, r := range refs {
		if r.table.Kind() == shard.Global {
			globals = append(globals, r)
			continue
		}
		rt := rootOf(r.table)
		if root == nil {
			root = rt
		} else if !samePlacement(root, rt) {
			return refuse(fmt.Sprintf("a query joining tables sharded by different rules (%s and %s)", root.Name(), rt.Name()))
		}
		family = append(family, r)
	}
	names := refNames(n, refs)
	if len(family) == 0 {
		// Only global tables: any slice holding all of them answers.
		slice := ""
		for _, cand := range append([]string{rules.DefaultSlice()}, globals[0].table.Slices()...) {
			ok := true
			for _, g := range globals {
				if _, has := copyOn(g.table, cand); !has {
					ok = false
				}
			}
			if ok {
				slice = cand
				break
			}
		}
		if slice == "" {
			return refuse("a query over global tables that have no slice in common")
		}
		xs := make([]shard.Target, len(refs))
		for i, r := range refs {
			xs[i], _ = copyOn(r.table, slice)
		}
		return stepsAt(n, refs, [][]shard.Target{xs}, nil)
	}
	for _, f := range family {
		if len(f.table.All()) != len(root.All()) {
			return refuse(fmt.Sprintf("a join of %s and %s, whose physical tables do not pair up", f.table.Name(), root.Name()))
		}
	}
	if len(family) > 1 && !keysJoined(n, family, names) {
		return refuse("a join of sharded tables that does not equate their sharding keys (rows could match across shards); join on the keys, e.g. ON o.user_id = u.id")
	}
	// Positions that can hold matching rows, from conditions on any
	// family member's key (they are equal in matching rows).
	positions := make([]bool, len(root.All()))
	for i := range positions {
		positions[i] = true
	}
	if n.Where != nil {
		for _, f := range family {
			f := f
			k := keyMatcher{t: f.table, conv: f.conv, owns: func(c *ast.ColumnName) bool {
				if c.Table.O == "" {
					return soleKeyRef(n, &ast.ColumnNameExpr{Name: c}, []ruled{f}) == 0
				}
				return colOwner(c, family, names) >= 0 && names[f.node] == c.Table.L
			}}
			ts, perr := k.targets(n.Where)
			if perr != nil {
				return perr
			}
			if ts == nil {
				continue
			}
			keep := make([]bool, len(positions))
			for _, x := range ts {
				for p, y := range f.table.All() {
					if x == y {
						keep[p] = true
					}
				}
			}
			for p := range positions {
				positions[p] = positions[p] && keep[p]
			}
		}
	}
	var sets [][]shard.Target
	for p, ok := range positions {
		if !ok {
			continue
		}
		xs := make([]shard.Target, len(refs))
		slice := root.All()[p].Slice
		for i, r := range refs {
			if r.table.Kind() == shard.Global {
				x, has := copyOn(r.table, slice)
				if !has {
					return refuse(fmt.Sprintf("a join with global table %s, which has no copy on slice %s", r.table.Name(), slice))
				}
				xs[i] = x
			} else {
				xs[i] = r.table.All()[p]
			}
		}
		sets = append(sets, xs)
	}
	if len(sets) == 0 {
		// Contradictory conditions: any one position answers (no rows).
		p := 0
		xs := make([]shard.Target, len(refs))
		for i, r := range refs {
			if r.table.Kind() == shard.Global {
				xs[i], _ = copyOn(r.table, root.All()[p].Slice)
			} else {
				xs[i] = r.table.All()[p]
			}
		}
		sets = append(sets, xs)
	}
	if len(sets) == 1 {
		return stepsAt(n, refs, sets, nil)
	}
	// Merged per-position results are right only when every result row
	// comes from exactly one position: a sharded table must be read by the
	// outer query itself, and no outer join may keep rows of a global table
	// (each position would add them again).
	outer := false
	for _, f := range family {
		if n.From != nil && fromHas(n.From.TableRefs, f.node) {
			outer = true
		}
	}
	if !outer {
		return refuse("a query over several shards whose sharded tables are read only inside subqueries")
	}
	if len(globals) > 0 && n.From != nil && hasOuterJoin(n.From.TableRefs) {
		return refuse("an outer join with a global table in a query over several shards")
	}
	return planScatterSets(n, refs, sets)
}

// hasOuterJoin reports whether a FROM clause has a LEFT or RIGHT join.
func hasOuterJoin(rs ast.ResultSetNode) bool {
	j, ok := rs.(*ast.Join)
	if !ok || j == nil {
		return false
	}
	if j.Tp == ast.LeftJoin || j.Tp == ast.RightJoin {
		return true
	}
	return hasOuterJoin(j.Left) || j.Right != nil && hasOuterJoin(j.Right)
}

// copyOn returns a global table's copy on slice.
func copyOn(t *shard.Table, slice string) (shard.Target, bool) {
	for _, x := range t.All() {
		if x.Slice == slice {
			return x, true
		}
	}
	return shard.Target{}, false
}

// stepsAt renders st once per target set: a Route for one set (sc nil),
// else a Merge.
func stepsAt(st ast.StmtNode, refs []ruled, sets [][]shard.Target, sc *Scatter) Node {
	if sel, ok := st.(*ast.SelectStmt); ok && sel.Fields != nil && sc == nil {
		for _, f := range sel.Fields.Fields {
			keepLabel(f)
		}
	}
	steps := make([]Step, 0, len(sets))
	for _, xs := range sets {
		sql, err := rewriteMulti(st, refs, xs)
		if err != nil {
			return refuse(fmt.Sprintf("rewriting this statement (%v)", err))
		}
		steps = append(steps, Step{Slice: xs[0].Slice, Database: xs[0].Database, SQL: sql})
	}
	if sc == nil {
		// One set: the statement reaches one position.
		return &Route{Step: steps[0]}
	}
	return &Merge{Steps: steps, Scatter: sc}
}
