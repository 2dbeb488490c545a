package router

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/switchyard-db/switchyard/internal/shard"
)

// Rename asks the executor to show a physical table's name as its logical
// name in a (small, metadata) result: in values equal to the physical
// name and in backquoted occurrences (SHOW CREATE TABLE).
type Rename struct {
	Physical, Logical string
}

// ShowTables is SHOW [FULL] TABLES in a database with sharding rules: the
// executor runs Steps[0] on the default slice, drops the physical tables
// of ruled tables (Hide) and adds the logical ones (Add), filtered by
// Like.
type ShowTables struct {
	Hide map[string]bool
	Add  []string
	// Like is the LIKE pattern (empty: none).
	Like string
	Full bool
	// Label renames the first column (MariaDB labels SHOW ... LIKE 'p'
	// results "Database (p)" and "Tables_in_db (p)"); empty: keep it.
	Label string
}

// planShowTables plans SHOW TABLES for a database with rules.
func planShowTables(show *ast.ShowStmt, rules *shard.Rules, db string) *ShardPlan {
	if show.DBName != "" {
		db = show.DBName
	}
	st := &ShowTables{Hide: map[string]bool{}, Full: show.Full}
	for _, t := range rules.Tables() {
		if !strings.EqualFold(t.Database(), db) {
			continue
		}
		for _, x := range t.All() {
			st.Hide[strings.ToLower(x.Table)] = true
		}
		st.Add = append(st.Add, t.Name())
	}
	if len(st.Add) == 0 {
		return nil
	}
	if show.Where != nil {
		return refuse("SHOW TABLES ... WHERE in a database with sharding rules (use LIKE)")
	}
	if show.Pattern != nil {
		v, ok := show.Pattern.Pattern.(ast.ValueExpr)
		if !ok {
			return refuse("SHOW TABLES LIKE with a pattern that is not a string")
		}
		s, _ := v.GetValue().(string)
		st.Like = s
		st.Label = "Tables_in_" + db + " (" + s + ")"
	}
	sql := "SHOW TABLES FROM `" + strings.ReplaceAll(db, "`", "``") + "`"
	if show.Full {
		sql = "SHOW FULL TABLES FROM `" + strings.ReplaceAll(db, "`", "``") + "`"
	}
	return &ShardPlan{Steps: []Step{{Slice: rules.DefaultSlice(), Database: db, SQL: sql}}, ShowTables: st}
}

// planShowDatabases plans SHOW DATABASES in a namespace with rules: the
// logical databases are listed, and physical databases that exist only as
// data sources of inline rules (named differently) are hidden.
func planShowDatabases(show *ast.ShowStmt, rules *shard.Rules) *ShardPlan {
	st := &ShowTables{Hide: map[string]bool{}}
	logical := map[string]bool{}
	for _, t := range rules.Tables() {
		logical[strings.ToLower(t.Database())] = true
	}
	for _, t := range rules.Tables() {
		for _, x := range t.All() {
			if db := strings.ToLower(x.Database); !logical[db] {
				st.Hide[db] = true
			}
		}
		if !contains(st.Add, t.Database()) {
			st.Add = append(st.Add, t.Database())
		}
	}
	if show.Where != nil {
		return refuse("SHOW DATABASES ... WHERE in a namespace with sharding rules (use LIKE)")
	}
	if show.Pattern != nil {
		v, ok := show.Pattern.Pattern.(ast.ValueExpr)
		if !ok {
			return refuse("SHOW DATABASES LIKE with a pattern that is not a string")
		}
		st.Like, _ = v.GetValue().(string)
		st.Label = "Database (" + st.Like + ")"
	}
	return &ShardPlan{Steps: []Step{{Slice: rules.DefaultSlice(), SQL: "SHOW DATABASES"}}, ShowTables: st}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// LikeMatch reports whether s matches a SQL LIKE pattern (case-insensitive,
// % and _ wildcards, backslash escapes).
func LikeMatch(s, pattern string) bool {
	s, pattern = strings.ToLower(s), strings.ToLower(pattern)
	var match func(si, pi int) bool
	match = func(si, pi int) bool {
		for pi < len(pattern) {
			c := pattern[pi]
			switch {
			case c == '%':
				for pi < len(pattern) && pattern[pi] == '%' {
					pi++
				}
				if pi == len(pattern) {
					return true
				}
				for k := si; k <= len(s); k++ {
					if match(k, pi) {
						return true
					}
				}
				return false
			case c == '_':
				if si >= len(s) {
					return false
				}
				si++
				pi++
			default:
				if c == '\\' && pi+1 < len(pattern) {
					pi++
					c = pattern[pi]
				}
				if si >= len(s) || s[si] != c {
					return false
				}
				si++
				pi++
			}
		}
		return si == len(s)
	}
	return match(0, 0)
}

// infoSchemaRewrite handles queries on information_schema that name a
// ruled table in a string literal (ORMs checking a table or reading its
// columns): the literal becomes the first physical table, the query runs
// on that table's slice, and the result shows the logical name.
func infoSchemaRewrite(st ast.StmtNode, rules *shard.Rules) *ShardPlan {
	v := &infoSchemaVisitor{rules: rules}
	st.Accept(v)
	if !v.infoSchema || v.table == nil {
		return nil
	}
	x := v.table.All()[0]
	if sel, ok := st.(*ast.SelectStmt); ok && sel.Fields != nil {
		for _, f := range sel.Fields.Fields {
			keepLabel(f)
		}
	}
	old := make([]any, len(v.lits))
	for i, l := range v.lits {
		old[i] = l.GetValue()
		l.SetValue(x.Table)
	}
	sql, err := restoreSQL(st, st.Text())
	for i, l := range v.lits {
		l.SetValue(old[i])
	}
	if err != nil {
		return nil
	}
	return &ShardPlan{Steps: []Step{{Slice: x.Slice, Database: x.Database, SQL: sql}}, Rename: &Rename{Physical: x.Table, Logical: v.table.Name()}}
}

type infoSchemaVisitor struct {
	rules      *shard.Rules
	infoSchema bool
	table      *shard.Table
	lits       []ast.ValueExpr
}

func (v *infoSchemaVisitor) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.TableName:
		if x.Schema.L == "information_schema" {
			v.infoSchema = true
		}
	case ast.ValueExpr:
		s, ok := x.GetValue().(string)
		if !ok {
			return n, false
		}
		for _, t := range v.rules.Tables() {
			if t.Kind() != shard.Global && strings.EqualFold(t.Name(), s) && (v.table == nil || v.table == t) {
				v.table = t
				v.lits = append(v.lits, x)
			}
		}
	}
	return n, false
}

func (v *infoSchemaVisitor) Leave(n ast.Node) (ast.Node, bool) { return n, true }
