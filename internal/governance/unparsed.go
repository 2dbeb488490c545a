package governance

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// writeOf returns the command name of a statement a read-only user may not
// run, and the first table it writes ({db, table}; table empty when it
// names none). cmd is empty for statements that do not write.
func writeOf(st ast.StmtNode, db string) (cmd string, table [2]string) {
	first := func(refs *ast.TableRefsClause) [2]string {
		var t [2]string
		if refs == nil {
			return t
		}
		f := &firstTable{}
		refs.Accept(f)
		if f.t != nil {
			t = [2]string{f.t.Schema.O, f.t.Name.O}
			if t[0] == "" {
				t[0] = db
			}
		}
		return t
	}
	switch n := st.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt, *ast.ShowStmt, *ast.UseStmt, *ast.BeginStmt, *ast.CommitStmt,
		*ast.RollbackStmt, *ast.SavepointStmt, *ast.ReleaseSavepointStmt, *ast.DoStmt, *ast.PrepareStmt,
		*ast.ExecuteStmt, *ast.DeallocateStmt, *ast.KillStmt, *ast.SetRoleStmt:
		return "", table
	case *ast.ExplainStmt:
		if n.Analyze && n.Stmt != nil {
			return writeOf(n.Stmt, db)
		}
		return "", table
	case *ast.SetStmt:
		for _, v := range n.Variables {
			if v.IsGlobal {
				return "SUPER", table
			}
		}
		return "", table
	case *ast.InsertStmt:
		if n.IsReplace {
			return "REPLACE", first(n.Table)
		}
		return "INSERT", first(n.Table)
	case *ast.UpdateStmt:
		return "UPDATE", first(n.TableRefs)
	case *ast.DeleteStmt:
		return "DELETE", first(n.TableRefs)
	case *ast.LoadDataStmt:
		if n.Table != nil {
			t := [2]string{n.Table.Schema.O, n.Table.Name.O}
			if t[0] == "" {
				t[0] = db
			}
			return "INSERT", t
		}
		return "INSERT", table
	case *ast.CreateTableStmt:
		return "CREATE", tableOf(n.Table, db)
	case *ast.DropTableStmt:
		if len(n.Tables) > 0 {
			return "DROP", tableOf(n.Tables[0], db)
		}
		return "DROP", table
	case *ast.AlterTableStmt:
		return "ALTER", tableOf(n.Table, db)
	case *ast.TruncateTableStmt:
		return "DROP", tableOf(n.Table, db)
	case *ast.CreateIndexStmt:
		return "INDEX", tableOf(n.Table, db)
	case *ast.DropIndexStmt:
		return "INDEX", tableOf(n.Table, db)
	case *ast.RenameTableStmt:
		if len(n.TableToTables) > 0 {
			return "ALTER", tableOf(n.TableToTables[0].OldTable, db)
		}
		return "ALTER", table
	case *ast.CreateViewStmt:
		return "CREATE VIEW", tableOf(n.ViewName, db)
	case *ast.CreateDatabaseStmt, *ast.DropDatabaseStmt, *ast.AlterDatabaseStmt:
		return "CREATE, DROP, ALTER", table
	case *ast.CallStmt:
		return "EXECUTE", table
	case *ast.LockTablesStmt, *ast.UnlockTablesStmt:
		return "", table
	}
	return "write", table
}

func tableOf(t *ast.TableName, db string) [2]string {
	if t == nil {
		return [2]string{}
	}
	out := [2]string{t.Schema.O, t.Name.O}
	if out[0] == "" {
		out[0] = db
	}
	return out
}

type firstTable struct{ t *ast.TableName }

func (f *firstTable) Enter(n ast.Node) (ast.Node, bool) {
	if t, ok := n.(*ast.TableName); ok && f.t == nil {
		f.t = t
	}
	return n, f.t != nil
}

func (f *firstTable) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// readOnlyKeywords start statements a read-only user may run when the
// parser does not understand them.
var readOnlyKeywords = map[string]bool{
	"SELECT": true, "WITH": true, "SHOW": true, "DESC": true, "DESCRIBE": true, "EXPLAIN": true,
	"HELP": true, "VALUES": true, "TABLE": true, "BEGIN": true, "START": true, "COMMIT": true,
	"ROLLBACK": true, "XA": true, "USE": true, "DO": true, "SAVEPOINT": true, "RELEASE": true,
}

// refusedShows are SHOW forms (not understood by the parser) that reveal
// other tenants' statements or data.
var refusedShows = []string{"SHOW BINLOG", "SHOW RELAYLOG", "SHOW ENGINE", "SHOW EXPLAIN", "SHOW ANALYZE",
	"SHOW USER_STATISTICS", "SHOW CLIENT_STATISTICS", "SHOW INDEX_STATISTICS", "SHOW TABLE_STATISTICS",
	"SHOW FULL PROCESSLIST", "SHOW PROCESSLIST", "SHOW SLAVE", "SHOW REPLICA", "SHOW ALL"}

// checkUnparsed checks a statement the parser does not understand,
// conservatively: every qualified name and every name after USE,
// DATABASE, SCHEMA, FROM or IN is a database unless the name is not a
// database the namespace's servers have.
func (p *Policy) checkUnparsed(sql, db string) Verdict {
	toks := tokens(sql)
	words := func(n int) string {
		var w []string
		for _, t := range toks {
			if len(w) == n {
				break
			}
			if t.kind != tokIdent {
				break
			}
			w = append(w, strings.ToUpper(t.text))
		}
		return strings.Join(w, " ")
	}
	kw := words(1)
	if p.ReadOnly && !readOnlyKeywords[kw] {
		return Verdict{Err: denyPrivilege(kw), Reason: "read_only"}
	}
	if kw == "SHOW" {
		two, three := words(2), words(3)
		for _, r := range refusedShows {
			if two == r || three == r || strings.HasPrefix(three, r+" ") {
				return Verdict{Err: denyPrivilege("PROCESS"), Reason: "access"}
			}
		}
	}
	for _, t := range toks {
		if up := strings.ToUpper(t.text); t.kind == tokIdent && !t.quoted && (up == "OUTFILE" || up == "DUMPFILE" || up == "LOAD_FILE" || up == "INFILE") {
			return Verdict{Err: denyPrivilege("FILE"), Reason: "access"}
		}
	}
	for i, t := range toks {
		if t.kind != tokIdent {
			continue
		}
		up := strings.ToUpper(t.text)
		xa := i > 0 && strings.EqualFold(toks[i-1].text, "XA") // XA PREPARE 'xid'
		if !t.quoted && (up == "PREPARE" && !xa || up == "EXECUTE" && i+1 < len(toks) && strings.EqualFold(toks[i+1].text, "IMMEDIATE")) {
			return Verdict{Reason: "access", Err: protocol.ErrUnsupported("dynamic SQL (PREPARE or EXECUTE IMMEDIATE) in a statement the proxy cannot parse; it could not be checked against the namespace's databases")}
		}
		if i+2 < len(toks) && toks[i+1].kind == tokDot && toks[i+2].kind == tokIdent && !allDigits(t.text) {
			if e := p.unparsedName(t.text, db); e != nil {
				return Verdict{Err: e, Reason: "access"}
			}
		}
		if !t.quoted && (up == "USE" || up == "DATABASE" || up == "SCHEMA" || up == "FROM" || up == "IN") &&
			i+1 < len(toks) && toks[i+1].kind == tokIdent && (i+2 >= len(toks) || toks[i+2].kind != tokDot) {
			if e := p.unparsedName(toks[i+1].text, db); e != nil {
				return Verdict{Err: e, Reason: "access"}
			}
		}
	}
	if strings.EqualFold(db, InfoSchema) {
		return Verdict{Reason: "access", Err: protocol.ErrUnsupported("this statement in information_schema (the proxy cannot parse it to answer it for the namespace's databases)")}
	}
	return Verdict{SQL: sql}
}

// unparsedName refuses a possible database name of an unparsed statement.
func (p *Policy) unparsedName(name, db string) *protocol.Error {
	if strings.EqualFold(name, InfoSchema) {
		return protocol.ErrUnsupported("a statement the proxy cannot parse that names information_schema")
	}
	if p.Visible(name) {
		return nil
	}
	if p.denied[strings.ToLower(name)] {
		return p.DenyDB(name)
	}
	if !p.closed && !p.hidden[strings.ToLower(name)] {
		return nil
	}
	if p.Exists != nil && !p.Exists(name) {
		// An alias or a column (NEW.x in a trigger), not a database.
		return nil
	}
	return p.DenyDB(name)
}

type tokKind int

const (
	tokIdent tokKind = iota
	tokDot
	tokOther
)

type token struct {
	kind   tokKind
	text   string
	quoted bool
}

// tokens splits SQL into identifiers (plain or backquoted), dots and
// other symbols, skipping string literals and comments (but not the body
// of /*! versioned comments, which is SQL).
func tokens(s string) []token {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#' || c == '-' && i+2 < len(s) && s[i+1] == '-' && (s[i+2] == ' ' || s[i+2] == '\t' || s[i+2] == '\n'):
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			if i+2 < len(s) && (s[i+2] == '!' || s[i+2] == 'M' && i+3 < len(s) && s[i+3] == '!') {
				i += 3
				for i < len(s) && (s[i] == '!' || s[i] >= '0' && s[i] <= '9') {
					i++
				}
				continue
			}
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return out
			}
			i += end + 4
		case c == '*' && i+1 < len(s) && s[i+1] == '/':
			i += 2
		case c == '\'' || c == '"':
			i++
			for i < len(s) && s[i] != c {
				if s[i] == '\\' {
					i++
				} else if s[i] == c && i+1 < len(s) && s[i+1] == c {
					i++
				}
				i++
			}
			i++
			out = append(out, token{kind: tokOther, text: "'"})
		case c == '`':
			j := i + 1
			var b strings.Builder
			for j < len(s) {
				if s[j] == '`' {
					if j+1 < len(s) && s[j+1] == '`' {
						b.WriteByte('`')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			out = append(out, token{kind: tokIdent, text: b.String(), quoted: true})
			i = j + 1
		case c == '.':
			out = append(out, token{kind: tokDot})
			i++
		case c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80:
			j := i
			for j < len(s) && (s[j] == '_' || s[j] == '$' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9' || s[j] >= 0x80) {
				j++
			}
			out = append(out, token{kind: tokIdent, text: s[i:j]})
			i = j
		default:
			out = append(out, token{kind: tokOther, text: string(c)})
			i++
		}
	}
	return out
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
