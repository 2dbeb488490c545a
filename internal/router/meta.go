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
func planShowTables(show *ast.ShowStmt, rules *shard.Rules, db string) Node {
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
	return &Meta{Steps: []Step{{Slice: rules.DefaultSlice(), Database: db, SQL: sql}}, ShowTables: st}
}

// planShowDatabases plans SHOW DATABASES in a namespace with rules: the
// logical databases are listed, and physical databases that exist only as
// data sources of inline rules (named differently) are hidden.
func planShowDatabases(show *ast.ShowStmt, rules *shard.Rules) Node {
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
	return &Meta{Steps: []Step{{Slice: rules.DefaultSlice(), SQL: "SHOW DATABASES"}}, ShowTables: st}
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
func infoSchemaRewrite(st ast.StmtNode, rules *shard.Rules) Node {
	v := &infoSchemaVisitor{rules: rules}
	st.Accept(v)
	if !v.infoSchema {
		return nil
	}
	if v.table == nil {
		return infoSchemaListing(st, rules)
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
	return &Meta{Steps: []Step{{Slice: x.Slice, Database: x.Database, SQL: sql}}, Rename: &Rename{Physical: x.Table, Logical: v.table.Name()}}
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

// Listing asks the executor to show the physical tables of ruled tables as
// their logical table in a metadata listing that names no table
// (SHOW TABLE STATUS, information_schema.TABLES/COLUMNS/... scans): Steps[0]
// runs on the default slice; a later step runs the same listing on a slice
// holding a ruled table absent from the default slice, and only rows of
// such tables are kept. Rows are renamed through Names and the first row of
// every (table, key columns) is kept.
type Listing struct {
	// Names maps lower-case physical table names to logical names.
	Names map[string]string
	// TableCol is the (original) name of the result column holding table
	// names.
	TableCol string
	// Like filters the renamed table names (SHOW TABLE STATUS LIKE).
	Like string
	// Sort orders rows by table name (SHOW TABLE STATUS).
	Sort bool
}

// listingNames maps the physical tables of every ruled table to its name,
// and returns the slices (other than the default) that hold tables with no
// physical table on the default slice, for database db ("" = every one).
func listingNames(rules *shard.Rules, db string) (map[string]string, []string) {
	names := map[string]string{}
	var extra []string
	for _, t := range rules.Tables() {
		if db != "" && !strings.EqualFold(t.Database(), db) {
			continue
		}
		onDefault := false
		for _, x := range t.All() {
			names[strings.ToLower(x.Table)] = t.Name()
			if x.Slice == rules.DefaultSlice() {
				onDefault = true
			}
		}
		if !onDefault && len(t.All()) > 0 && !contains(extra, t.All()[0].Slice) {
			extra = append(extra, t.All()[0].Slice)
		}
	}
	return names, extra
}

// planShowTableStatus plans SHOW TABLE STATUS in a database with rules.
func planShowTableStatus(show *ast.ShowStmt, rules *shard.Rules, db string) Node {
	if show.DBName != "" {
		db = show.DBName
	}
	names, extra := listingNames(rules, db)
	if len(names) == 0 {
		return nil
	}
	if show.Where != nil {
		return refuse("SHOW TABLE STATUS ... WHERE in a database with sharding rules (use LIKE)")
	}
	l := &Listing{Names: names, TableCol: "Name", Sort: true}
	if show.Pattern != nil {
		v, ok := show.Pattern.Pattern.(ast.ValueExpr)
		if !ok {
			return refuse("SHOW TABLE STATUS LIKE with a pattern that is not a string")
		}
		l.Like, _ = v.GetValue().(string)
	}
	sql := "SHOW TABLE STATUS FROM `" + strings.ReplaceAll(db, "`", "``") + "`"
	sp := &Meta{Steps: []Step{{Slice: rules.DefaultSlice(), Database: db, SQL: sql}}, Listing: l}
	for _, sl := range extra {
		sp.Steps = append(sp.Steps, Step{Slice: sl, Database: db, SQL: sql})
	}
	return sp
}

// infoSchemaListing plans an information_schema query that names no ruled
// table: it lists physical tables, shown as the logical ones.
func infoSchemaListing(st ast.StmtNode, rules *shard.Rules) Node {
	names, extra := listingNames(rules, "")
	if len(names) == 0 {
		return nil
	}
	sql := st.Text()
	l := &Listing{Names: names, TableCol: "TABLE_NAME"}
	// ORDER BY TABLE_NAME first: renamed rows and rows of other slices
	// are put back in that order.
	if sel, ok := st.(*ast.SelectStmt); ok && sel.OrderBy != nil && len(sel.OrderBy.Items) > 0 {
		if c, ok := sel.OrderBy.Items[0].Expr.(*ast.ColumnNameExpr); ok && c.Name.Name.L == "table_name" && !sel.OrderBy.Items[0].Desc {
			l.Sort = true
		}
	}
	sp := &Meta{Steps: []Step{{Slice: rules.DefaultSlice(), SQL: sql}}, Listing: l}
	for _, sl := range extra {
		sp.Steps = append(sp.Steps, Step{Slice: sl, SQL: sql})
	}
	return sp
}

// lockTablesRefusal names what LOCK TABLES on tables with rules would need
// (locks on several slices held by one session) and the way around it for
// dumps.
const lockTablesRefusal = "LOCK TABLES on sharded or global tables (their physical tables live on several slices); " +
	"mariadb-dump: use --single-transaction (or --skip-lock-tables)"
