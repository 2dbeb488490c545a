package router

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/switchyard-db/switchyard/internal/shard"
)

// GlobalEval makes the copies of a global table receive the same values:
// the executor runs SQL once on the connection of the first step, and
// replaces Markers[i] in every step's SQL by Prefixes[i] followed by
// column i of the answer (or by NULL when the answer is the word NULL).
type GlobalEval struct {
	SQL      string
	Markers  []string
	Prefixes []string
}

// Apply substitutes the values (one per marker) into the steps' SQL.
func (g *GlobalEval) Apply(steps []Step, vals []string) error {
	if len(vals) != len(g.Markers) {
		return fmt.Errorf("evaluating values for the copies of a global table: %d values for %d expressions", len(vals), len(g.Markers))
	}
	pairs := make([]string, 0, 2*len(vals))
	for i, v := range vals {
		lit := g.Prefixes[i] + v
		if v == "NULL" {
			lit = "NULL"
		}
		pairs = append(pairs, g.Markers[i], lit)
	}
	r := strings.NewReplacer(pairs...)
	for i := range steps {
		steps[i].SQL = r.Replace(steps[i].SQL)
	}
	return nil
}

// How a non-deterministic function is evaluated once.
type evalKind uint8

const (
	evalNone      evalKind = iota
	evalStatement          // constant within a statement: NOW(), CONNECTION_ID(), @@hostname
	evalRow                // a new value per row: RAND(), UUID(), SYSDATE()
	evalRefuse             // cannot be made the same on every copy
)

// evalFuncs are the functions whose value differs between the copies of a
// global table, and the literal form of their value.
var evalFuncs = map[string]struct {
	kind   evalKind
	quote  bool   // the SELECT asks QUOTE(expr)
	prefix string // the literal's type keyword
}{
	"now":               {evalStatement, true, "TIMESTAMP"},
	"current_timestamp": {evalStatement, true, "TIMESTAMP"},
	"localtime":         {evalStatement, true, "TIMESTAMP"},
	"localtimestamp":    {evalStatement, true, "TIMESTAMP"},
	"utc_timestamp":     {evalStatement, true, "TIMESTAMP"},
	"curdate":           {evalStatement, true, "DATE"},
	"current_date":      {evalStatement, true, "DATE"},
	"utc_date":          {evalStatement, true, "DATE"},
	"curtime":           {evalStatement, true, "TIME"},
	"current_time":      {evalStatement, true, "TIME"},
	"utc_time":          {evalStatement, true, "TIME"},
	"unix_timestamp":    {evalStatement, false, ""},
	"connection_id":     {evalStatement, false, ""},
	"user":              {evalStatement, true, ""},
	"current_user":      {evalStatement, true, ""},
	"session_user":      {evalStatement, true, ""},
	"system_user":       {evalStatement, true, ""},
	"sysdate":           {evalRow, true, "TIMESTAMP"},
	"rand":              {evalRow, false, ""},
	"uuid":              {evalRow, true, ""},
	"uuid_short":        {evalRow, false, ""},
	"sys_guid":          {evalRow, true, ""},
	"random_bytes":      {evalRow, true, ""},
	"nextval":           {evalRefuse, false, ""},
	"lastval":           {evalRefuse, false, ""},
	"setval":            {evalRefuse, false, ""},
	"last_insert_id":    {evalRefuse, false, ""},
	"row_count":         {evalRefuse, false, ""},
	"found_rows":        {evalRefuse, false, ""},
}

// globalWriteSame applies a write to every copy of a global table so that
// the copies cannot differ because of the proxy: non-deterministic values
// are evaluated once on the first copy and sent to every copy as
// literals; AUTO_INCREMENT columns must be given; DEFAULT CURRENT_TIMESTAMP
// columns an INSERT omits are given the value evaluated once; ON UPDATE
// CURRENT_TIMESTAMP columns must be set explicitly. What cannot be made
// the same is refused with 1235.
func globalWriteSame(st ast.StmtNode, r ruled, src Sources) Node {
	t := r.table
	if len(t.All()) < 2 {
		return globalWrite(st, r)
	}
	ev := &evalBuilder{st: st, subst: map[ast.Node]string{}}
	defer func() { ev.undo() }()
	if err := ev.collect(); err != "" {
		return refuse(err + " in a write to global table " + t.Name() + " (each copy would get its own value)")
	}
	if src.Schema != nil {
		cols, ok := src.Schema(t)
		if !ok {
			return refuse("writes to global table " + t.Name() + " while its columns are unknown (the proxy could not read them)")
		}
		if msg := ev.columns(t, cols); msg != "" {
			return refuse(msg)
		}
	}
	if len(ev.exprs) == 0 {
		return globalWrite(st, r)
	}
	r.subst = ev.subst
	n := globalWrite(st, r)
	p, ok := n.(*Write)
	if !ok {
		return n
	}
	sel, err := ev.selectSQL()
	if err != nil {
		return refuse("printing the values to evaluate for global table " + t.Name())
	}
	p.Eval = &GlobalEval{SQL: sel, Markers: ev.markers, Prefixes: ev.prefixes}
	return p
}

// evalBuilder collects the expressions to evaluate once.
type evalBuilder struct {
	st       ast.StmtNode
	token    string
	subst    map[ast.Node]string // node -> marker printed in its place
	exprs    []ast.ExprNode
	quote    []bool
	markers  []string
	prefixes []string
	undo     func()
}

func (e *evalBuilder) add(n ast.ExprNode, quote bool, prefix string) {
	if e.token == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		e.token = hex.EncodeToString(b[:])
	}
	m := fmt.Sprintf("__sy_eval_%s_%d__", e.token, len(e.exprs))
	e.subst[n] = m
	e.exprs = append(e.exprs, n)
	e.quote = append(e.quote, quote)
	e.markers = append(e.markers, m)
	e.prefixes = append(e.prefixes, prefix)
}

// collect finds the non-deterministic expressions; it returns what to
// refuse, or "".
func (e *evalBuilder) collect() string {
	e.undo = func() {}
	v := &nondetVisitor{}
	e.st.Accept(v)
	if v.refuse != "" {
		return v.refuse
	}
	ins, isInsert := e.st.(*ast.InsertStmt)
	inOnDup := map[ast.Node]bool{}
	if isInsert {
		for _, a := range ins.OnDuplicate {
			sub := &nondetVisitor{}
			a.Expr.Accept(sub)
			for _, f := range sub.found {
				inOnDup[f] = true
			}
		}
	}
	for _, f := range v.found {
		switch x := f.(type) {
		case *ast.FuncCallExpr:
			spec := evalFuncs[x.FnName.L]
			name := strings.ToUpper(x.FnName.O) + "()"
			if spec.kind == evalRow && (!isInsert || inOnDup[f]) {
				return name + " outside INSERT ... VALUES (MariaDB evaluates it per row)"
			}
			if hasColumnRef(x) {
				return name + " of a column"
			}
			e.add(x, spec.quote, spec.prefix)
		case *ast.VariableExpr:
			e.add(x, true, "")
		}
	}
	return ""
}

// columns checks AUTO_INCREMENT and automatic timestamps.
func (e *evalBuilder) columns(t *shard.Table, cols []shard.Column) string {
	switch n := e.st.(type) {
	case *ast.InsertStmt:
		names := make([]string, len(n.Columns))
		for i, c := range n.Columns {
			names[i] = c.Name.O
		}
		if len(n.Columns) == 0 {
			for _, c := range cols {
				names = append(names, c.Name)
			}
		}
		given := map[string]int{}
		for i, c := range names {
			given[strings.ToLower(c)] = i
		}
		for _, c := range cols {
			i, ok := given[strings.ToLower(c.Name)]
			if c.AutoIncrement {
				if !ok {
					return fmt.Sprintf("an INSERT into global table %s that leaves its AUTO_INCREMENT column %s to each copy (the copies would number rows differently); give the %s values", t.Name(), c.Name, c.Name)
				}
				for _, row := range n.Lists {
					if i < len(row) && autoValue(row[i]) {
						return fmt.Sprintf("an INSERT into global table %s whose AUTO_INCREMENT column %s is NULL, 0 or DEFAULT (each copy would number the row itself); give the %s values", t.Name(), c.Name, c.Name)
					}
				}
			}
			if c.DefaultNow && !ok && len(n.Columns) > 0 {
				// Omitted: give every row the value evaluated once.
				now := &ast.FuncCallExpr{FnName: ast.NewCIStr("now"), Args: []ast.ExprNode{ast.NewValueExpr(6, "", "")}}
				e.add(now, true, "TIMESTAMP")
				cols0, lists0 := n.Columns, append([][]ast.ExprNode(nil), n.Lists...)
				n.Columns = append(append([]*ast.ColumnName(nil), n.Columns...), &ast.ColumnName{Name: ast.NewCIStr(c.Name)})
				for k, row := range n.Lists {
					n.Lists[k] = append(append([]ast.ExprNode(nil), row...), now)
				}
				prev := e.undo
				e.undo = func() { n.Columns = cols0; copy(n.Lists, lists0); prev() }
			}
			if c.DefaultNow && ok {
				for _, row := range n.Lists {
					if i < len(row) {
						if _, isDefault := row[i].(*ast.DefaultExpr); isDefault {
							return fmt.Sprintf("DEFAULT for column %s (DEFAULT CURRENT_TIMESTAMP) in an INSERT into global table %s; give the value or leave the column out", c.Name, t.Name())
						}
					}
				}
			}
			if c.OnUpdateNow && len(n.OnDuplicate) > 0 && !assigns(n.OnDuplicate, c.Name) {
				return fmt.Sprintf("INSERT ... ON DUPLICATE KEY UPDATE of global table %s that leaves its ON UPDATE CURRENT_TIMESTAMP column %s to each copy; set %s in the UPDATE part", t.Name(), c.Name, c.Name)
			}
		}
	case *ast.UpdateStmt:
		for _, c := range cols {
			if c.OnUpdateNow && !assigns(n.List, c.Name) {
				return fmt.Sprintf("UPDATE of global table %s that leaves its ON UPDATE CURRENT_TIMESTAMP column %s to each copy (the copies' clocks differ); set it explicitly, e.g. %s = NOW()", t.Name(), c.Name, c.Name)
			}
		}
	}
	return ""
}

func assigns(list []*ast.Assignment, col string) bool {
	for _, a := range list {
		if strings.EqualFold(a.Column.Name.O, col) {
			return true
		}
	}
	return false
}

// autoValue reports whether an INSERT value makes AUTO_INCREMENT generate
// the id: NULL, 0 or DEFAULT.
func autoValue(e ast.ExprNode) bool {
	switch x := e.(type) {
	case *ast.DefaultExpr:
		return true
	case *test_driver.ValueExpr:
		switch x.Kind() {
		case test_driver.KindNull:
			return true
		case test_driver.KindInt64:
			return x.GetInt64() == 0
		case test_driver.KindUint64:
			return x.GetUint64() == 0
		case test_driver.KindString:
			return strings.TrimSpace(x.GetString()) == "0"
		}
	}
	return false
}

// selectSQL is the SELECT that evaluates the expressions.
func (e *evalBuilder) selectSQL() (string, error) {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, x := range e.exprs {
		if i > 0 {
			b.WriteString(", ")
		}
		var xb strings.Builder
		if err := x.Restore(format.NewRestoreCtx(restoreFlags, &xb)); err != nil {
			return "", err
		}
		if e.quote[i] {
			b.WriteString("QUOTE(" + xb.String() + ")")
		} else {
			b.WriteString(xb.String())
		}
	}
	return b.String(), nil
}

// nondetVisitor finds non-deterministic function calls and system
// variables (not inside one another).
type nondetVisitor struct {
	found  []ast.Node
	refuse string
}

func (v *nondetVisitor) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.FuncCallExpr:
		spec, ok := evalFuncs[x.FnName.L]
		if !ok {
			return n, false
		}
		if spec.kind == evalRefuse {
			if v.refuse == "" {
				v.refuse = strings.ToUpper(x.FnName.O) + "()"
			}
			return n, true
		}
		v.found = append(v.found, n)
		return n, true
	case *ast.VariableExpr:
		if x.IsSystem {
			v.found = append(v.found, n)
			return n, true
		}
	}
	return n, false
}

func (v *nondetVisitor) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// hasColumnRef reports whether an expression reads a column or a subquery.
func hasColumnRef(n ast.Node) bool {
	v := &colRefVisitor{}
	n.Accept(v)
	return v.found
}

type colRefVisitor struct{ found bool }

func (v *colRefVisitor) Enter(n ast.Node) (ast.Node, bool) {
	switch n.(type) {
	case *ast.ColumnNameExpr, *ast.SubqueryExpr:
		v.found = true
		return n, true
	}
	return n, false
}

func (v *colRefVisitor) Leave(n ast.Node) (ast.Node, bool) { return n, true }
