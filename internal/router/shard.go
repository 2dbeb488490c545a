package router

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/shard"
)

// Step is one physical statement of a sharded plan.
type Step struct {
	// Slice runs the statement.
	Slice string
	// Database is the physical database of the table the step reaches.
	Database string
	// SQL is the statement with physical names.
	SQL string
}

// restoreFlags print SQL the way MySQL and MariaDB read it back.
const restoreFlags = format.DefaultRestoreFlags | format.RestoreStringWithoutDefaultCharset

// IDSource fills ids with new IDs from table t's sequence.
type IDSource func(t *shard.Table, ids []uint64) error

// AnalyzeSharded is Analyze for a namespace with sharding rules: it also
// returns the shard plan of statements that name a table with a rule (nil
// for statements that touch only unlisted tables, which run on the default
// slice as usual). db is the session's current database.
func AnalyzeSharded(sql string, rules *shard.Rules, db string) (*Analysis, Node) {
	return AnalyzeShardedIDs(sql, rules, db, nil)
}

// ColumnSource returns the columns of table t, in order (for INSERTs
// without a column list).
type ColumnSource func(t *shard.Table) ([]string, error)

// Sources are what the router may ask the executor while planning.
type Sources struct {
	// IDs fills sequence columns an INSERT omits (nil: refused).
	IDs IDSource
	// Columns gives a table's columns (nil: INSERT without a column list
	// is refused).
	Columns ColumnSource
	// Schema gives a table's column types, to convert key literals by
	// MariaDB's rules (nil: literals are placed by their text, for tests of
	// placement alone; a table it does not know: nothing is placed by a
	// guess).
	Schema SchemaSource
}

// AnalyzeShardedIDs is AnalyzeSharded with a source of generated IDs for
// INSERTs that omit a sequence column (nil: such INSERTs are refused).
func AnalyzeShardedIDs(sql string, rules *shard.Rules, db string, ids IDSource) (*Analysis, Node) {
	return AnalyzeShardedWith(sql, rules, db, Sources{IDs: ids})
}

// AnalyzeShardedWith is AnalyzeSharded with the executor's sources.
func AnalyzeShardedWith(sql string, rules *shard.Rules, db string, src Sources) (*Analysis, Node) {
	a := &Analysis{Hint: scanHint(sql)}
	p := parsers.Get().(*parser.Parser)
	stmts, ok := parse(p, sql)
	if !ok {
		if ra, rsp, ok := analyzeReturning(sql, rules, db, src); ok && rsp != nil {
			return ra, rsp
		}
		classifyUnparsed(a, sql)
		if mentionsRuledTable(sql, rules) {
			return a, refuse("statements the SQL parser does not understand on sharded tables")
		}
		return a, nil
	}
	defer parsers.Put(p)
	if len(stmts) != 1 {
		// Classify as usual, then refuse if any statement has rules.
		for _, st := range stmts {
			if len(ruledTables(st, rules, db)) > 0 {
				return a, refuse("multi-statement queries on sharded tables")
			}
		}
		p2 := Analyze(sql)
		return p2, nil
	}
	classify(a, stmts[0], sql)
	if a.Err != nil || a.Local != LocalNone {
		return a, nil
	}
	sp := planShard(a, stmts[0], rules, db, src)
	if spansConnections(sp) && a.Flags&(FlagUserVarRead|FlagUserVarWrite|FlagLastInsertID) != 0 {
		// User variables and LAST_INSERT_ID() belong to one connection; a
		// scatter query runs on several.
		sp = refuse("user variables, LAST_INSERT_ID(), ROW_COUNT() or FOUND_ROWS() in a statement over several shards (or with generated IDs)")
	}
	return a, sp
}

// spansConnections reports whether a plan runs on several backend
// connections (or with IDs the proxy generated), where user variables and
// LAST_INSERT_ID() of one connection mean nothing.
func spansConnections(n Node) bool {
	switch n := n.(type) {
	case *Merge:
		return true
	case *Write:
		return len(n.Steps) > 1 || n.InsertID != 0
	}
	return false
}

// mentionsRuledTable is a conservative text check for unparsed statements.
func mentionsRuledTable(sql string, rules *shard.Rules) bool {
	l := strings.ToLower(sql)
	for _, t := range rules.Tables() {
		if strings.Contains(l, strings.ToLower(t.Name())) {
			return true
		}
	}
	return false
}

type ruled struct {
	node  *ast.TableName
	table *shard.Table
	// conv converts literals to values of the table's key.
	conv *keyConv
	// subst prints these nodes as the given text (values a global write
	// evaluates once).
	subst map[ast.Node]string
	// cols reads the table's columns (nil: unknown).
	cols ColumnSource
}

// ruledTables lists the table references of st that have a rule.
func ruledTables(st ast.Node, rules *shard.Rules, db string) []ruled {
	v := &tableCollector{rules: rules, db: db}
	st.Accept(v)
	return v.found
}

type tableCollector struct {
	rules  *shard.Rules
	db     string
	found  []ruled
	all    int
	schema SchemaSource
	hex    map[*test_driver.ValueExpr]bool
	cols   ColumnSource
	// foundBuf and convs hold the first table reference and its converter
	// (most statements name one table: no allocation beyond the collector).
	foundBuf [1]ruled
	convs    [1]keyConv
	nconv    int
	// collectHex: list the statement's hexadecimal literals in hexes (for
	// hexFormsOf, in the same walk).
	collectHex bool
	hexes      []*test_driver.ValueExpr
}

func (v *tableCollector) Enter(n ast.Node) (ast.Node, bool) {
	if v.collectHex {
		if x, ok := isHexValue(n); ok {
			v.hexes = append(v.hexes, x)
		}
	}
	if tn, ok := n.(*ast.TableName); ok {
		v.all++
		db := tn.Schema.O
		if db == "" {
			db = v.db
		}
		if t, ok := v.rules.Table(db, tn.Name.O); ok {
			var conv *keyConv
			if v.nconv < len(v.convs) {
				conv = &v.convs[v.nconv]
				v.nconv++
				conv.init(t, v.schema, v.hex)
			} else {
				conv = newKeyConv(t, v.schema, v.hex)
			}
			if v.found == nil {
				v.found = v.foundBuf[:0]
			}
			v.found = append(v.found, ruled{node: tn, table: t, conv: conv, cols: v.cols})
		}
	}
	return n, false
}

func (v *tableCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// planShard routes one parsed statement.
func planShard(a *Analysis, st ast.StmtNode, rules *shard.Rules, db string, src Sources) Node {
	// The text as the client sent it: the scanners of hexadecimal literals
	// read its bytes, and Text() would convert the whole statement again
	// when it holds a quote.
	text := st.OriginalText()
	tc := &tableCollector{rules: rules, db: db, schema: src.Schema, cols: src.Columns, collectHex: mayHaveHex(text)}
	st.Accept(tc)
	if hex := hexFormsOf(tc.hexes, text); hex != nil {
		// The forms of hexadecimal literals, found in the same walk.
		tc.hex = hex
		for _, r := range tc.found {
			r.conv.hex = hex
		}
	}
	a.NamesTables = tc.all > 0
	if show, ok := st.(*ast.ShowStmt); ok && show.Tp == ast.ShowTables {
		return planShowTables(show, rules, db)
	}
	if show, ok := st.(*ast.ShowStmt); ok && show.Tp == ast.ShowTableStatus {
		return planShowTableStatus(show, rules, db)
	}
	if show, ok := st.(*ast.ShowStmt); ok && show.Tp == ast.ShowDatabases && rules.HasRules() {
		return planShowDatabases(show, rules)
	}
	switch n := st.(type) {
	case *ast.CreateDatabaseStmt:
		return databaseFanout(st, n.Name.O, rules)
	case *ast.DropDatabaseStmt:
		return databaseFanout(st, n.Name.O, rules)
	}
	if len(tc.found) == 0 {
		if a.Kind == KindSelect {
			return infoSchemaRewrite(st, rules)
		}
		return nil
	}
	if _, ok := st.(*ast.LockTablesStmt); ok {
		return refuse(lockTablesRefusal)
	}
	if tc.all > len(tc.found) {
		if sel, ok := st.(*ast.SelectStmt); ok && sel.With != nil {
			return refuse("WITH (common table expressions) over sharded or global tables")
		}
		return refuse("statements that use tables with sharding rules together with tables without one (those live on the default slice only)")
	}
	if len(tc.found) > 1 {
		if sel, ok := st.(*ast.SelectStmt); ok {
			return planMulti(sel, tc.found, rules)
		}
		return refuse("statements other than SELECT that name several sharded or global tables (multi-table UPDATE/DELETE, INSERT ... SELECT, UNION)")
	}
	r := tc.found[0]
	t := r.table
	switch n := st.(type) {
	case *ast.ExplainStmt:
		if show, ok := n.Stmt.(*ast.ShowStmt); ok && show.Tp == ast.ShowColumns {
			// DESCRIBE t: the columns of the first physical table.
			return renamed(single(st, r, t.All()[0]), t)
		}
		inner := &Analysis{}
		classify(inner, n.Stmt, "")
		if n.Analyze {
			return refuse("EXPLAIN ANALYZE on sharded or global tables")
		}
		ip := planShard(inner, n.Stmt, rules, db, Sources{})
		if ip == nil {
			return nil
		}
		return &Explain{Of: ip, Analysis: inner}
	case *ast.ShowStmt:
		switch n.Tp {
		case ast.ShowColumns, ast.ShowCreateTable, ast.ShowIndex:
			return renamed(single(st, r, t.All()[0]), t)
		}
		return refuse(fmt.Sprintf("this SHOW statement on sharded or global table %s", t.Name()))
	case *ast.CreateTableStmt, *ast.AlterTableStmt, *ast.DropTableStmt, *ast.TruncateTableStmt, *ast.CreateIndexStmt, *ast.DropIndexStmt:
		if c, ok := n.(*ast.CreateTableStmt); ok && (c.ReferTable != nil || c.Select != nil) {
			return refuse("CREATE TABLE ... LIKE/SELECT on a sharded or global table")
		}
		return fanout(st, r, t.All())
	case *ast.SelectStmt:
		if t.Kind() == shard.Global {
			return single(st, r, globalReadTarget(t, rules))
		}
		if owner := ownerSelect(n, r.node); owner != n {
			// The table is read inside a subquery or derived table: the
			// proxy cannot merge there, so the statement must reach one
			// physical table.
			where := ast.ExprNode(nil)
			if owner != nil {
				where = owner.Where
			}
			if _, done := placeByKey(st, r, where); done != nil {
				return done
			}
			return refuse(fmt.Sprintf("a subquery or derived table over sharded table %s that reaches several physical tables (add a condition on its key %s inside it)", t.Name(), t.Key()))
		}
		targets, done := placeByKey(st, r, n.Where)
		if done != nil {
			return done
		}
		return planScatter(n, r, targets)
	case *ast.UpdateStmt:
		if t.Kind() == shard.Global {
			return globalWriteSame(st, r, src)
		}
		for _, as := range n.List {
			if t.IsKey(as.Column.Name.O) {
				return refuse(fmt.Sprintf("UPDATE of the sharding key %s.%s", t.Name(), as.Column.Name.O))
			}
		}
		return writeByKey(st, r, n.Where, n.Order != nil || n.Limit != nil, "UPDATE")
	case *ast.DeleteStmt:
		if n.IsMultiTable {
			return refuse("multi-table DELETE on sharded or global tables")
		}
		if t.Kind() == shard.Global {
			return globalWriteSame(st, r, src)
		}
		return writeByKey(st, r, n.Where, n.Order != nil || n.Limit != nil, "DELETE")
	case *ast.InsertStmt:
		if t.Kind() == shard.Global {
			if n.Select != nil {
				return refuse("INSERT ... SELECT into a global table")
			}
			return globalWriteSame(st, r, src)
		}
		return insert(st, n, r, src)
	}
	return refuse(fmt.Sprintf("%s statements on sharded or global table %s", strings.ToUpper(a.Kind.String()), t.Name()))
}

// databaseFanout sends CREATE/DROP DATABASE of a database with sharding
// rules to every slice its tables use (and the default slice).
func databaseFanout(st ast.StmtNode, name string, rules *shard.Rules) Node {
	seen := map[string]bool{rules.DefaultSlice(): true}
	order := []string{rules.DefaultSlice()}
	has := false
	for _, t := range rules.Tables() {
		if !strings.EqualFold(t.Database(), name) {
			continue
		}
		has = true
		for _, x := range t.All() {
			if !seen[x.Slice] {
				seen[x.Slice] = true
				order = append(order, x.Slice)
			}
		}
	}
	if !has {
		return nil
	}
	sql, err := restoreSQL(st, st.Text())
	if err != nil {
		return refuse("rewriting this statement")
	}
	p := &Fanout{}
	for _, sl := range order {
		p.Steps = append(p.Steps, Step{Slice: sl, Database: name, SQL: sql})
	}
	return p
}

// renamed turns a routed metadata statement into a Meta node whose result
// renames the physical table.
func renamed(p Node, t *shard.Table) Node {
	if r, ok := p.(*Route); ok {
		return &Meta{Steps: []Step{r.Step}, Rename: &Rename{Physical: t.All()[0].Table, Logical: t.Name()}}
	}
	return p
}

// globalReadTarget picks the copy of a global table on the default slice
// when it has one, else the first.
func globalReadTarget(t *shard.Table, rules *shard.Rules) shard.Target {
	for _, x := range t.All() {
		if x.Slice == rules.DefaultSlice() {
			return x
		}
	}
	return t.All()[0]
}

// ownerSelect returns the SELECT (st itself or one nested in it) whose FROM
// names tn directly, or nil when none does (tn in a CTE, for instance).
func ownerSelect(st *ast.SelectStmt, tn *ast.TableName) *ast.SelectStmt {
	if st.From != nil && fromHas(st.From.TableRefs, tn) {
		return st // the first SELECT a walk visits is st itself
	}
	v := &selectCollector{}
	st.Accept(v)
	for _, sel := range v.found {
		if sel.From != nil && fromHas(sel.From.TableRefs, tn) {
			return sel
		}
	}
	return nil
}

type selectCollector struct{ found []*ast.SelectStmt }

func (v *selectCollector) Enter(n ast.Node) (ast.Node, bool) {
	if sel, ok := n.(*ast.SelectStmt); ok {
		v.found = append(v.found, sel)
	}
	return n, false
}

func (v *selectCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// fromHas reports whether a FROM clause reads tn itself (not through a
// derived table).
func fromHas(rs ast.ResultSetNode, tn *ast.TableName) bool {
	switch x := rs.(type) {
	case *ast.Join:
		return x != nil && (fromHas(x.Left, tn) || x.Right != nil && fromHas(x.Right, tn))
	case *ast.TableSource:
		return x.Source == tn
	case *ast.TableName:
		return x == tn
	}
	return false
}

// placeByKey finds the physical tables a statement's key conditions allow.
// When they leave one table (or none: contradictory conditions, any one
// table answers), done is the finished plan; otherwise targets are the
// tables to scatter to (all of them without a usable condition).
func placeByKey(st ast.StmtNode, r ruled, where ast.ExprNode) (targets []shard.Target, done Node) {
	t := r.table
	targets, perr := keyTargets(r, where)
	if perr != nil {
		return nil, perr
	}
	switch {
	case targets == nil:
		return t.All(), nil
	case len(targets) == 0:
		return nil, single(st, r, t.All()[0])
	case len(targets) == 1:
		return nil, single(st, r, targets[0])
	}
	return targets, nil
}

// writeByKey routes an UPDATE or DELETE by its key conditions: one
// physical table, or each table that may hold matching rows (a write over
// several tables, applied atomically by the executor).
func writeByKey(st ast.StmtNode, r ruled, where ast.ExprNode, ordered bool, verb string) Node {
	t := r.table
	targets, done := placeByKey(st, r, where)
	if done != nil {
		return done
	}
	if ordered {
		return refuse(fmt.Sprintf("%s ... ORDER BY/LIMIT on sharded table %s over several physical tables (add a condition on its key %s)", verb, t.Name(), t.Key()))
	}
	p := fanout(st, r, targets)
	if f, ok := p.(*Fanout); ok {
		return &Write{Steps: f.Steps}
	}
	return p
}

// globalWrite applies a write to every copy of a global table.
func globalWrite(st ast.StmtNode, r ruled) Node {
	p := fanout(st, r, r.table.All())
	f, ok := p.(*Fanout)
	switch {
	case !ok:
		return p
	case len(f.Steps) == 1:
		return &Route{Step: f.Steps[0]}
	}
	return &Write{Steps: f.Steps, Global: true}
}

// keyTargets returns the physical tables that the conditions on the key
// among the top-level AND terms of where allow: nil when no term
// restricts the key (every table), empty when the terms contradict.
func keyTargets(r ruled, where ast.ExprNode) ([]shard.Target, Node) {
	return keyMatcher{t: r.table, conv: r.conv}.targets(where)
}

// keyMatcher finds conditions on a table's sharding key. owns, when set,
// says whether a column reference belongs to the table (in statements
// with several tables); otherwise any reference with the key's name does.
type keyMatcher struct {
	t    *shard.Table
	owns func(*ast.ColumnName) bool
	conv *keyConv
}

func (k keyMatcher) isKey(e ast.ExprNode) bool {
	c, ok := e.(*ast.ColumnNameExpr)
	if !ok || !k.t.IsKey(c.Name.Name.O) {
		return false
	}
	return k.owns == nil || k.owns(c.Name)
}

func (k keyMatcher) targets(where ast.ExprNode) ([]shard.Target, Node) {
	if where == nil {
		return nil, nil
	}
	var targets []shard.Target
	found := false
	var bad error
	var buf [4]ast.ExprNode
	for _, term := range appendAndTerms(buf[:0], where) {
		ts, ok, err := k.term(term)
		if err != nil {
			bad = err
			continue
		}
		if !ok {
			continue
		}
		if !found {
			targets = ts
			found = true
			continue
		}
		targets = intersect(targets, ts)
	}
	if bad != nil && !found {
		return nil, refuseErr(protocol.NewError(protocol.ErrWrongArguments, "HY000", "cannot place the key value: %v", bad))
	}
	if !found {
		return nil, nil
	}
	if targets == nil {
		targets = []shard.Target{}
	}
	return targets, nil
}

// term places one condition: key = v, key IN (...), a range on the key
// (pruned by range and date rules), or an OR of such conditions. ok is
// false when the term does not restrict the key.
func (k keyMatcher) term(term ast.ExprNode) ([]shard.Target, bool, error) {
	t := k.t
	switch x := term.(type) {
	case *ast.ParenthesesExpr:
		return k.term(x.Expr)
	case *ast.BinaryOperationExpr:
		switch x.Op {
		case opcode.LogicOr:
			l, lok, err := k.term(x.L)
			if err != nil || !lok {
				return nil, false, err
			}
			rt, rok, err := k.term(x.R)
			if err != nil || !rok {
				return nil, false, err
			}
			return union(l, rt), true, nil
		case opcode.LogicAnd:
			ts, err := k.targets(term)
			if err != nil {
				return nil, false, fmt.Errorf("%s", refused(err).Message)
			}
			return ts, ts != nil, nil
		case opcode.LT, opcode.LE, opcode.GT, opcode.GE:
			col, val, op := x.L, x.R, x.Op
			if !k.isKey(col) {
				col, val = x.R, x.L
				op = map[opcode.Op]opcode.Op{opcode.LT: opcode.GT, opcode.LE: opcode.GE, opcode.GT: opcode.LT, opcode.GE: opcode.LE}[op]
			}
			if !k.isKey(col) || len(t.Keys()) != 1 {
				return nil, false, nil
			}
			name := col.(*ast.ColumnNameExpr).Name.Name.O
			upper := op == opcode.LT || op == opcode.LE
			b, ok := k.conv.bound(name, val, op == opcode.LT || op == opcode.GT, upper)
			if !ok {
				return nil, false, nil
			}
			lo, hi := shard.Unbounded, shard.Unbounded
			if upper {
				hi = b
			} else {
				lo = b
			}
			ts, err := t.LocateRange(lo, hi)
			if err != nil {
				return nil, false, nil
			}
			return ts, true, nil
		}
	case *ast.BetweenExpr:
		if x.Not || !k.isKey(x.Expr) || len(t.Keys()) != 1 {
			return nil, false, nil
		}
		name := x.Expr.(*ast.ColumnNameExpr).Name.Name.O
		lo, lok := k.conv.bound(name, x.Left, false, false)
		hi, hok := k.conv.bound(name, x.Right, false, true)
		if !lok {
			lo = shard.Unbounded
		}
		if !hok {
			hi = shard.Unbounded
		}
		if !lok && !hok {
			return nil, false, nil
		}
		ts, err := t.LocateRange(lo, hi)
		if err != nil {
			return nil, false, nil
		}
		return ts, true, nil
	}
	var buf [1]shard.Value
	col, vals, ok := k.values(term, buf[:0])
	if !ok {
		return nil, false, nil
	}
	var out []shard.Target
	for _, v := range vals {
		ts, err := t.LocateColumn(col, v)
		if errors.Is(err, shard.ErrNoTarget) {
			// Outside every range or date configured: no row can match
			// (MariaDB answers an empty set).
			continue
		}
		if err != nil {
			return nil, false, err
		}
		if out == nil {
			out = ts // target lists are read-only: no copy needed
			continue
		}
		out = union(out, ts)
	}
	if out == nil {
		out = []shard.Target{}
	}
	return out, true, nil
}

// values recognizes key = literal, literal = key and key IN (literals);
// it appends the values to vals.
func (k keyMatcher) values(e ast.ExprNode, vals []shard.Value) (col string, _ []shard.Value, ok bool) {
	switch x := e.(type) {
	case *ast.BinaryOperationExpr:
		if x.Op != opcode.EQ {
			return "", nil, false
		}
		c, val := x.L, x.R
		if !k.isKey(c) {
			c, val = x.R, x.L
		}
		if !k.isKey(c) {
			return "", nil, false
		}
		name := c.(*ast.ColumnNameExpr).Name.Name.O
		v, none, ok := k.conv.equal(name, val)
		if !ok {
			return "", nil, false
		}
		if none {
			return name, nil, true
		}
		return name, append(vals, v), true
	case *ast.PatternInExpr:
		if x.Not || x.Sel != nil || !k.isKey(x.Expr) {
			return "", nil, false
		}
		name := x.Expr.(*ast.ColumnNameExpr).Name.Name.O
		for _, item := range x.List {
			v, none, ok := k.conv.equal(name, item)
			if !ok {
				return "", nil, false
			}
			if !none {
				vals = append(vals, v)
			}
		}
		return name, vals, true
	}
	return "", nil, false
}

// union merges two target lists keeping the order of the table list.
func union(a, b []shard.Target) []shard.Target {
	out := append([]shard.Target(nil), a...)
	for _, y := range b {
		dup := false
		for _, x := range out {
			if x == y {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, y)
		}
	}
	return out
}

// intersect returns the targets in both lists (never nil).
func intersect(a, b []shard.Target) []shard.Target {
	out := []shard.Target{}
	for _, x := range a {
		for _, y := range b {
			if x == y {
				out = append(out, x)
			}
		}
	}
	return out
}

// andTerms flattens a AND b AND c.
func andTerms(e ast.ExprNode) []ast.ExprNode {
	return appendAndTerms(nil, e)
}

// appendAndTerms appends the terms of a AND b AND c to dst.
func appendAndTerms(dst []ast.ExprNode, e ast.ExprNode) []ast.ExprNode {
	if p, ok := e.(*ast.ParenthesesExpr); ok {
		return appendAndTerms(dst, p.Expr)
	}
	if b, ok := e.(*ast.BinaryOperationExpr); ok && b.Op == opcode.LogicAnd {
		return appendAndTerms(appendAndTerms(dst, b.L), b.R)
	}
	return append(dst, e)
}

// insert routes INSERT/REPLACE ... VALUES by the key column of every row:
// rows on one physical table make one statement, rows on several are
// split into one statement per table (a write the executor applies
// atomically). A sequence column the INSERT omits (or gives as NULL or
// 0) is filled from ids first.
func insert(st ast.StmtNode, n *ast.InsertStmt, r ruled, src Sources) Node {
	t := r.table
	if n.Select != nil {
		return refuse(fmt.Sprintf("INSERT ... SELECT into sharded table %s", t.Name()))
	}
	if len(n.Lists) == 0 {
		return refuse("an INSERT without rows")
	}
	if len(n.Columns) == 0 && src.Columns != nil {
		// INSERT ... VALUES without a column list: name them all, so the
		// key's position is known.
		cols, err := src.Columns(t)
		if err != nil {
			return refuseErr(protocol.NewError(protocol.ErrUnknown, "HY000", "reading the columns of %s: %v", t.Name(), err))
		}
		if q := t.Sequence(); q != nil && rowsHave(n.Lists, len(cols)-1) {
			// One value short on a table with a sequence: the sequence
			// column is the one left out (ShardingSphere's rule); the
			// proxy fills it below.
			var rest []string
			for _, c := range cols {
				if !strings.EqualFold(c, q.Column) {
					rest = append(rest, c)
				}
			}
			if len(rest) == len(cols)-1 {
				cols = rest
			}
		}
		for i, row := range n.Lists {
			if len(row) != len(cols) {
				return refuseErr(protocol.NewError(1136, "21S01", "Column count doesn't match value count at row %d", i+1))
			}
		}
		for _, c := range cols {
			n.Columns = append(n.Columns, &ast.ColumnName{Name: ast.NewCIStr(c)})
		}
	}
	firstID, perr := fillSequence(n, t, src.IDs)
	if perr != nil {
		return perr
	}
	var keyBuf [2]int
	keyCols := keyBuf[:0]
	if len(t.Keys()) > len(keyBuf) {
		keyCols = make([]int, 0, len(t.Keys()))
	}
	keyCols = keyCols[:len(t.Keys())]
	for k, key := range t.Keys() {
		keyCols[k] = -1
		for i, c := range n.Columns {
			if strings.EqualFold(c.Name.O, key) {
				keyCols[k] = i
			}
		}
		if keyCols[k] < 0 {
			return refuseErr(protocol.NewError(protocol.ErrWrongArguments, "HY000",
				"INSERT into sharded table %s must name its key column %s with a value (the proxy places the row by it)", t.Name(), key))
		}
	}
	for _, as := range n.OnDuplicate {
		if t.IsKey(as.Column.Name.O) {
			return refuse(fmt.Sprintf("ON DUPLICATE KEY UPDATE of the sharding key %s.%s", t.Name(), as.Column.Name.O))
		}
	}
	// Rows on one physical table (the usual INSERT) need no grouping: the
	// groups are built when a second table appears.
	var first shard.Target
	var order []shard.Target
	var groups map[shard.Target][][]ast.ExprNode
	var rowNums map[shard.Target][]int
	var valBuf [2]shard.Value
	for i, row := range n.Lists {
		vals := valBuf[:0]
		for k, kc := range keyCols {
			if kc >= len(row) || len(row) != len(n.Columns) {
				return refuseErr(protocol.NewError(1136, "21S01", "Column count doesn't match value count at row %d", i+1))
			}
			v, ok := r.conv.stored(t.Keys()[k], row[kc])
			if !ok {
				return refuse(insertKeyRefusal(t, t.Keys()[k], r.conv.typeOf(t.Keys()[k]), row[kc]))
			}
			vals = append(vals, v)
		}
		var x shard.Target
		var err error
		if len(vals) == 1 {
			x, err = t.Locate(vals[0])
		} else {
			x, err = t.LocateKeys(vals...)
		}
		if errors.Is(err, shard.ErrNoTarget) {
			// Like a partitioned table without a partition for the value.
			return refuseErr(protocol.NewError(ErrNoPartitionForValue, "HY000", "Table has no partition for value %s (%v)", vals[0], err))
		}
		if err != nil {
			return refuseErr(protocol.NewError(protocol.ErrWrongArguments, "HY000", "cannot place the key value: %v", err))
		}
		switch {
		case i == 0:
			first = x
			continue
		case groups == nil && x == first:
			continue
		case groups == nil:
			// A second table: rows 0..i-1 are all on the first.
			order = []shard.Target{first}
			groups = map[shard.Target][][]ast.ExprNode{first: n.Lists[:i:i]}
			nums := make([]int, i)
			for j := range nums {
				nums[j] = j
			}
			rowNums = map[shard.Target][]int{first: nums}
		}
		if _, seen := groups[x]; !seen {
			order = append(order, x)
		}
		groups[x] = append(groups[x], row)
		rowNums[x] = append(rowNums[x], i)
	}
	if groups == nil {
		p := single(st, r, first)
		if rt, ok := p.(*Route); ok && firstID != 0 {
			return &Write{Steps: []Step{rt.Step}, InsertID: firstID}
		}
		return p
	}
	all := n.Lists
	defer func() { n.Lists = all }()
	p := &Write{InsertID: firstID}
	for _, x := range order {
		n.Lists = groups[x]
		sql, err := rewrite(st, r, x)
		if err != nil {
			return refuseErr(protocol.NewError(protocol.ErrUnknown, "HY000", "rewriting for %s: %v", x.Table, err))
		}
		p.Steps = append(p.Steps, Step{Slice: x.Slice, Database: x.Database, SQL: sql})
		p.Rows = append(p.Rows, rowNums[x])
	}
	return p
}

// rowsHave reports whether every row has n values.
func rowsHave(rows [][]ast.ExprNode, n int) bool {
	for _, r := range rows {
		if len(r) != n {
			return false
		}
	}
	return len(rows) > 0
}

// fillSequence gives the rows that omit t's sequence column (or give NULL
// or 0) IDs from ids, and returns the first.
func fillSequence(n *ast.InsertStmt, t *shard.Table, ids IDSource) (uint64, Node) {
	q := t.Sequence()
	if q == nil {
		return 0, nil
	}
	col := -1
	for i, c := range n.Columns {
		if strings.EqualFold(c.Name.O, q.Column) {
			col = i
		}
	}
	var need []int
	for i, row := range n.Lists {
		if col < 0 {
			need = append(need, i)
			continue
		}
		if col >= len(row) {
			continue
		}
		if v, ok := row[col].(ast.ValueExpr); ok {
			switch x := v.GetValue().(type) {
			case nil:
				need = append(need, i)
			case int64:
				if x == 0 {
					need = append(need, i)
				}
			case uint64:
				if x == 0 {
					need = append(need, i)
				}
			}
		}
	}
	if len(need) == 0 {
		return 0, nil
	}
	if ids == nil {
		return 0, refuse(fmt.Sprintf("an INSERT into %s that needs IDs from its sequence here", t.Name()))
	}
	got := make([]uint64, len(need))
	if err := ids(t, got); err != nil {
		return 0, refuseErr(protocol.NewError(protocol.ErrUnknown, "HY000", "sequence of %s: %v", t.Name(), err))
	}
	if col < 0 {
		n.Columns = append(n.Columns, &ast.ColumnName{Name: ast.NewCIStr(q.Column)})
		col = len(n.Columns) - 1
	}
	for k, i := range need {
		v := ast.NewValueExpr(got[k], "", "")
		if col < len(n.Lists[i]) {
			n.Lists[i][col] = v
		} else {
			n.Lists[i] = append(n.Lists[i], v)
		}
	}
	return got[0], nil
}

// single rewrites st for one physical table.
func single(st ast.StmtNode, r ruled, x shard.Target) Node {
	if sel, ok := st.(*ast.SelectStmt); ok && sel.Fields != nil {
		for _, f := range sel.Fields.Fields {
			keepLabel(f)
		}
	}
	sql, err := rewrite(st, r, x)
	if err != nil {
		return refuseErr(protocol.NewError(protocol.ErrUnknown, "HY000", "rewriting for %s: %v", x.Table, err))
	}
	return &Route{Step: Step{Slice: x.Slice, Database: x.Database, SQL: sql}}
}

// fanout rewrites st once per physical table.
func fanout(st ast.StmtNode, r ruled, targets []shard.Target) Node {
	p := &Fanout{}
	for _, x := range targets {
		sql, err := rewrite(st, r, x)
		if err != nil {
			return refuseErr(protocol.NewError(protocol.ErrUnknown, "HY000", "rewriting for %s: %v", x.Table, err))
		}
		p.Steps = append(p.Steps, Step{Slice: x.Slice, Database: x.Database, SQL: sql})
	}
	return p
}

// rewrite replaces the logical table (and qualified column references to
// it) with the physical one, prints the statement, and restores the AST.
func rewrite(st ast.StmtNode, r ruled, x shard.Target) (string, error) {
	return rewriteMulti(st, []ruled{r}, []shard.Target{x})
}

// rewriteMulti replaces every ruled table reference refs[i] with the
// physical table xs[i] (and qualified column references to them), prints
// the statement, and restores the AST.
func rewriteMulti(st ast.StmtNode, refs []ruled, xs []shard.Target) (string, error) {
	rw := rewriteStates.Get().(*rewriteState)
	// Columns qualified by an alias keep it; only references by the
	// table's own name (unaliased tables) are renamed.
	st.Accept(&rw.scan)
	defer rw.restore()
	for i, r := range refs {
		x := xs[i]
		tn := r.node
		rw.undo = append(rw.undo, savedName{tn, tn.Name, tn.Schema})
		oldSchema := tn.Schema
		logical := tn.Name.L
		tn.Name = ast.NewCIStr(x.Table)
		if tn.Schema.O != "" || !strings.EqualFold(x.Database, r.table.Database()) {
			tn.Schema = ast.NewCIStr(x.Database)
		}
		if logical == strings.ToLower(x.Table) && tn.Schema.L == oldSchema.L {
			continue
		}
		if !rw.scan.qualified || rw.scan.isAliased(tn) {
			continue // no column or t.* names the table
		}
		cols := rw.renamer()
		*cols = columnRenamer{from: logical, to: x.Table}
		if tn.Schema.O != "" || oldSchema.O != "" {
			cols.schema = tn.Schema
		}
		st.Accept(cols)
	}
	var subst map[ast.Node]string
	var forms map[*test_driver.ValueExpr]bool
	for _, r := range refs {
		if r.subst != nil {
			subst = r.subst
		}
		if r.conv != nil && r.conv.hex != nil {
			forms = r.conv.hex
		}
	}
	return restoreSQLWith(st, st.OriginalText(), subst, forms) // as in planShard
}

// rewriteState is what rewriteMulti changes in the AST, to put it back
// (reused: rewriteStates).
type rewriteState struct {
	scan     rewriteScan
	undo     []savedName
	renamers []*columnRenamer
}

var rewriteStates = sync.Pool{New: func() any { return &rewriteState{} }}

type savedName struct {
	tn           *ast.TableName
	name, schema ast.CIStr
}

// renamer returns a new column renamer to fill.
func (rw *rewriteState) renamer() *columnRenamer {
	c := &columnRenamer{}
	rw.renamers = append(rw.renamers, c)
	return c
}

// restore puts back the names rewriteMulti replaced, last first, and
// returns rw to its pool.
func (rw *rewriteState) restore() {
	for i := len(rw.renamers) - 1; i >= 0; i-- {
		cols := rw.renamers[i]
		for _, c := range cols.renamed {
			c.Table = cols.oldTables[c]
			c.Schema = cols.oldSchemas[c]
		}
		for w, old := range cols.oldWild {
			w.Table, w.Schema = old[0], old[1]
		}
	}
	for i := len(rw.undo) - 1; i >= 0; i-- {
		rw.undo[i].tn.Name, rw.undo[i].tn.Schema = rw.undo[i].name, rw.undo[i].schema
	}
	clear(rw.undo)
	clear(rw.renamers)
	clear(rw.scan.aliased)
	*rw = rewriteState{undo: rw.undo[:0], renamers: rw.renamers[:0], scan: rewriteScan{aliased: rw.scan.aliased[:0]}}
	rewriteStates.Put(rw)
}

// rewriteScan learns in one walk which table references have an alias and
// whether any column or t.* is qualified by a table (only then are column
// references renamed).
type rewriteScan struct {
	aliased   []*ast.TableName
	qualified bool
}

func (v *rewriteScan) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.TableSource:
		if tn, ok := x.Source.(*ast.TableName); ok && x.AsName.O != "" {
			v.aliased = append(v.aliased, tn)
		}
	case *ast.SelectField:
		if x.WildCard != nil && x.WildCard.Table.O != "" {
			v.qualified = true
		}
	case *ast.ColumnName:
		if x.Table.O != "" {
			v.qualified = true
		}
	}
	return n, false
}

func (v *rewriteScan) Leave(n ast.Node) (ast.Node, bool) { return n, true }

func (v *rewriteScan) isAliased(tn *ast.TableName) bool {
	for _, x := range v.aliased {
		if x == tn {
			return true
		}
	}
	return false
}

type columnRenamer struct {
	from, to   string
	schema     ast.CIStr
	renamed    []*ast.ColumnName
	oldSchemas map[*ast.ColumnName]ast.CIStr
	oldTables  map[*ast.ColumnName]ast.CIStr
	oldWild    map[*ast.WildCardField][2]ast.CIStr
}

func (v *columnRenamer) Enter(n ast.Node) (ast.Node, bool) {
	if sf, ok := n.(*ast.SelectField); ok && sf.WildCard != nil && sf.WildCard.Table.L == v.from {
		w := sf.WildCard
		// t.* names the table too.
		if v.oldWild == nil {
			v.oldWild = map[*ast.WildCardField][2]ast.CIStr{}
		}
		v.oldWild[w] = [2]ast.CIStr{w.Table, w.Schema}
		w.Table = ast.NewCIStr(v.to)
		if w.Schema.O != "" {
			w.Schema = v.schema
		}
		return n, false
	}
	if c, ok := n.(*ast.ColumnName); ok && c.Table.L == v.from {
		if v.oldSchemas == nil {
			v.oldSchemas = map[*ast.ColumnName]ast.CIStr{}
			v.oldTables = map[*ast.ColumnName]ast.CIStr{}
		}
		v.oldSchemas[c] = c.Schema
		v.oldTables[c] = c.Table
		c.Table = ast.NewCIStr(v.to)
		if c.Schema.O != "" {
			c.Schema = v.schema
		}
		v.renamed = append(v.renamed, c)
	}
	return n, false
}

func (v *columnRenamer) Leave(n ast.Node) (ast.Node, bool) { return n, true }
