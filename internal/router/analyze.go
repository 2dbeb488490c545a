package router

import (
	"fmt"
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

// Analyze parses sql and classifies it. It never fails: statements the
// parser rejects are classified by their first keyword (FlagUnparsed), and
// statements Switchyard refuses carry Err.
func Analyze(sql string) *Analysis {
	a := &Analysis{Hint: scanHint(sql)}
	p := parsers.Get().(*parser.Parser)
	stmts, ok := parse(p, sql)
	if !ok {
		classifyUnparsed(a, sql)
		return a
	}
	// The statements share memory with the parser: return it to the pool
	// only after classification.
	defer parsers.Put(p)
	switch len(stmts) {
	case 0:
		a.Kind = KindEmpty
		a.Err = protocol.NewError(protocol.ErrEmptyQuery, "42000", "Query was empty")
		return a
	case 1:
		classify(a, stmts[0], sql)
	default:
		for i, st := range stmts {
			var sub Analysis
			classify(&sub, st, st.Text())
			if sub.Err != nil && a.Err == nil {
				a.Err = sub.Err
			}
			if i == 0 {
				a.Kind = sub.Kind
			}
			if sub.Kind == KindUse {
				a.DB = sub.DB
			}
			a.Flags |= sub.Flags
			pin, unpin := derivePins(&sub)
			a.Pins |= pin | sub.Pins
			a.Unpins |= unpin | sub.Unpins
			if sub.Local == LocalKill {
				a.Err = protocol.ErrUnsupported("KILL inside a multi-statement query")
			}
		}
		// A reason both set and cleared in one query stays set: safe.
		a.Unpins &^= a.Pins
		a.Flags |= FlagMulti
	}
	return a
}

// parse runs the parser, turning a parser panic (seen on some malformed
// input) into a parse failure. A parser that panicked is not reused.
func parse(p *parser.Parser, sql string) (stmts []ast.StmtNode, ok bool) {
	defer func() {
		if recover() != nil {
			stmts, ok = nil, false
		}
	}()
	stmts, _, err := p.ParseSQL(sql)
	if err != nil {
		// MariaDB's six-digit executable comments (mariadb-dump's
		// /*!100100 SET ... */) are read as a 10.11 server reads them.
		if alt, ok := unwrapVersioned(sql); ok {
			stmts, _, err = p.ParseSQL(alt)
		}
	}
	if err != nil {
		parsers.Put(p)
		return nil, false
	}
	return stmts, true
}

func classify(a *Analysis, st ast.StmtNode, text string) {
	switch n := st.(type) {
	case *ast.SelectStmt:
		a.Kind = KindSelect
		if n.LockInfo != nil && n.LockInfo.LockType != ast.SelectLockNone {
			a.Flags |= FlagLockingRead
		}
		if n.SelectIntoOpt != nil {
			if n.SelectIntoOpt.Tp == ast.SelectIntoVars {
				a.Flags |= FlagUserVarWrite
			} else {
				a.Flags |= FlagIntoFile
			}
		}
		if n.SelectStmtOpts != nil && n.SelectStmtOpts.CalcFoundRows {
			a.Flags |= FlagSQLCalcFoundRows
		}
		inspectExprs(a, n)
		if label, ok := consistencySelect(n); ok {
			a.Local = LocalShowConsistency
			a.Label = label
		}
		if fn, label, ok := singleFuncQuery(n); ok {
			switch fn {
			case "last_insert_id":
				a.Local = LocalLastInsertID
				a.Label = label
			case "connection_id":
				a.Local = LocalConnectionID
				a.Label = label
			case "row_count":
				a.Local = LocalRowCount
				a.Label = label
			case "found_rows":
				a.Local = LocalFoundRows
				a.Label = label
			}
		}
	case *ast.SetOprStmt:
		a.Kind = KindSelect
		inspectExprs(a, n)
	case *ast.InsertStmt:
		a.Kind = KindInsert
		if n.IsReplace {
			a.Kind = KindReplace
		}
		a.Flags |= FlagWrites
		inspectExprs(a, n)
	case *ast.UpdateStmt:
		a.Kind = KindUpdate
		a.Flags |= FlagWrites
		inspectExprs(a, n)
	case *ast.DeleteStmt:
		a.Kind = KindDelete
		a.Flags |= FlagWrites
		inspectExprs(a, n)
	case *ast.SetStmt:
		a.Kind = KindSet
		if strings.EqualFold(firstWords(text, 2), "SET TRANSACTION") {
			// Without a scope, SET TRANSACTION applies to the next
			// transaction only, on the connection that runs it.
			a.Flags |= FlagNextTxn
			return
		}
		if local, ok := consistencySet(a, n); ok {
			a.Local = local
			return
		}
		for _, v := range n.Variables {
			switch {
			case !v.IsSystem && v.Name != ast.SetNames && v.Name != ast.SetCharset:
				a.Flags |= FlagUserVarWrite
			case v.IsGlobal:
				a.Flags |= FlagWrites
			case v.Name == "tx_isolation_one_shot":
				a.Flags |= FlagNextTxn
			default:
				a.Flags |= FlagSessionVars
				if strings.EqualFold(v.Name, "autocommit") {
					a.Flags |= FlagAutocommit
					a.Autocommit = autocommitValue(v.Value)
				}
			}
		}
		inspectExprs(a, n)
	case *ast.UseStmt:
		a.Kind = KindUse
		a.DB = n.DBName
	case *ast.BeginStmt:
		a.Kind = KindBegin
		if n.ReadOnly {
			a.Flags |= FlagReadOnlyTxn
		}
	case *ast.CommitStmt:
		a.Kind = KindCommit
	case *ast.RollbackStmt:
		a.Kind = KindRollback
		if n.SavepointName != "" {
			a.Kind = KindSavepoint
			a.Savepoint, a.SavepointOp = n.SavepointName, SavepointRollbackTo
		}
	case *ast.SavepointStmt:
		a.Kind = KindSavepoint
		a.Savepoint, a.SavepointOp = n.Name, SavepointSet
	case *ast.ReleaseSavepointStmt:
		a.Kind = KindSavepoint
		a.Savepoint, a.SavepointOp = n.Name, SavepointRelease
	case *ast.CreateTableStmt:
		a.Kind = KindDDL
		a.Flags |= FlagWrites
		if n.TemporaryKeyword != ast.TemporaryNone {
			a.Flags |= FlagTempTable
		}
	case *ast.DropTableStmt:
		a.Kind = KindDDL
		a.Flags |= FlagWrites
		if n.TemporaryKeyword != ast.TemporaryNone {
			a.Flags |= FlagTempTable
		}
	case *ast.AlterTableStmt, *ast.CreateIndexStmt, *ast.DropIndexStmt, *ast.TruncateTableStmt,
		*ast.CreateDatabaseStmt, *ast.DropDatabaseStmt, *ast.AlterDatabaseStmt, *ast.RenameTableStmt,
		*ast.CreateViewStmt, *ast.CreateSequenceStmt, *ast.DropSequenceStmt, *ast.AlterSequenceStmt,
		*ast.DropProcedureStmt, *ast.CreateUserStmt, *ast.AlterUserStmt, *ast.DropUserStmt,
		*ast.GrantStmt, *ast.RevokeStmt, *ast.RenameUserStmt, *ast.AnalyzeTableStmt, *ast.OptimizeTableStmt,
		*ast.RepairTableStmt, *ast.SetPwdStmt:
		a.Kind = KindDDL
		a.Flags |= FlagWrites
	case *ast.ShowStmt:
		a.Kind = KindShow
	case *ast.LockTablesStmt:
		a.Kind = KindLockTables
	case *ast.UnlockTablesStmt:
		a.Kind = KindUnlockTables
	case *ast.PrepareStmt:
		a.Kind = KindPrepare
	case *ast.ExecuteStmt:
		a.Kind = KindExecute
		a.Flags |= FlagWrites
	case *ast.DeallocateStmt:
		a.Kind = KindDeallocate
	case *ast.LoadDataStmt:
		a.Kind = KindLoadData
		a.Flags |= FlagWrites
		if n.FileLocRef == ast.FileLocClient {
			a.Flags |= FlagLocalInfile
			a.Err = protocol.NewError(protocol.ErrNotAllowedCommand, "42000",
				"LOAD DATA LOCAL INFILE is not supported by Switchyard; load the file with INSERT statements or LOAD DATA INFILE on the server")
		}
	case *ast.ExplainStmt:
		a.Kind = KindExplain
	case *ast.KillStmt:
		a.Kind = KindKill
		a.Local = LocalKill
		a.KillID = n.ConnectionID
		a.KillQuery = n.Query
	case *ast.CallStmt:
		a.Kind = KindCall
		a.Flags |= FlagWrites
		inspectExprs(a, n)
		if a.Flags&FlagUserVarRead != 0 {
			// OUT and INOUT parameters write user variables.
			a.Flags |= FlagUserVarWrite
		}
	case *ast.FlushStmt:
		a.Kind = KindOther
		a.Flags |= FlagWrites
		if n.ReadLock {
			a.Pins |= PinLockTables
		}
	case *ast.SetRoleStmt, *ast.SetDefaultRoleStmt:
		a.Kind = KindSet
		a.Pins |= PinRole
	case *ast.DoStmt:
		a.Kind = KindDo
		inspectExprs(a, n)
	default:
		a.Kind = KindOther
		a.Flags |= FlagWrites
	}
}

// autocommitValue reads the value of SET autocommit = v: 1/0, ON/OFF,
// TRUE/FALSE, DEFAULT (ON); anything else (an expression) is unknown.
func autocommitValue(v ast.ExprNode) AutocommitValue {
	if v == nil {
		return AutocommitUnknown
	}
	if _, ok := v.(*ast.DefaultExpr); ok {
		return AutocommitOn
	}
	var b strings.Builder
	if err := v.Restore(format.NewRestoreCtx(restoreFlags, &b)); err != nil {
		return AutocommitUnknown
	}
	switch strings.ToUpper(strings.Trim(b.String(), "`'\"")) {
	case "1", "ON", "TRUE":
		return AutocommitOn
	case "0", "OFF", "FALSE":
		return AutocommitOff
	}
	return AutocommitUnknown
}

// inspectExprs walks a statement for user variables and session-bound
// functions.
func inspectExprs(a *Analysis, n ast.Node) {
	n.Accept((*exprVisitor)(a)) // the Analysis is the visitor: no allocation
}

// exprVisitor is an Analysis collecting the flags of a statement's
// expressions.
type exprVisitor Analysis

func (v *exprVisitor) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.VariableExpr:
		if !x.IsSystem {
			if x.Value != nil {
				v.Flags |= FlagUserVarWrite
			} else {
				v.Flags |= FlagUserVarRead
			}
		}
		if x.IsSystem && (strings.EqualFold(x.Name, "identity") || strings.EqualFold(x.Name, "last_insert_id")) {
			v.Flags |= FlagLastInsertID
		}
	case *ast.FuncCallExpr:
		switch x.FnName.L {
		case "get_lock", "release_lock", "release_all_locks":
			v.Flags |= FlagLockFunc
		case "last_insert_id":
			v.Flags |= FlagLastInsertID
			if len(x.Args) > 0 {
				// LAST_INSERT_ID(expr) sets the connection's value.
				v.Flags |= FlagUserVarWrite
			}
		case "found_rows", "row_count":
			v.Flags |= FlagLastInsertID | FlagSessionCounters
		case "is_free_lock", "is_used_lock", "nextval", "lastval", "setval":
			v.Flags |= FlagNeedsPrimary
		}
	case *ast.SelectStmt:
		// Nested SELECTs (UNION members, subqueries) may lock rows too.
		if x.LockInfo != nil && x.LockInfo.LockType != ast.SelectLockNone {
			v.Flags |= FlagLockingRead
		}
		if x.SelectStmtOpts != nil && x.SelectStmtOpts.CalcFoundRows {
			v.Flags |= FlagSQLCalcFoundRows
		}
	}
	return n, false
}

func (v *exprVisitor) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// consistencySet recognizes SET of the read-consistency variable. Setting it
// together with other variables, or globally, is refused.
func consistencySet(a *Analysis, n *ast.SetStmt) (Local, bool) {
	found := false
	for _, v := range n.Variables {
		if IsConsistencyVar(strings.ToLower(v.Name)) {
			found = true
		}
	}
	if !found {
		return LocalNone, false
	}
	if len(n.Variables) != 1 {
		a.Err = protocol.ErrUnsupported("setting switchyard_read_consistency together with other variables; use a SET of its own")
		return LocalNone, true
	}
	v := n.Variables[0]
	if v.IsGlobal {
		a.Err = protocol.NewError(1229, "HY000", "Variable '%s' is a SESSION variable and can't be used with SET GLOBAL; set read_consistency per user in the configuration", strings.ToLower(v.Name))
		return LocalNone, true
	}
	switch x := v.Value.(type) {
	case ast.ValueExpr:
		a.Value = strings.ToLower(fmt.Sprint(x.GetValue()))
	case *ast.ColumnNameExpr:
		a.Value = x.Name.Name.L // SET x = session (unquoted)
	case *ast.DefaultExpr:
		a.Value = "default"
	default:
		a.Err = protocol.NewError(protocol.ErrWrongValueForVar, "42000", "Variable '%s' can't be set to an expression; use one of 'eventual', 'session', 'global'", strings.ToLower(v.Name))
		return LocalNone, true
	}
	return LocalSetConsistency, true
}

// consistencySelect matches SELECT @@[session.]switchyard_read_consistency
// alone.
func consistencySelect(n *ast.SelectStmt) (string, bool) {
	if n.From != nil || n.Where != nil || n.Fields == nil || len(n.Fields.Fields) != 1 {
		return "", false
	}
	fld := n.Fields.Fields[0]
	v, ok := fld.Expr.(*ast.VariableExpr)
	if !ok || !v.IsSystem || v.IsGlobal || !IsConsistencyVar(strings.ToLower(v.Name)) {
		return "", false
	}
	if fld.AsName.O != "" {
		return fld.AsName.O, true
	}
	if t := strings.TrimSpace(fld.Text()); t != "" {
		return t, true
	}
	return "@@" + strings.ToLower(v.Name), true
}

// singleFuncQuery matches SELECT f() [AS x] with nothing else (no FROM, no
// WHERE), the form ORMs send for LAST_INSERT_ID() and CONNECTION_ID(). It
// returns the function's lowercase name and the column label.
func singleFuncQuery(n *ast.SelectStmt) (fn, label string, ok bool) {
	if n.From != nil || n.Where != nil || n.Fields == nil || len(n.Fields.Fields) != 1 || n.SelectIntoOpt != nil || n.LockInfo != nil {
		return "", "", false
	}
	fld := n.Fields.Fields[0]
	f, ok := fld.Expr.(*ast.FuncCallExpr)
	if !ok || len(f.Args) != 0 {
		return "", "", false
	}
	switch {
	case fld.AsName.O != "":
		label = fld.AsName.O
	case strings.TrimSpace(fld.Text()) != "":
		label = strings.TrimSpace(fld.Text())
	default:
		label = strings.ToUpper(f.FnName.O) + "()"
	}
	return f.FnName.L, label, true
}

// scanHint looks for a routing hint in the comments before the first
// keyword and right after it: /*master*/ SELECT, SELECT /*+ primary */ ...
func scanHint(sql string) Hint {
	h := HintNone
	hintComments(sql, func(body string) bool {
		h = hintOf(body)
		return h != HintNone
	})
	return h
}

// hintComments calls found with the body of each comment before the first
// keyword and right after it (where hints go), until found returns true;
// it reports whether it did.
func hintComments(sql string, found func(body string) bool) bool {
	s := sql
	for round := 0; round < 2; round++ {
		for {
			s = strings.TrimLeft(s, " \t\r\n")
			if !strings.HasPrefix(s, "/*") {
				break
			}
			end := strings.Index(s[2:], "*/")
			if end < 0 {
				return false
			}
			if found(s[2 : 2+end]) {
				return true
			}
			s = s[2+end+2:]
		}
		if round == 0 {
			// Skip the first keyword.
			i := 0
			for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z') {
				i++
			}
			if i == 0 {
				return false
			}
			s = s[i:]
		}
	}
	return false
}

func hintOf(body string) Hint {
	body = strings.TrimSpace(body)
	body = strings.TrimPrefix(body, "+")
	body = strings.TrimPrefix(body, "!") // not a hint: versioned comment
	switch strings.ToLower(strings.TrimSpace(body)) {
	case "master", "primary", "writer":
		return HintPrimary
	case "replica", "slave", "reader":
		return HintReplica
	}
	return HintNone
}

// classifyUnparsed classifies by the first keyword what the parser did not
// understand (MariaDB-only syntax, XA ...). Such statements go to the
// primary unchanged.
func classifyUnparsed(a *Analysis, sql string) {
	a.Flags |= FlagUnparsed | FlagWrites
	if strings.Contains(strings.ReplaceAll(sql, "@@", ""), "@") {
		// A user variable the parser could not show us (SELECT ... INTO @v
		// in MariaDB's order, ...): keep the session on its connection.
		a.Flags |= FlagUserVarWrite
	}
	kw := strings.ToUpper(sqltext.FirstKeyword(sql))
	defer func() { a.Pins, a.Unpins = derivePinsUnparsed(a, sql) }()
	switch kw {
	case "SELECT", "WITH":
		a.Kind = KindSelect
	case "INSERT":
		a.Kind = KindInsert
	case "REPLACE":
		a.Kind = KindReplace
	case "UPDATE":
		a.Kind = KindUpdate
	case "DELETE":
		a.Kind = KindDelete
	case "XA":
		a.Kind = KindXA
	case "SHOW":
		a.Kind = KindShow
	case "SET":
		a.Kind = KindSet
		// Unknown SET forms might set user variables: keep the session on
		// its connection to be safe.
		a.Flags |= FlagUserVarWrite
	case "CREATE", "ALTER", "DROP", "TRUNCATE", "RENAME":
		a.Kind = KindDDL
	case "KILL":
		a.Kind = KindKill
		a.Err = protocol.ErrUnsupported("this form of KILL; use KILL [QUERY | CONNECTION] <Switchyard connection id>")
	case "LOCK":
		a.Kind = KindLockTables
	case "UNLOCK":
		a.Kind = KindUnlockTables
	case "":
		if onlyComments(sql) {
			a.Kind = KindEmpty
			a.Err = protocol.NewError(protocol.ErrEmptyQuery, "42000", "Query was empty")
		} else {
			a.Kind = KindOther
		}
	default:
		a.Kind = KindOther
	}
}

// derivePinsUnparsed adds pins for unparsed statements known by their
// first keyword.
func derivePinsUnparsed(a *Analysis, sql string) (pin, unpin Pin) {
	pin, unpin = derivePins(a)
	switch w := strings.ToUpper(firstWords(sql, 2)); {
	case strings.HasPrefix(w, "HANDLER"):
		pin |= PinHandler
	case w == "XA COMMIT" || w == "XA ROLLBACK":
		unpin |= PinXA
	case strings.HasPrefix(w, "XA"):
		pin |= PinXA
	}
	return pin, unpin
}

// onlyComments reports whether sql holds nothing but white space and
// comments.
func onlyComments(s string) bool {
	for {
		s = strings.TrimLeft(s, " \t\r\n;")
		switch {
		case s == "":
			return true
		case strings.HasPrefix(s, "/*!"):
			return false
		case strings.HasPrefix(s, "/*"):
			end := strings.Index(s[2:], "*/")
			if end < 0 {
				return false
			}
			s = s[2+end+2:]
		case strings.HasPrefix(s, "#"), strings.HasPrefix(s, "-- "):
			end := strings.IndexByte(s, '\n')
			if end < 0 {
				return true
			}
			s = s[end+1:]
		default:
			return false
		}
	}
}

// firstWords returns the first n words of s (after leading comments),
// joined by single spaces.
func firstWords(s string, n int) string {
	var words []string
	for len(words) < n {
		w := sqltext.FirstKeyword(s)
		if w == "" {
			break
		}
		words = append(words, w)
		i := strings.Index(s, w)
		s = s[i+len(w):]
	}
	return strings.Join(words, " ")
}
