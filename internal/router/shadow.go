package router

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/protocol"
)

// ShadowVar is the session variable that sends a session's statements to
// the shadow data sources.
const ShadowVar = "switchyard_shadow"

// ShadowHint reports whether sql carries the shadow hint /*+ shadow */ in
// a comment before its first keyword or right after it (as routing hints
// do).
func ShadowHint(sql string) bool {
	return hintComments(sql, func(body string) bool {
		body = strings.TrimSpace(body)
		return strings.HasPrefix(body, "+") && strings.EqualFold(strings.TrimSpace(body[1:]), "shadow")
	})
}

// ShadowStmt is a statement about the shadow variable that the proxy
// answers itself.
type ShadowStmt struct {
	// Set: SET [SESSION] switchyard_shadow = v; On is v, Default is true for
	// DEFAULT (back to the user's configured flag).
	Set, On, Default bool
	// Show: SELECT @@switchyard_shadow alone; Label is the column name.
	Show  bool
	Label string
	// Err refuses the statement (the variable set with others, globally,
	// or to a value that is not a boolean).
	Err *protocol.Error
}

// AnalyzeShadow recognizes SET and SELECT of switchyard_shadow; ok is
// false for every other statement. It parses only statements that name the
// variable.
func AnalyzeShadow(sql string) (st ShadowStmt, ok bool) {
	if !containsFold(sql, ShadowVar) { // no copy of every statement
		return st, false
	}
	p := parsers.Get().(*parser.Parser)
	stmts, parsed := parse(p, sql)
	if !parsed {
		return st, false
	}
	defer parsers.Put(p)
	named := func(v string) bool { return strings.EqualFold(v, ShadowVar) }
	found := false
	for _, s := range stmts {
		switch n := s.(type) {
		case *ast.SetStmt:
			for _, v := range n.Variables {
				found = found || v.IsSystem && named(v.Name)
			}
		case *ast.SelectStmt:
			if n.Fields != nil {
				for _, f := range n.Fields.Fields {
					if v, isVar := f.Expr.(*ast.VariableExpr); isVar && v.IsSystem && named(v.Name) {
						found = true
					}
				}
			}
		}
	}
	if !found {
		return st, false
	}
	if len(stmts) != 1 {
		st.Err = protocol.ErrUnsupported("switchyard_shadow in a multi-statement query; send it alone")
		return st, true
	}
	switch n := stmts[0].(type) {
	case *ast.SetStmt:
		if len(n.Variables) != 1 {
			st.Err = protocol.ErrUnsupported("setting switchyard_shadow together with other variables; use a SET of its own")
			return st, true
		}
		v := n.Variables[0]
		if v.IsGlobal {
			st.Err = protocol.NewError(1229, "HY000", "Variable 'switchyard_shadow' is a SESSION variable and can't be used with SET GLOBAL; set shadow per user in the configuration")
			return st, true
		}
		st.Set = true
		var val string
		switch x := v.Value.(type) {
		case ast.ValueExpr:
			val = strings.ToLower(fmt.Sprint(x.GetValue()))
		case *ast.ColumnNameExpr:
			val = x.Name.Name.L
		case *ast.DefaultExpr:
			st.Default = true
			return st, true
		}
		switch val {
		case "on", "1", "true":
			st.On = true
		case "off", "0", "false":
		default:
			st.Err = protocol.NewError(protocol.ErrWrongValueForVar, "42000", "Variable 'switchyard_shadow' can't be set to the value of '%s'", val)
		}
		return st, true
	case *ast.SelectStmt:
		if label, isShow := shadowSelect(n); isShow {
			st.Show, st.Label = true, label
			return st, true
		}
	}
	st.Err = protocol.ErrUnsupported("switchyard_shadow in an expression; use SELECT @@switchyard_shadow alone")
	return st, true
}

// shadowSelect matches SELECT @@[session.]switchyard_shadow [AS x] alone.
func shadowSelect(n *ast.SelectStmt) (string, bool) {
	if n.From != nil || n.Where != nil || n.Fields == nil || len(n.Fields.Fields) != 1 {
		return "", false
	}
	fld := n.Fields.Fields[0]
	v, ok := fld.Expr.(*ast.VariableExpr)
	if !ok || !v.IsSystem || v.IsGlobal || !strings.EqualFold(v.Name, ShadowVar) {
		return "", false
	}
	if fld.AsName.O != "" {
		return fld.AsName.O, true
	}
	if t := strings.TrimSpace(fld.Text()); t != "" {
		return t, true
	}
	return "@@" + ShadowVar, true
}

// FollowedByShadow reports whether sql is schema DDL that the shadow side
// must follow when it runs in production: CREATE, ALTER, DROP or RENAME of
// databases, tables, indexes, views or sequences, alone in the query. Not
// temporary tables (session state), accounts or grants, nor TRUNCATE (data).
func FollowedByShadow(sql string) bool {
	s := strings.TrimLeft(sql, " \t\r\n")
	for strings.HasPrefix(s, "/*") {
		end := strings.Index(s[2:], "*/")
		if end < 0 {
			return false
		}
		s = strings.TrimLeft(s[2+end+2:], " \t\r\n")
	}
	f := strings.Fields(strings.ToLower(s[:min(len(s), 64)]))
	if len(f) < 2 {
		return false
	}
	switch f[0] {
	case "create", "alter", "drop", "rename":
	default:
		return false
	}
	switch f[1] {
	case "user", "role", "temporary", "server", "event", "trigger", "procedure", "function", "definer":
		return false
	}
	a := Analyze(sql)
	return a.Kind == KindDDL && a.Err == nil && a.Flags&(FlagMulti|FlagTempTable) == 0
}

// ShadowByColumns reports whether sql is marked as shadow traffic by a
// column-value rule: a literal value of the rule's column in INSERT values
// (or INSERT ... SET), or compared with = or IN in a condition, is one of
// its values or matches its regex. Parameters (?) never match.
func ShadowByColumns(sql string, rules []config.ShadowRule) bool {
	if len(rules) == 0 {
		return false
	}
	p := parsers.Get().(*parser.Parser)
	stmts, parsed := parse(p, sql)
	if !parsed {
		return false
	}
	defer parsers.Put(p)
	for _, st := range stmts {
		v := &shadowColVisitor{tables: map[string]bool{}}
		st.Accept(v)
		for _, c := range v.cands {
			if t, ok := v.aliases[c.table]; ok {
				c.table = t
			}
			for i := range rules {
				if shadowRuleMatches(&rules[i], c, v.tables) {
					return true
				}
			}
		}
	}
	return false
}

// shadowCand is a column compared with (or given) a literal value.
type shadowCand struct{ table, column, value string }

type shadowColVisitor struct {
	tables  map[string]bool   // lowercase names of the statement's tables
	aliases map[string]string // alias -> table name
	cands   []shadowCand
}

// Enter collects tables, aliases and column-literal pairs.
func (v *shadowColVisitor) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.TableName:
		v.tables[x.Name.L] = true
	case *ast.TableSource:
		if tn, ok := x.Source.(*ast.TableName); ok && x.AsName.L != "" {
			if v.aliases == nil {
				v.aliases = map[string]string{}
			}
			v.aliases[x.AsName.L] = tn.Name.L
		}
	case *ast.InsertStmt:
		for _, row := range x.Lists {
			for i, e := range row {
				if i < len(x.Columns) {
					v.add("", x.Columns[i].Name.L, e)
				}
			}
		}
	case *ast.BinaryOperationExpr:
		if x.Op == opcode.EQ || x.Op == opcode.NullEQ {
			if c, ok := x.L.(*ast.ColumnNameExpr); ok {
				v.add(c.Name.Table.L, c.Name.Name.L, x.R)
			}
			if c, ok := x.R.(*ast.ColumnNameExpr); ok {
				v.add(c.Name.Table.L, c.Name.Name.L, x.L)
			}
		}
	case *ast.PatternInExpr:
		if c, ok := x.Expr.(*ast.ColumnNameExpr); ok && !x.Not {
			for _, e := range x.List {
				v.add(c.Name.Table.L, c.Name.Name.L, e)
			}
		}
	}
	return n, false
}

// Leave continues the walk.
func (v *shadowColVisitor) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// add records column = e when e is a literal.
func (v *shadowColVisitor) add(table, column string, e ast.ExprNode) {
	val, ok := e.(ast.ValueExpr)
	if !ok {
		return
	}
	if _, isParam := e.(ast.ParamMarkerExpr); isParam {
		return
	}
	var s string
	switch x := val.GetValue().(type) {
	case nil:
		return
	case []byte:
		s = string(x)
	default:
		s = fmt.Sprint(x)
	}
	v.cands = append(v.cands, shadowCand{table: table, column: column, value: s})
}

var shadowRegexps sync.Map // pattern -> *regexp.Regexp

func shadowRuleMatches(r *config.ShadowRule, c shadowCand, tables map[string]bool) bool {
	if !strings.EqualFold(r.Column, c.column) {
		return false
	}
	if r.Table != "" {
		t := strings.ToLower(r.Table)
		if c.table != "" && c.table != t || c.table == "" && !tables[t] {
			return false
		}
	}
	if r.Regex != "" {
		re, ok := shadowRegexps.Load(r.Regex)
		if !ok {
			compiled, err := regexp.Compile(r.Regex)
			if err != nil {
				return false
			}
			re, _ = shadowRegexps.LoadOrStore(r.Regex, compiled)
		}
		return re.(*regexp.Regexp).MatchString(c.value)
	}
	for _, want := range r.Values {
		if want == c.value {
			return true
		}
	}
	return false
}
