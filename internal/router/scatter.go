package router

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/switchyard-db/switchyard/internal/merge"
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/shard"
)

// Scatter describes a SELECT sent to several physical tables whose result
// sets the proxy merges (Merge.Steps holds one statement per table).
type Scatter struct {
	// Plan is the merge plan. With a wildcard in the select list the number
	// of physical columns is known only at run time; Bind completes it.
	Plan merge.Plan
	// Hidden counts the trailing physical columns added for ORDER BY,
	// GROUP BY, HAVING and AVG; the client does not see them.
	Hidden int
	// Wildcard: the select list has a * (only in queries without grouping).
	// Order columns then count from the end: -1 is the last column.
	Wildcard bool
}

// Bind returns the merge plan for physical results of n columns.
func (sc *Scatter) Bind(n int) (*merge.Plan, error) {
	if !sc.Wildcard {
		if n != len(sc.Plan.Aggs) {
			return nil, fmt.Errorf("physical result has %d columns, the merge plan expects %d", n, len(sc.Plan.Aggs))
		}
		p := sc.Plan
		return &p, nil
	}
	if n < sc.Hidden {
		return nil, fmt.Errorf("physical result has %d columns, fewer than the %d the proxy added", n, sc.Hidden)
	}
	p := sc.Plan
	p.Aggs = make([]merge.Agg, n)
	p.Output = make([]merge.Expr, n)
	for i := range p.Output {
		p.Output[i] = merge.Col{I: i}
	}
	p.Visible = n - sc.Hidden
	fix := func(os []merge.Order) []merge.Order {
		out := make([]merge.Order, len(os))
		for i, o := range os {
			if o.Col < 0 {
				o.Col += n
			}
			out[i] = o
		}
		return out
	}
	p.SourceOrder = fix(p.SourceOrder)
	p.OrderBy = fix(p.OrderBy)
	return &p, nil
}

// scatterBuilder turns a single-table SELECT into physical statements and
// a merge plan.
type scatterBuilder struct {
	sel    *ast.SelectStmt
	fields []*ast.SelectField // the client's select items
	orig   []ast.ExprNode     // each item's expression as the client wrote it
	// exprItems are the items that are expressions over aggregates.
	exprItems []int
	// refs are the statement's tables with rules.
	refs []ruled
	// shadowed are GROUP BY names resolved to a table column although a
	// select alias has the same name.
	shadowed map[string]bool
	keys     []string // restored text of each item's expression (before rewriting)
	aliases  []string
	aggs     []merge.Agg
	outputs  []merge.Expr
	hidden   int
	wildcard bool
	// plainStar: the select list has an unqualified *; hiddenCols: every
	// hidden column is a plain column reference.
	plainStar  bool
	hiddenExpr bool
	grouped    bool
	// distinct aggregates: the argument's text and the physical column.
	distinctKey string
	distinctCol int
	distinctArg ast.ExprNode
	err         Node
}

func (b *scatterBuilder) refuse(what string) {
	if b.err == nil {
		b.err = refuse(what)
	}
}

// exprText is the canonical text of an expression, used to match ORDER BY,
// GROUP BY and HAVING terms with select items.
func exprText(e ast.Node) string {
	text, err := restoreText(e, 16)
	if err != nil {
		return fmt.Sprintf("%p", e)
	}
	return strings.ToLower(text)
}

// hasAggregate reports whether e contains an aggregate (or window) function.
func hasAggregate(e ast.Node) bool {
	switch e.(type) {
	case *ast.ColumnNameExpr, ast.ValueExpr:
		return false // no children
	}
	v := &aggFinder{}
	e.Accept(v)
	return v.found
}

type aggFinder struct{ found bool }

func (v *aggFinder) Enter(n ast.Node) (ast.Node, bool) {
	switch n.(type) {
	case *ast.AggregateFuncExpr, *ast.WindowFuncExpr:
		v.found = true
		return n, true
	case *ast.SubqueryExpr:
		return n, true
	}
	return n, false
}

func (v *aggFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// planScatter plans a SELECT on one sharded table over targets.
func planScatter(n *ast.SelectStmt, r ruled, targets []shard.Target) Node {
	sets := make([][]shard.Target, len(targets))
	one := append([]shard.Target(nil), targets...) // one allocation for the sets
	for i := range one {
		sets[i] = one[i : i+1 : i+1]
	}
	return planScatterSets(n, []ruled{r}, sets)
}

// planScatterSets plans a SELECT sent once per target set (one target per
// ruled table reference) and merged.
func planScatterSets(n *ast.SelectStmt, refs []ruled, sets [][]shard.Target) Node {
	switch {
	case n.SelectStmtOpts != nil && n.SelectStmtOpts.CalcFoundRows:
		return refuse("SQL_CALC_FOUND_ROWS in a query over several shards")
	case n.SelectIntoOpt != nil:
		return refuse("SELECT ... INTO in a query over several shards")
	case n.GroupBy != nil && n.GroupBy.Rollup:
		return refuse("GROUP BY ... WITH ROLLUP in a query over several shards")
	case n.WindowSpecs != nil:
		return refuse("window functions in a query over several shards")
	}
	b := &scatterBuilder{sel: n, fields: n.Fields.Fields, refs: refs}
	b.keys = make([]string, 0, len(b.fields))
	b.aliases = make([]string, 0, len(b.fields))
	b.orig = make([]ast.ExprNode, 0, len(b.fields))
	for _, f := range b.fields {
		if f.WildCard != nil {
			b.wildcard = true
			if f.WildCard.Table.O == "" {
				b.plainStar = true
			}
			b.keys = append(b.keys, "*")
		} else {
			b.keys = append(b.keys, exprText(unparen(f.Expr)))
		}
		b.aliases = append(b.aliases, f.AsName.L)
		b.orig = append(b.orig, f.Expr)
		if f.Expr != nil && hasAggregate(f.Expr) {
			b.grouped = true
		}
	}
	if n.GroupBy != nil {
		b.grouped = true
	}
	if b.wildcard && b.grouped {
		return refuse("SELECT * together with GROUP BY or aggregate functions in a query over several shards; name the columns")
	}
	if n.Having != nil && !b.grouped && hasAggregate(n.Having) {
		b.grouped = true
	}
	// The client's items come first; hidden columns are appended after.
	b.aggs = make([]merge.Agg, len(b.fields))
	b.outputs = make([]merge.Expr, len(b.fields))
	for i, f := range b.fields {
		b.item(i, f)
	}
	// Expressions over aggregates read the merged aggregates: a term that
	// resolved to a column whose output is computed (AVG from SUM and
	// COUNT, a DISTINCT aggregate, another expression) reads that
	// computation, not the physical partial. Their type is the physical
	// column's: the shards evaluate the same expression.
	for _, i := range b.exprItems {
		b.outputs[i] = merge.AsColumn{E: b.merged(b.outputs[i], 0), Col: i}
	}
	sc := &Scatter{Wildcard: b.wildcard}
	p := &sc.Plan
	p.Limit = -1
	if b.grouped {
		b.planGrouped(p)
	} else {
		b.planPlain(p)
	}
	// Other aggregates stay right next to DISTINCT ones: grouping the
	// physical rows by (group keys, DISTINCT argument) only partitions each
	// group further, and partial COUNT/SUM/MIN/MAX/GROUP_CONCAT combine.
	if b.err != nil {
		return b.err
	}
	if n.Limit != nil {
		off, cnt, ok := limitValues(n.Limit)
		if !ok {
			return refuse("a LIMIT that is not a number in a query over several shards")
		}
		p.Offset, p.Limit = off, int64(cnt)
		if cnt > math.MaxInt64 {
			p.Limit = -1 // LIMIT 18446744073709551615: no limit
		}
		switch {
		case b.grouped || p.NeedSort || off+cnt < cnt:
			// Groups and sorts need every row; an offset+count that
			// overflows means no limit per shard.
			n.Limit = nil
		default:
			n.Limit = &ast.Limit{Count: ast.NewValueExpr(off+cnt, "", "")}
		}
	}
	p.Distinct = nil
	if b.distinctArg != nil {
		c := b.distinctCol
		p.Distinct = &c
	}
	p.Aggs, p.Output = b.aggs, b.outputs
	p.Visible = len(b.fields)
	sc.Hidden = b.hidden
	if b.wildcard {
		p.Aggs, p.Output, p.Visible = nil, nil, 0
	}
	p.DistinctRows = n.Distinct
	if n.Distinct && sc.Hidden > 0 && !b.grouped && !(b.plainStar && !b.hiddenExpr && singleTable(n)) {
		return refuse("SELECT DISTINCT ordered by a column it does not select, in a query over several shards")
	}
	return stepsAt(n, refs, sets, sc)
}

// item plans select item i: its combiner, its output and the physical
// expression that feeds it.
func (b *scatterBuilder) item(i int, f *ast.SelectField) {
	b.outputs[i] = merge.Col{I: i}
	if f.WildCard != nil {
		return
	}
	keepLabel(f)
	agg, ok := unparen(f.Expr).(*ast.AggregateFuncExpr)
	if !ok {
		if hasAggregate(f.Expr) {
			// An expression over aggregates: the physical column keeps the
			// expression (for its label and type); the proxy computes the
			// value from the combined aggregates.
			if _, win := f.Expr.(*ast.WindowFuncExpr); win {
				b.refuse("window functions in a query over several shards")
				return
			}
			b.outputs[i] = b.havingExpr(f.Expr)
			b.exprItems = append(b.exprItems, i)
		}
		return
	}
	a, out, phys := b.aggregate(agg, i)
	if phys != nil {
		f.Expr = phys
	}
	b.aggs[i], b.outputs[i] = a, out
}

// keepLabel aliases a select item that is not a plain column with the text
// the client wrote, so that the column label the client sees is its own
// expression and not the parser's rendering (count(*), not COUNT(1)).
func keepLabel(f *ast.SelectField) {
	if f.WildCard != nil || f.AsName.O != "" {
		return
	}
	if _, isCol := unparen(f.Expr).(*ast.ColumnNameExpr); isCol {
		return
	}
	label := f.Text()
	if v, ok := f.Expr.(ast.ValueExpr); ok {
		// MariaDB labels a string literal with its value ('it''s' -> it's).
		if s, ok := v.GetValue().(string); ok && label != "" && strings.ContainsAny(label[len(label)-1:], `'"`) {
			if s == "" {
				return // the server's own label (empty)
			}
			label = s
		}
	}
	if label == "" {
		label = exprText(f.Expr)
	}
	if len(label) > 256 {
		label = label[:256]
	}
	f.AsName = ast.NewCIStr(label)
}

// aggregate plans one aggregate function at physical column col. It
// returns the combiner, the output expression and a replacement physical
// expression (nil: keep the aggregate as written).
func (b *scatterBuilder) aggregate(agg *ast.AggregateFuncExpr, col int) (merge.Agg, merge.Expr, ast.ExprNode) {
	name := strings.ToLower(agg.F)
	if agg.Distinct && name != ast.AggFuncMin && name != ast.AggFuncMax {
		if len(agg.Args) == 0 || (name == ast.AggFuncGroupConcat && len(agg.Args) != 2) || (name != ast.AggFuncGroupConcat && len(agg.Args) != 1) {
			b.refuse(fmt.Sprintf("%s(DISTINCT ...) over several expressions in a query over several shards", strings.ToUpper(name)))
			return merge.Agg{}, merge.Col{I: col}, nil
		}
		if agg.Order != nil {
			b.refuse("GROUP_CONCAT(... ORDER BY ...) in a query over several shards")
		}
		arg := agg.Args[0]
		key := exprText(arg)
		if b.distinctArg != nil && b.distinctKey != key {
			b.refuse("DISTINCT aggregates over different expressions in one query over several shards")
		}
		if b.distinctArg == nil {
			b.distinctArg, b.distinctKey, b.distinctCol = arg, key, col
		}
		var fn merge.DistinctFunc
		sep := ""
		switch name {
		case ast.AggFuncCount:
			fn = merge.DistinctCount
		case ast.AggFuncSum:
			fn = merge.DistinctSum
		case ast.AggFuncAvg:
			fn = merge.DistinctAvg
		case ast.AggFuncGroupConcat:
			fn = merge.DistinctGroupConcat
			sep = separator(agg)
		default:
			b.refuse(fmt.Sprintf("%s(DISTINCT ...) in a query over several shards", strings.ToUpper(name)))
		}
		return merge.Agg{}, merge.DistinctAgg{Func: fn, Sep: sep}, arg
	}
	switch name {
	case ast.AggFuncCount:
		if len(agg.Args) != 1 {
			b.refuse("COUNT over several expressions in a query over several shards")
		}
		return merge.Agg{Func: merge.AggCount}, merge.Col{I: col}, nil
	case ast.AggFuncSum:
		return merge.Agg{Func: merge.AggSum}, merge.Col{I: col}, nil
	case ast.AggFuncMin:
		return merge.Agg{Func: merge.AggMin}, merge.Col{I: col}, nil
	case ast.AggFuncMax:
		return merge.Agg{Func: merge.AggMax}, merge.Col{I: col}, nil
	case ast.AggFuncGroupConcat:
		if agg.Order != nil {
			b.refuse("GROUP_CONCAT(... ORDER BY ...) in a query over several shards")
		}
		return merge.Agg{Func: merge.AggGroupConcat, Sep: separator(agg)}, merge.Col{I: col}, nil
	case ast.AggFuncAvg:
		sum := &ast.AggregateFuncExpr{F: ast.AggFuncSum, Args: agg.Args}
		cnt := b.addHidden(&ast.AggregateFuncExpr{F: ast.AggFuncCount, Args: agg.Args}, merge.Agg{Func: merge.AggCount}, nil)
		// The shards' own AVG gives the column its type (precision,
		// scale); its value is not used.
		typ := b.addHidden(&ast.AggregateFuncExpr{F: ast.AggFuncAvg, Args: agg.Args}, merge.Agg{}, nil)
		return merge.Agg{Func: merge.AggSum}, merge.AsColumn{E: merge.Avg{Sum: col, Count: cnt}, Col: typ}, sum
	}
	b.refuse(fmt.Sprintf("the aggregate function %s() in a query over several shards", strings.ToUpper(name)))
	return merge.Agg{}, merge.Col{I: col}, nil
}

// separator is GROUP_CONCAT's separator (the parser stores it as the last
// argument).
func separator(agg *ast.AggregateFuncExpr) string {
	if len(agg.Args) > 1 {
		if v, ok := agg.Args[len(agg.Args)-1].(ast.ValueExpr); ok {
			if s, ok := v.GetValue().(string); ok {
				return s
			}
		}
	}
	return ","
}

// unparen strips parentheses around an expression.
func unparen(e ast.ExprNode) ast.ExprNode {
	for {
		p, ok := e.(*ast.ParenthesesExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

// singleTable reports whether a SELECT reads one table.
func singleTable(n *ast.SelectStmt) bool {
	return n.From != nil && n.From.TableRefs != nil && n.From.TableRefs.Right == nil
}

// addHidden appends a physical column the client does not see and returns
// its index. out nil means the column is its own output.
func (b *scatterBuilder) addHidden(e ast.ExprNode, a merge.Agg, out merge.Expr) int {
	if _, isCol := e.(*ast.ColumnNameExpr); !isCol {
		// A DISTINCT over * stays the same with hidden plain columns of
		// the table only.
		b.hiddenExpr = true
	}
	idx := len(b.aggs)
	b.hidden++
	b.sel.Fields.Fields = append(b.sel.Fields.Fields, &ast.SelectField{Expr: e, AsName: ast.NewCIStr(fmt.Sprintf("_sy_hidden_%d", b.hidden))})
	if out == nil {
		out = merge.Col{I: idx}
	}
	b.aggs = append(b.aggs, a)
	b.outputs = append(b.outputs, out)
	return idx
}

// resolve finds the physical column that holds e (an ORDER BY, GROUP BY
// or HAVING term), adding a hidden one when no select item does.
func (b *scatterBuilder) resolve(e ast.ExprNode) int {
	e = unparen(e)
	if p, ok := e.(*ast.PositionExpr); ok {
		if p.P != nil || p.N < 1 || p.N > len(b.fields) || b.wildcard {
			b.refuse("an ORDER BY or GROUP BY position that is not a plain select item number in a query over several shards")
			return 0
		}
		return p.N - 1
	}
	if !b.wildcard {
		if c, ok := e.(*ast.ColumnNameExpr); ok {
			if c.Name.Table.O == "" {
				for i, al := range b.aliases {
					if al != "" && al == c.Name.Name.L {
						return i
					}
				}
			}
			for i, f := range b.fields {
				if f.WildCard != nil {
					continue
				}
				// The client's expression: an aggregate's physical column
				// may have been rewritten to its argument.
				if fc, ok := unparen(b.orig[i]).(*ast.ColumnNameExpr); ok && fc.Name.Name.L == c.Name.Name.L &&
					(c.Name.Table.O == "" || fc.Name.Table.O == "" || fc.Name.Table.L == c.Name.Table.L) {
					return i
				}
			}
		}
		key := exprText(e)
		for i, k := range b.keys {
			if k == key {
				return i
			}
		}
	}
	if agg, ok := e.(*ast.AggregateFuncExpr); ok {
		idx := b.addHidden(agg, merge.Agg{}, nil)
		f := b.sel.Fields.Fields[len(b.sel.Fields.Fields)-1]
		a, out, phys := b.aggregate(agg, idx)
		if phys != nil {
			f.Expr = phys
		}
		b.aggs[idx], b.outputs[idx] = a, out
		return idx
	}
	if hasAggregate(e) {
		b.refuse("an expression over aggregate functions in ORDER BY or HAVING of a query over several shards")
		return 0
	}
	// A non-aggregate term: in a grouped query its value is the group's.
	return b.addHidden(e, merge.Agg{}, nil)
}

// planPlain plans a query without grouping: rows are merged in the
// physical ORDER BY, which stays as written.
func (b *scatterBuilder) planPlain(p *merge.Plan) {
	n := b.sel
	if n.OrderBy == nil {
		return
	}
	absolute := make([]bool, 0, len(n.OrderBy.Items))
	p.SourceOrder = make([]merge.Order, 0, len(n.OrderBy.Items))
	for _, by := range n.OrderBy.Items {
		if isNullOrder(by) {
			continue
		}
		if pos, ok := by.Expr.(*ast.PositionExpr); ok && b.wildcard && len(b.fields) == 1 && pos.P == nil && pos.N >= 1 {
			// SELECT * ... ORDER BY n: the n-th column of the table.
			p.SourceOrder = append(p.SourceOrder, merge.Order{Col: pos.N - 1, Desc: by.Desc})
			absolute = append(absolute, true)
			continue
		}
		col := b.resolve(by.Expr)
		if b.wildcard {
			// With a wildcard every ORDER BY term is a hidden column; keep
			// its ordinal among them for now.
			col -= len(b.fields)
		}
		p.SourceOrder = append(p.SourceOrder, merge.Order{Col: col, Desc: by.Desc})
		absolute = append(absolute, false)
	}
	if len(p.SourceOrder) == 0 {
		p.SourceOrder = nil // only NULL terms: no order
	}
	if b.wildcard {
		// Hidden columns come last: count from the end (Bind resolves).
		for i := range p.SourceOrder {
			if !absolute[i] {
				p.SourceOrder[i].Col -= b.hidden
			}
		}
	}
	p.OrderBy = append([]merge.Order(nil), p.SourceOrder...)
}

func isNullOrder(by *ast.ByItem) bool {
	v, ok := by.Expr.(ast.ValueExpr)
	return ok && v.GetValue() == nil
}

// planGrouped plans a query with GROUP BY or aggregates: physical rows
// come ordered by the group keys (and the DISTINCT argument) and fold
// streaming; the client's ORDER BY sorts the folded rows when it differs.
func (b *scatterBuilder) planGrouped(p *merge.Plan) {
	n := b.sel
	p.Grouped = true
	var physOrder []*ast.ByItem
	if n.GroupBy != nil {
		for _, by := range n.GroupBy.Items {
			var col int
			orderBy := by.Expr
			if c, ok := unparen(by.Expr).(*ast.ColumnNameExpr); ok && b.aliasShadows(c) && b.tableColumn(c) {
				// GROUP BY a name that is both a select alias and a table
				// column: MariaDB groups by the column. The hidden select
				// item names the column; the physical ORDER BY (where the
				// alias would win) names the hidden item.
				col = b.addHidden(c, merge.Agg{}, nil)
				if b.shadowed == nil {
					b.shadowed = map[string]bool{}
				}
				b.shadowed[c.Name.Name.L] = true
				orderBy = &ast.ColumnNameExpr{Name: &ast.ColumnName{Name: b.sel.Fields.Fields[len(b.sel.Fields.Fields)-1].AsName}}
			} else {
				col = b.resolve(by.Expr)
			}
			p.GroupBy = append(p.GroupBy, col)
			p.SourceOrder = append(p.SourceOrder, merge.Order{Col: col})
			physOrder = append(physOrder, &ast.ByItem{Expr: orderBy, NullOrder: true})
		}
	}
	// HAVING and ORDER BY are resolved before the DISTINCT argument is
	// added to the physical grouping: a DISTINCT aggregate may appear
	// only there.
	if n.Having != nil {
		b.checkHavingColumns(n.Having.Expr)
		if len(b.shadowed) > 0 {
			v := &havingCols{}
			n.Having.Expr.Accept(v)
			for _, c := range v.cols {
				if c.Name.Table.O == "" && b.shadowed[c.Name.Name.L] {
					b.refuse("HAVING on a name that is both a select alias and the table column GROUP BY uses")
				}
			}
		}
		p.Having = b.havingExpr(n.Having.Expr)
		n.Having = nil
	}
	if n.OrderBy != nil {
		for _, by := range n.OrderBy.Items {
			if isNullOrder(by) {
				continue
			}
			col := b.resolve(by.Expr)
			p.OrderBy = append(p.OrderBy, merge.Order{Col: col, Desc: by.Desc})
		}
	}
	if b.distinctArg != nil {
		if n.GroupBy == nil {
			n.GroupBy = &ast.GroupByClause{}
		}
		n.GroupBy.Items = append(n.GroupBy.Items, &ast.ByItem{Expr: b.distinctArg, NullOrder: true})
		p.SourceOrder = append(p.SourceOrder, merge.Order{Col: b.distinctCol})
		physOrder = append(physOrder, &ast.ByItem{Expr: b.distinctArg, NullOrder: true})
	}
	// Rows leave the fold in group-key order; a sort is needed unless the
	// client's ORDER BY is an ascending prefix of the group keys.
	p.NeedSort = len(p.OrderBy) > 0
	if len(p.OrderBy) <= len(p.GroupBy) {
		prefix := true
		for i, o := range p.OrderBy {
			if o.Desc || o.Col != p.GroupBy[i] {
				prefix = false
			}
		}
		if prefix {
			p.NeedSort = false
		}
	}
	if len(physOrder) > 0 {
		n.OrderBy = &ast.OrderByClause{Items: physOrder}
	} else {
		n.OrderBy = nil
	}
}

// aliasShadows reports whether an unqualified name is the alias of a select
// item other than a column of that name.
func (b *scatterBuilder) aliasShadows(c *ast.ColumnNameExpr) bool {
	if c.Name.Table.O != "" {
		return false
	}
	for i, al := range b.aliases {
		if al != "" && al == c.Name.Name.L {
			fc, ok := unparen(b.orig[i]).(*ast.ColumnNameExpr)
			return !ok || fc.Name.Name.L != c.Name.Name.L
		}
	}
	return false
}

// tableColumn reports whether exactly one table of the statement has the
// column c (with several, MariaDB's GROUP BY takes the alias); when a
// table's columns cannot be read the plan is refused.
func (b *scatterBuilder) tableColumn(c *ast.ColumnNameExpr) bool {
	// Only the tables of this SELECT's FROM clause (not of subqueries).
	inFrom := map[*ast.TableName]bool{}
	if b.sel.From != nil && b.sel.From.TableRefs != nil {
		b.sel.From.TableRefs.Accept(&fromTables{seen: inFrom})
	}
	n := 0
	for _, r := range b.refs {
		if !inFrom[r.node] {
			continue
		}
		if r.cols == nil {
			b.refuse("GROUP BY a select alias that may also be a table column (the columns are unknown)")
			return false
		}
		cols, err := r.cols(r.table)
		if err != nil {
			b.refuse("GROUP BY a select alias that may also be a table column (reading the columns: " + err.Error() + ")")
			return false
		}
		for _, x := range cols {
			if strings.EqualFold(x, c.Name.Name.O) {
				n++
				break
			}
		}
	}
	return n == 1
}

// fromTables collects the table names of a FROM clause, not entering
// subqueries (derived tables).
type fromTables struct{ seen map[*ast.TableName]bool }

func (v *fromTables) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.TableName:
		v.seen[x] = true
	case *ast.SubqueryExpr, *ast.SelectStmt, *ast.SetOprStmt:
		return n, true
	}
	return n, false
}

func (v *fromTables) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// merged rewrites an output expression so that a Col reads the output
// computed for that column (in outputs, Col{I} is physical column I).
func (b *scatterBuilder) merged(e merge.Expr, depth int) merge.Expr {
	if depth > 16 {
		b.refuse("expressions over aggregate functions nested this deeply")
		return e
	}
	switch x := e.(type) {
	case merge.Col:
		if x.I < len(b.outputs) {
			switch o := b.outputs[x.I].(type) {
			case nil:
			case merge.Col:
				if o.I != x.I {
					return b.merged(o, depth+1)
				}
			case merge.AsColumn:
				return b.merged(o.E, depth+1)
			default:
				return b.merged(o, depth+1)
			}
		}
		return x
	case merge.Bin:
		return merge.Bin{Op: x.Op, L: b.merged(x.L, depth+1), R: b.merged(x.R, depth+1)}
	case merge.Not:
		return merge.Not{E: b.merged(x.E, depth+1)}
	case merge.Neg:
		return merge.Neg{E: b.merged(x.E, depth+1)}
	case merge.IsNull:
		return merge.IsNull{E: b.merged(x.E, depth+1), Not: x.Not}
	case merge.Func:
		args := make([]merge.Expr, len(x.Args))
		for i, a := range x.Args {
			args[i] = b.merged(a, depth+1)
		}
		return merge.Func{Name: x.Name, Args: args}
	case merge.Case:
		c := merge.Case{When: make([]merge.Expr, len(x.When)), Then: make([]merge.Expr, len(x.Then))}
		if x.Value != nil {
			c.Value = b.merged(x.Value, depth+1)
		}
		if x.Else != nil {
			c.Else = b.merged(x.Else, depth+1)
		}
		for i := range x.When {
			c.When[i] = b.merged(x.When[i], depth+1)
			c.Then[i] = b.merged(x.Then[i], depth+1)
		}
		return c
	}
	return e
}

// scalarFuncs are the functions the merge evaluates over aggregates.
var scalarFuncs = map[string]bool{"ifnull": true, "coalesce": true, "nullif": true, "if": true, "abs": true, "round": true, "concat": true}

// checkHavingColumns fails the plan with MariaDB's error 1054 when a
// column of the HAVING condition (outside aggregate functions) is neither
// a select item (a plain column or an alias) nor a plain column of the
// GROUP BY: the proxy evaluates HAVING itself and must not answer where the
// server refuses.
func (b *scatterBuilder) checkHavingColumns(e ast.ExprNode) {
	v := &havingCols{}
	e.Accept(v)
	for _, c := range v.cols {
		if !b.havingResolves(c) {
			name := c.Name.Name.O
			if c.Name.Table.O != "" {
				name = c.Name.Table.O + "." + name
			}
			if b.err == nil {
				b.err = refuseErr(protocol.NewError(1054, "42S22", "Unknown column '%s' in 'HAVING'", name))
			}
			return
		}
	}
}

// havingResolves reports whether MariaDB finds a HAVING column in the
// select list or among the plain GROUP BY columns.
func (b *scatterBuilder) havingResolves(c *ast.ColumnNameExpr) bool {
	same := func(e ast.ExprNode) bool {
		fc, ok := unparen(e).(*ast.ColumnNameExpr)
		return ok && fc.Name.Name.L == c.Name.Name.L &&
			(c.Name.Table.O == "" || fc.Name.Table.O == "" || fc.Name.Table.L == c.Name.Table.L) &&
			(c.Name.Schema.O == "" || fc.Name.Schema.O == "" || fc.Name.Schema.L == c.Name.Schema.L)
	}
	for i, f := range b.fields {
		if f.WildCard != nil {
			return true // not grouped: a scatter plan refuses * with GROUP BY
		}
		if c.Name.Table.O == "" && b.aliases[i] != "" && b.aliases[i] == c.Name.Name.L {
			return true
		}
		if same(b.orig[i]) {
			return true
		}
	}
	if b.sel.GroupBy != nil {
		// MariaDB does not find the column when GROUP BY has two columns
		// of that name from different tables (GROUP BY g.d, a.d HAVING a.d).
		found, tables := false, map[string]bool{}
		for _, by := range b.sel.GroupBy.Items {
			if fc, ok := unparen(by.Expr).(*ast.ColumnNameExpr); ok && fc.Name.Name.L == c.Name.Name.L {
				if fc.Name.Table.L != "" {
					tables[fc.Name.Table.L] = true
				}
				if same(by.Expr) {
					found = true
				}
			}
		}
		return found && len(tables) <= 1
	}
	return false
}

// havingCols collects column references outside aggregate functions and
// subqueries.
type havingCols struct{ cols []*ast.ColumnNameExpr }

func (v *havingCols) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.AggregateFuncExpr, *ast.SubqueryExpr, *ast.WindowFuncExpr:
		return n, true
	case *ast.ColumnNameExpr:
		v.cols = append(v.cols, x)
		return n, true
	}
	return n, false
}

func (v *havingCols) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// havingExpr translates a HAVING condition into a merge expression over
// output columns.
func (b *scatterBuilder) havingExpr(e ast.ExprNode) merge.Expr {
	switch x := e.(type) {
	case *ast.ParenthesesExpr:
		return b.havingExpr(x.Expr)
	case *ast.BinaryOperationExpr:
		op, ok := binOps[x.Op]
		if !ok {
			b.refuse(fmt.Sprintf("the operator %s over aggregate functions in a query over several shards", x.Op))
			return merge.Lit{}
		}
		return merge.Bin{Op: op, L: b.havingExpr(x.L), R: b.havingExpr(x.R)}
	case *ast.UnaryOperationExpr:
		switch x.Op {
		case opcode.Not, opcode.Not2:
			return merge.Not{E: b.havingExpr(x.V)}
		case opcode.Minus:
			return merge.Neg{E: b.havingExpr(x.V)}
		case opcode.Plus:
			return b.havingExpr(x.V)
		}
		b.refuse(fmt.Sprintf("the operator %s over aggregate functions in a query over several shards", x.Op))
		return merge.Lit{}
	case *ast.IsNullExpr:
		return merge.IsNull{E: b.havingExpr(x.Expr), Not: x.Not}
	case *ast.BetweenExpr:
		v := b.havingExpr(x.Expr)
		in := merge.Bin{Op: merge.OpAnd, L: merge.Bin{Op: merge.OpGE, L: v, R: b.havingExpr(x.Left)}, R: merge.Bin{Op: merge.OpLE, L: v, R: b.havingExpr(x.Right)}}
		if x.Not {
			return merge.Not{E: in}
		}
		return in
	case *ast.PatternInExpr:
		if x.Sel != nil || len(x.List) == 0 {
			b.refuse("IN (subquery) in HAVING of a query over several shards")
			return merge.Lit{}
		}
		v := b.havingExpr(x.Expr)
		var or merge.Expr
		for _, item := range x.List {
			eq := merge.Bin{Op: merge.OpEQ, L: v, R: b.havingExpr(item)}
			if or == nil {
				or = eq
			} else {
				or = merge.Bin{Op: merge.OpOr, L: or, R: eq}
			}
		}
		if x.Not {
			return merge.Not{E: or}
		}
		return or
	case ast.ValueExpr:
		if ve, ok := x.(*test_driver.ValueExpr); ok && (ve.Kind() == test_driver.KindBinaryLiteral || ve.Kind() == test_driver.KindMysqlBit) {
			// 0x2A is a number or a string depending on the other side;
			// the merge evaluator does not model that.
			b.refuse("hexadecimal or bit literals in HAVING or in expressions over aggregate functions")
			return merge.Lit{}
		}
		return valueLit(x)
	case *ast.ColumnNameExpr, *ast.AggregateFuncExpr, *ast.PositionExpr:
		return merge.Col{I: b.resolve(e)}
	case *ast.FuncCallExpr:
		if hasAggregate(e) && scalarFuncs[x.FnName.L] {
			f := merge.Func{Name: strings.ToUpper(x.FnName.L)}
			for _, a := range x.Args {
				f.Args = append(f.Args, b.havingExpr(a))
			}
			return f
		}
	case *ast.CaseExpr:
		if hasAggregate(e) {
			c := merge.Case{}
			if x.Value != nil {
				c.Value = b.havingExpr(x.Value)
			}
			for _, w := range x.WhenClauses {
				c.When = append(c.When, b.havingExpr(w.Expr))
				c.Then = append(c.Then, b.havingExpr(w.Result))
			}
			if x.ElseClause != nil {
				c.Else = b.havingExpr(x.ElseClause)
			}
			return c
		}
	}
	if !hasAggregate(e) {
		return merge.Col{I: b.resolve(e)}
	}
	b.refuse(fmt.Sprintf("the term %s over aggregate functions in a query over several shards", exprText(e)))
	return merge.Lit{}
}

var binOps = map[opcode.Op]merge.BinOp{
	opcode.EQ: merge.OpEQ, opcode.NE: merge.OpNE, opcode.LT: merge.OpLT, opcode.LE: merge.OpLE,
	opcode.GT: merge.OpGT, opcode.GE: merge.OpGE, opcode.NullEQ: merge.OpNullEQ,
	opcode.LogicAnd: merge.OpAnd, opcode.LogicOr: merge.OpOr, opcode.LogicXor: merge.OpXor,
	opcode.Plus: merge.OpAdd, opcode.Minus: merge.OpSub, opcode.Mul: merge.OpMul,
	opcode.Div: merge.OpDiv, opcode.IntDiv: merge.OpIntDiv, opcode.Mod: merge.OpMod,
}

// valueLit converts a literal for the merge evaluator.
func valueLit(v ast.ValueExpr) merge.Lit {
	switch x := v.GetValue().(type) {
	case nil:
		return merge.Lit{}
	case int64, uint64, float64, string:
		return merge.Lit{V: x}
	case []byte:
		return merge.Lit{V: string(x)}
	case fmt.Stringer:
		return merge.Lit{V: x.String(), IsDecimal: true}
	}
	return merge.Lit{V: fmt.Sprint(v.GetValue())}
}

// limitValues reads LIMIT [offset,] count literals.
func limitValues(l *ast.Limit) (offset, count uint64, ok bool) {
	num := func(e ast.ExprNode) (uint64, bool) {
		v, ok := e.(ast.ValueExpr)
		if !ok {
			return 0, false
		}
		switch x := v.GetValue().(type) {
		case int64:
			return uint64(x), x >= 0
		case uint64:
			return x, true
		case string:
			n, err := strconv.ParseUint(x, 10, 64)
			return n, err == nil
		}
		return 0, false
	}
	if count, ok = num(l.Count); !ok {
		return 0, 0, false
	}
	if l.Offset != nil {
		if offset, ok = num(l.Offset); !ok {
			return 0, 0, false
		}
	}
	return offset, count, true
}
