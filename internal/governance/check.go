package governance

import (
	"strings"
	"sync"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // value expressions for the parser

	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/sqltext"
)

var parsers = sync.Pool{New: func() any { return parser.New() }}

const restoreFlags = format.DefaultRestoreFlags | format.RestoreStringWithoutDefaultCharset

// Show says how the session answers a SHOW whose rows must be filtered:
// the statement runs on the default slice and rows whose first column
// names a database the client may not see are dropped.
type Show struct {
	// Databases: SHOW DATABASES / SHOW SCHEMAS (the logical databases of
	// sharding rules are added).
	Databases bool
	// Like is the LIKE pattern of SHOW DATABASES ("" when none).
	Like string
	// Where: SHOW DATABASES has a WHERE clause (logical databases are then
	// not added).
	Where bool
}

// Verdict is the outcome of checking a statement.
type Verdict struct {
	// SQL is the statement to run: the client's, or a rewrite that answers
	// information_schema for the client's databases.
	SQL string
	// Err, when set, is the error to answer instead of running it.
	Err *protocol.Error
	// Show, when set, asks for the rows to be filtered (see Show).
	Show *Show
	// Reason names what refused the statement (metrics): access,
	// read_only, rule.
	Reason string
	// Rule is the SQL rule that refused the statement.
	Rule string
	// Limits apply to the statement when SQL rules or limits are set.
	Limits *Limits
}

// infoFiltered maps the information_schema tables that name databases to
// the column filtered on; infoHarmless are tables without tenant data.
var infoFiltered = map[string]string{
	"schemata":                "SCHEMA_NAME",
	"tables":                  "TABLE_SCHEMA",
	"columns":                 "TABLE_SCHEMA",
	"views":                   "TABLE_SCHEMA",
	"partitions":              "TABLE_SCHEMA",
	"statistics":              "TABLE_SCHEMA",
	"table_constraints":       "TABLE_SCHEMA",
	"key_column_usage":        "TABLE_SCHEMA",
	"table_statistics":        "TABLE_SCHEMA",
	"index_statistics":        "TABLE_SCHEMA",
	"column_privileges":       "TABLE_SCHEMA",
	"table_privileges":        "TABLE_SCHEMA",
	"schema_privileges":       "TABLE_SCHEMA",
	"files":                   "TABLE_SCHEMA",
	"check_constraints":       "CONSTRAINT_SCHEMA",
	"referential_constraints": "CONSTRAINT_SCHEMA",
	"events":                  "EVENT_SCHEMA",
	"routines":                "ROUTINE_SCHEMA",
	"parameters":              "SPECIFIC_SCHEMA",
	"triggers":                "TRIGGER_SCHEMA",
	"geometry_columns":        "F_TABLE_SCHEMA",
}

var infoHarmless = map[string]bool{
	"character_sets": true, "collations": true, "collation_character_set_applicability": true,
	"engines": true, "plugins": true, "all_plugins": true, "keywords": true, "sql_functions": true,
	"session_status": true, "session_variables": true, "global_status": true, "global_variables": true,
	"system_variables": true, "profiling": true, "user_variables": true, "enabled_roles": true,
	"applicable_roles": true, "spatial_ref_sys": true, "key_caches": true, "optimizer_trace": true,
	"tablespaces": true,
}

// Check decides whether the client may run sql with current database db:
// access control, then the namespace's SQL rules.
func (p *Policy) Check(sql, db string) Verdict {
	v := p.checkAccess(sql, db)
	if v.Err == nil && p.rules.active() {
		p.applyRules(sql, &v)
	}
	return v
}

// ExecLimits evaluates the SQL rules and limits again for one execution of
// a prepared statement (access control was checked when it was prepared).
// It returns nil limits when none apply.
func (p *Policy) ExecLimits(sql string) (*Limits, *protocol.Error) {
	if p == nil || !p.rules.active() {
		return nil, nil
	}
	var v Verdict
	p.applyRules(sql, &v)
	return v.Limits, v.Err
}

// applyRules evaluates the SQL rules and limits for a statement access
// control let through.
func (p *Policy) applyRules(sql string, v *Verdict) {
	rs := p.rules
	lim := &Limits{ExecTime: rs.baseTime, MaxRows: rs.baseRows, MaxBytes: rs.baseBytes}
	if rs.timed && hasFold(sql, "max_statement_time") {
		v.Err, v.Reason = protocol.NewError(protocol.ErrNotAllowedCommand, "42000", "max_statement_time is set by Switchyard (max_execution_time) in this namespace"), "rule"
		return
	}
	if len(rs.rules) > 0 {
		var stmts []ast.StmtNode
		ok := false
		var ps *parser.Parser
		if rs.needAST {
			ps = parsers.Get().(*parser.Parser)
			if stmts, ok = parse(ps, sql); ok {
				defer parsers.Put(ps)
			}
		}
		var e *protocol.Error
		var rule string
		switch {
		case ok && len(stmts) > 1:
			for _, st := range stmts {
				if e, rule = rs.evaluate(st.Text(), st, lim); e != nil {
					break
				}
			}
		case ok && len(stmts) == 1:
			e, rule = rs.evaluate(sql, stmts[0], lim)
		default:
			e, rule = rs.evaluate(sql, nil, lim)
		}
		if e != nil {
			v.Err, v.Reason, v.Rule = e, "rule", rule
			return
		}
	}
	v.Limits = lim
}

// checkAccess applies access control.
func (p *Policy) checkAccess(sql, db string) Verdict {
	if p.fastPath(sql, db) {
		return Verdict{SQL: sql}
	}
	if e := adminStatement(sql); e != nil {
		return Verdict{Err: e, Reason: "access"}
	}
	// MariaDB runs the body of /*M!NNNNNN ... */ comments; the parser sees
	// a comment. Check (and send) them as /*! ... */, which both run.
	sql = mariadbComments(sql)
	ps := parsers.Get().(*parser.Parser)
	stmts, ok := parse(ps, sql)
	if !ok {
		return p.checkUnparsed(sql, db)
	}
	defer parsers.Put(ps)
	if len(stmts) == 0 {
		return Verdict{SQL: sql}
	}
	v := Verdict{SQL: sql}
	rewritten := false
	for _, st := range stmts {
		c := &checker{p: p, db: db}
		c.stmt(st)
		if u, ok := st.(*ast.UseStmt); ok {
			// Later statements of a multi-statement query run there.
			db = u.DBName
		}
		if c.err != nil {
			return Verdict{Err: c.err, Reason: c.reason}
		}
		if c.show != nil {
			if len(stmts) > 1 {
				return Verdict{Reason: "unsupported", Err: protocol.ErrUnsupported("SHOW DATABASES (or a SHOW listing several databases) inside a multi-statement query")}
			}
			v.Show = c.show
		}
		if c.rewritten {
			rewritten = true
			keepLabels(st)
		}
	}
	if rewritten {
		var parts []string
		for _, st := range stmts {
			var b strings.Builder
			if err := st.Restore(format.NewRestoreCtx(restoreFlags, &b)); err != nil {
				return Verdict{Reason: "unsupported", Err: protocol.ErrUnsupported("this query on information_schema: " + err.Error())}
			}
			parts = append(parts, b.String())
		}
		v.SQL = strings.Join(parts, "; ")
	}
	return v
}

// parse runs the parser, turning a panic into a parse failure.
func parse(p *parser.Parser, sql string) (stmts []ast.StmtNode, ok bool) {
	defer func() {
		if recover() != nil {
			stmts, ok = nil, false
		}
	}()
	stmts, _, err := p.ParseSQL(sql)
	if err != nil {
		parsers.Put(p)
		return nil, false
	}
	return stmts, true
}

// fastPath recognizes the common statements that cannot name another
// database: one DML statement or transaction control with no "." at all
// (so no qualified name), outside information_schema.
func (p *Policy) fastPath(sql, db string) bool {
	if strings.EqualFold(db, InfoSchema) || db != "" && !p.Visible(db) || strings.ContainsAny(sql, ".;") || hasFold(sql, "outfile") || hasFold(sql, "dumpfile") ||
		hasFold(sql, "load_file") || hasFold(sql, "/*m!") {
		return false
	}
	switch strings.ToUpper(sqltext.FirstKeyword(sql)) {
	case "SELECT", "BEGIN", "COMMIT", "ROLLBACK":
		return true
	case "INSERT", "UPDATE", "DELETE", "REPLACE":
		return !p.ReadOnly
	}
	return false
}

// checker walks one statement.
type checker struct {
	p         *Policy
	db        string
	err       *protocol.Error
	show      *Show
	reason    string
	rewritten bool
	depth     int
}

func (c *checker) fail(e *protocol.Error) {
	if c.err == nil {
		c.err = e
		if c.reason == "" {
			c.reason = "access"
		}
	}
}

func (c *checker) needDB(db string) {
	if db != "" && !c.p.Visible(db) {
		c.fail(c.p.DenyDB(db))
	}
}

func (c *checker) stmt(st ast.StmtNode) {
	if c.p.ReadOnly {
		if cmd, table := writeOf(st, c.db); cmd != "" {
			c.reason = "read_only"
			if table[1] != "" {
				c.fail(c.p.denyTable(cmd, table[0], table[1]))
			} else {
				c.fail(denyPrivilege(cmd))
			}
			return
		}
	}
	switch n := st.(type) {
	case *ast.UseStmt:
		c.needDB(n.DBName)
	case *ast.CreateDatabaseStmt:
		c.needDB(n.Name.O)
	case *ast.DropDatabaseStmt:
		c.needDB(n.Name.O)
	case *ast.AlterDatabaseStmt:
		if n.AlterDefaultDatabase {
			c.needDB(c.db)
		} else {
			c.needDB(n.Name.O)
		}
	case *ast.PrepareStmt:
		if n.SQLVar != nil {
			c.fail(protocol.ErrUnsupported("PREPARE ... FROM a user variable (the statement could not be checked against the namespace's databases); use PREPARE ... FROM 'statement' or the binary protocol"))
			return
		}
		if c.depth > 0 {
			c.fail(protocol.ErrUnsupported("nested PREPARE"))
			return
		}
		sub := c.p.checkAccess(n.SQLText, c.db)
		switch {
		case sub.Err != nil:
			c.reason = sub.Reason
			c.fail(sub.Err)
		case sub.Show != nil || sub.SQL != n.SQLText:
			c.fail(protocol.ErrUnsupported("PREPARE of SHOW DATABASES or of a query on information_schema tables that name databases; run it as a plain query"))
		}
		return
	case *ast.ShowStmt:
		c.show_(n)
	case *ast.CallStmt:
		if n.Procedure != nil {
			c.needDB(n.Procedure.Schema.O)
		}
	case *ast.GrantStmt, *ast.RevokeStmt, *ast.CreateUserStmt, *ast.AlterUserStmt, *ast.DropUserStmt,
		*ast.RenameUserStmt, *ast.GrantRoleStmt, *ast.RevokeRoleStmt, *ast.SetPwdStmt:
		c.fail(denyPrivilege("CREATE USER"))
		return
	case *ast.LoadDataStmt:
		if n.FileLocRef != ast.FileLocClient {
			c.fail(denyPrivilege("FILE"))
			return
		}
	case *ast.SelectStmt:
		if n.SelectIntoOpt != nil && n.SelectIntoOpt.Tp != ast.SelectIntoVars {
			c.fail(denyPrivilege("FILE"))
			return
		}
	case *ast.ExplainStmt:
		if n.Stmt != nil {
			c.stmt(n.Stmt)
			return
		}
	case *ast.OptimizeTableStmt:
		// Its Accept does not visit the tables.
		for _, t := range n.Tables {
			c.Enter(t)
		}
	case *ast.RepairTableStmt:
		if n.Table != nil {
			c.Enter(n.Table)
		}
	case *ast.SetStmt:
		for _, v := range n.Variables {
			if v.IsGlobal {
				c.fail(denyPrivilege("SUPER"))
				return
			}
		}
	}
	st.Accept(c)
}

func (c *checker) show_(n *ast.ShowStmt) {
	switch n.Tp {
	case ast.ShowDatabases:
		sh := &Show{Databases: true, Where: n.Where != nil}
		if n.Pattern != nil {
			if v, ok := n.Pattern.Pattern.(ast.ValueExpr); ok {
				sh.Like, _ = v.GetValue().(string)
			}
		}
		c.show = sh
	case ast.ShowProcedureStatus, ast.ShowFunctionStatus:
		c.show = &Show{}
	case ast.ShowOpenTables:
		if n.DBName == "" {
			c.show = &Show{}
		}
	case ast.ShowProcessList:
		c.fail(denyPrivilege("PROCESS"))
	case ast.ShowEngines:
		// SHOW ENGINES lists engines only; SHOW ENGINE x STATUS is not
		// parsed (and refused as unparsed).
	case ast.ShowCreateProcedure:
		if n.Procedure != nil {
			c.needDB(n.Procedure.Schema.O)
		}
	}
	c.needDB(n.DBName)
}

// Enter implements ast.Visitor.
func (c *checker) Enter(n ast.Node) (ast.Node, bool) {
	if c.err != nil {
		return n, true
	}
	switch x := n.(type) {
	case *ast.TableSource:
		if t, ok := x.Source.(*ast.TableName); ok && c.isInfoSchema(t) {
			c.infoTable(x, t)
			return n, true
		}
	case *ast.TableName:
		if c.isInfoSchema(x) {
			// Outside a FROM clause (SHOW COLUMNS, a DELETE target ...):
			// metadata about the server's own tables, or refused by it.
			name := x.Name.L
			if infoFiltered[name] == "" && !infoHarmless[name] {
				c.fail(c.p.denyTable("SELECT", InfoSchema, strings.ToUpper(x.Name.O)))
			}
			return n, false
		}
		db := x.Schema.O
		if db == "" {
			db = c.db
		}
		c.needDB(db)
	case *ast.ColumnName:
		c.needDB(x.Schema.O)
	case *ast.FuncCallExpr:
		c.needDB(x.Schema.O)
		if x.FnName.L == "load_file" {
			c.fail(denyPrivilege("FILE"))
		}
	case *ast.SelectStmt:
		if x.SelectIntoOpt != nil && x.SelectIntoOpt.Tp != ast.SelectIntoVars {
			c.fail(denyPrivilege("FILE"))
		}
	}
	return n, false
}

// Leave implements ast.Visitor.
func (c *checker) Leave(n ast.Node) (ast.Node, bool) { return n, true }

func (c *checker) isInfoSchema(t *ast.TableName) bool {
	if t.Schema.O != "" {
		return t.Schema.L == InfoSchema
	}
	return strings.EqualFold(c.db, InfoSchema)
}

// infoTable answers an information_schema table in a FROM clause for the
// client's databases: tables naming databases become a filtered derived
// table, tables without tenant data stay, the others are refused.
func (c *checker) infoTable(ts *ast.TableSource, t *ast.TableName) {
	name := t.Name.L
	if infoHarmless[name] {
		return
	}
	col, ok := infoFiltered[name]
	if !ok {
		c.fail(c.p.denyTable("SELECT", InfoSchema, strings.ToUpper(t.Name.O)))
		return
	}
	q := "SELECT * FROM `information_schema`.`" + strings.ToUpper(name) + "` WHERE " + c.p.filterCondition(col)
	ps := parsers.Get().(*parser.Parser)
	stmts, ok := parse(ps, q)
	if !ok || len(stmts) != 1 {
		c.fail(protocol.ErrUnsupported("this query on information_schema"))
		return
	}
	// The parsed nodes stay referenced by the statement being rewritten:
	// this parser is not returned to the pool.
	sel, ok := stmts[0].(*ast.SelectStmt)
	if !ok {
		c.fail(protocol.ErrUnsupported("this query on information_schema"))
		return
	}
	if ts.AsName.O == "" {
		ts.AsName = t.Name
	}
	ts.Source = sel
	c.rewritten = true
}

// hasFold reports whether s contains the lower-case word w in any case.
func hasFold(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if s[i]|0x20 == w[0] && strings.EqualFold(s[i:i+len(w)], w) {
			return true
		}
	}
	return false
}

// keepLabels keeps the column labels the client wrote: a restored
// statement spells expressions differently (COUNT(*) as COUNT(1)) and the
// derived tables name their columns in upper case.
func keepLabels(st ast.StmtNode) {
	sel, ok := st.(*ast.SelectStmt)
	if !ok || sel.Fields == nil {
		return
	}
	for _, f := range sel.Fields.Fields {
		if f.WildCard != nil || f.AsName.O != "" {
			continue
		}
		label := strings.TrimSpace(f.Text())
		if col, ok := f.Expr.(*ast.ColumnNameExpr); ok {
			label = col.Name.Name.O
		}
		if label == "" || len(label) > 256 {
			continue
		}
		f.AsName = ast.NewCIStr(label)
	}
}

// adminStatements start statements that act on the whole server (every
// tenant): replication, binary logs, plugins, server definitions, shutdown.
var adminStatements = map[string]string{
	"BINLOG": "SUPER", "CHANGE": "SUPER", "STOP": "SUPER", "RESET": "RELOAD", "PURGE": "SUPER",
	"SHUTDOWN": "SHUTDOWN", "INSTALL": "INSERT", "UNINSTALL": "DELETE",
	// FLUSH acts on the whole server the namespaces share (FLUSH TABLES
	// WITH READ LOCK would stop every tenant's writes).
	"FLUSH": "RELOAD",
}

// remoteEngines read other servers' (or databases') tables through a
// CONNECTION string the proxy cannot check.
var remoteEngines = map[string]bool{"FEDERATED": true, "FEDERATEDX": true, "CONNECT": true, "SPIDER": true}

// adminStatement refuses server-wide statements (1227).
func adminStatement(sql string) *protocol.Error {
	if hasFold(sql, "engine") || hasFold(sql, "connection") {
		toks := tokens(sql)
		for i, t := range toks {
			if t.kind != tokIdent || t.quoted {
				continue
			}
			up := strings.ToUpper(t.text)
			j := i + 1
			if j < len(toks) && toks[j].text == "=" {
				j++
			}
			if up == "ENGINE" && j < len(toks) && remoteEngines[strings.ToUpper(toks[j].text)] ||
				up == "CONNECTION" && j < len(toks) && toks[j].text == "'" {
				return denyPrivilege("SUPER")
			}
		}
	}
	kw := strings.ToUpper(sqltext.FirstKeyword(sql))
	if kw == "START" || kw == "CREATE" || kw == "ALTER" || kw == "DROP" {
		second := ""
		for i, t := range tokens(sql) {
			if i == 1 && t.kind == tokIdent {
				second = strings.ToUpper(t.text)
			}
		}
		switch {
		case kw == "START" && (second == "SLAVE" || second == "REPLICA" || second == "ALL"):
			return denyPrivilege("SUPER")
		case kw != "START" && (second == "SERVER" || second == "ROLE" || second == "USER"):
			return denyPrivilege("CREATE USER")
		}
		return nil
	}
	if priv, ok := adminStatements[kw]; ok {
		return denyPrivilege(priv)
	}
	return nil
}

// mariadbComments turns MariaDB's executable comments /*M!NNNNNN into
// /*!NNNNNN, which the parser (and MariaDB) run as well.
func mariadbComments(sql string) string {
	if !hasFold(sql, "/*m!") {
		return sql
	}
	var b strings.Builder
	for i := 0; i < len(sql); i++ {
		if i+3 < len(sql) && sql[i] == '/' && sql[i+1] == '*' && (sql[i+2] == 'M' || sql[i+2] == 'm') && sql[i+3] == '!' {
			b.WriteString("/*!")
			i += 3
			continue
		}
		b.WriteByte(sql[i])
	}
	return b.String()
}
