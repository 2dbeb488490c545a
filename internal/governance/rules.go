package governance

import (
	"strings"
	"time"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/sqltext"
)

// ruleSet is a namespace's sql_rules as they apply to one user.
type ruleSet struct {
	rules    []*config.SQLRule
	prints   []string // normalised fingerprint of each rule ("" when none)
	hasAllow bool
	needAST  bool // a rule matches by class
	// timed: some limit applies to statement time (clients may then not
	// set max_statement_time themselves).
	timed    bool
	baseTime time.Duration // namespace and user max_execution_time
	// baseRows, baseBytes: namespace and user result limits.
	baseRows, baseBytes int64
	// keys: sharding key columns of sharded tables (lower-case table ->
	// key), for sharded_full_scan.
	keys map[string][]string
	ns   string
}

func newRuleSet(ns *config.Namespace, u *config.User) *ruleSet {
	rs := &ruleSet{ns: ns.Name, keys: map[string][]string{}}
	rs.baseTime = minPositive(ns.MaxExecutionTime, u.Access.MaxExecutionTime)
	rs.baseRows = minPos64(int64(ns.MaxResultRows), int64(u.Access.MaxResultRows))
	rs.baseBytes = minPos64(int64(ns.MaxResultBytes), int64(u.Access.MaxResultBytes))
	rs.timed = rs.baseTime > 0
	for i := range ns.SQLRules {
		r := &ns.SQLRules[i]
		if len(r.Users) > 0 && !containsExactStr(r.Users, u.Name) {
			continue
		}
		rs.rules = append(rs.rules, r)
		fp := ""
		if r.Fingerprint != "" {
			if isHexDigest(r.Fingerprint) {
				fp = strings.ToLower(r.Fingerprint)
			} else {
				fp = parser.Normalize(r.Fingerprint, "ON")
			}
		}
		rs.prints = append(rs.prints, fp)
		if r.Action == "allow" {
			rs.hasAllow = true
		}
		if r.Class != "" {
			rs.needAST = true
		}
		if r.MaxExecutionTime > 0 {
			rs.timed = true
		}
	}
	for _, d := range ns.Databases {
		for _, t := range d.Tables {
			if t.Key != "" && (t.Type == config.TableSharded || t.Type == config.TableLinked) {
				k := strings.ToLower(t.Name)
				rs.keys[k] = append(rs.keys[k], strings.ToLower(t.Key))
			}
		}
	}
	return rs
}

func minPos64(vs ...int64) int64 {
	var m int64
	for _, v := range vs {
		if v > 0 && (m == 0 || v < m) {
			m = v
		}
	}
	return m
}

func minPositive(ds ...time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		if d > 0 && (m == 0 || d < m) {
			m = d
		}
	}
	return m
}

func containsExactStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func isHexDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// active reports whether any rule or limit applies.
func (rs *ruleSet) active() bool {
	return rs != nil && (len(rs.rules) > 0 || rs.baseTime > 0 || rs.baseRows > 0 || rs.baseBytes > 0)
}

// Limits are what the matching limit rules (and the namespace's and user's
// settings) impose on one statement.
type Limits struct {
	// ExecTime is the statement time limit (0: none).
	ExecTime time.Duration
	// MaxRows and MaxBytes limit the statement's result (0: none).
	MaxRows, MaxBytes int64
	// Rate are the matching limit rules with a rate or concurrency limit.
	Rate []*config.SQLRule
	// Fingerprint is the normalised statement (for per-fingerprint
	// budgets, digests).
	Fingerprint string
}

// classes returns the classes of a parsed statement.
func (rs *ruleSet) classes(st ast.StmtNode) map[string]bool {
	c := map[string]bool{}
	switch n := st.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
		c["select"] = true
	case *ast.InsertStmt:
		if n.IsReplace {
			c["replace"] = true
		} else {
			c["insert"] = true
		}
		c["write"] = true
	case *ast.UpdateStmt:
		c["update"], c["write"] = true, true
		if n.Where == nil {
			c["update_without_where"], c["write_without_where"] = true, true
		}
	case *ast.DeleteStmt:
		c["delete"], c["write"] = true, true
		if n.Where == nil {
			c["delete_without_where"], c["write_without_where"] = true, true
		}
	case *ast.CreateTableStmt, *ast.DropTableStmt, *ast.AlterTableStmt, *ast.TruncateTableStmt, *ast.CreateIndexStmt,
		*ast.DropIndexStmt, *ast.RenameTableStmt, *ast.CreateDatabaseStmt, *ast.DropDatabaseStmt, *ast.AlterDatabaseStmt,
		*ast.CreateViewStmt:
		c["ddl"], c["write"] = true, true
	}
	if len(rs.keys) > 0 && rs.fullScan(st) {
		c["sharded_full_scan"] = true
	}
	return c
}

// fullScan reports whether a SELECT, UPDATE or DELETE reads a sharded table
// without a condition on its key in its WHERE clause.
func (rs *ruleSet) fullScan(st ast.StmtNode) bool {
	v := &scanVisitor{rs: rs}
	st.Accept(v)
	return v.found
}

type scanVisitor struct {
	rs    *ruleSet
	found bool
}

func (v *scanVisitor) Enter(n ast.Node) (ast.Node, bool) {
	var where ast.ExprNode
	var from *ast.TableRefsClause
	switch x := n.(type) {
	case *ast.SelectStmt:
		where, from = x.Where, x.From
	case *ast.UpdateStmt:
		where, from = x.Where, x.TableRefs
	case *ast.DeleteStmt:
		where, from = x.Where, x.TableRefs
	default:
		return n, false
	}
	if from == nil {
		return n, false
	}
	tables := &tableNames{}
	from.Accept(tables)
	keyed := map[string]bool{}
	if where != nil {
		where.Accept(&keyConds{cols: keyed})
	}
	for _, t := range tables.names {
		keys := v.rs.keys[t]
		if len(keys) == 0 {
			continue
		}
		hit := false
		for _, k := range keys {
			if keyed[k] {
				hit = true
			}
		}
		if !hit {
			v.found = true
		}
	}
	return n, false
}

func (v *scanVisitor) Leave(n ast.Node) (ast.Node, bool) { return n, true }

type tableNames struct{ names []string }

func (t *tableNames) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.TableName:
		t.names = append(t.names, x.Name.L)
	case *ast.SelectStmt, *ast.SetOprStmt:
		return n, true // derived tables are checked on their own
	}
	return n, false
}

func (t *tableNames) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// keyConds collects the columns compared with a value (=, <, >, <=, >=,
// <=>, IN, BETWEEN) in a WHERE clause.
type keyConds struct{ cols map[string]bool }

func (k *keyConds) Enter(n ast.Node) (ast.Node, bool) {
	col := func(e ast.ExprNode) {
		for {
			p, ok := e.(*ast.ParenthesesExpr)
			if !ok {
				break
			}
			e = p.Expr
		}
		if c, ok := e.(*ast.ColumnNameExpr); ok {
			k.cols[c.Name.Name.L] = true
		}
	}
	switch x := n.(type) {
	case *ast.BinaryOperationExpr:
		switch x.Op {
		case opcode.EQ, opcode.LT, opcode.GT, opcode.LE, opcode.GE, opcode.NullEQ:
			col(x.L)
			col(x.R)
		}
	case *ast.PatternInExpr:
		if !x.Not {
			col(x.Expr)
		}
	case *ast.BetweenExpr:
		if !x.Not {
			col(x.Expr)
		}
	}
	return n, false
}

func (k *keyConds) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// unparsedClasses classifies a statement the parser does not understand by
// its first keyword (and whether it has a WHERE).
func unparsedClasses(sql string) map[string]bool {
	c := map[string]bool{}
	kw := strings.ToUpper(sqltext.FirstKeyword(sql))
	where := false
	for _, t := range tokens(sql) {
		if t.kind == tokIdent && !t.quoted && strings.EqualFold(t.text, "WHERE") {
			where = true
		}
	}
	switch kw {
	case "SELECT", "WITH":
		c["select"] = true
	case "INSERT":
		c["insert"], c["write"] = true, true
	case "REPLACE":
		c["replace"], c["write"] = true, true
	case "UPDATE", "DELETE":
		c[strings.ToLower(kw)], c["write"] = true, true
		if !where {
			c[strings.ToLower(kw)+"_without_where"], c["write_without_where"] = true, true
		}
	case "CREATE", "ALTER", "DROP", "TRUNCATE", "RENAME":
		c["ddl"], c["write"] = true, true
	}
	return c
}

// evaluate applies the rules to one statement (text, and its parse when
// the parser understood it). It returns the error refusing it, or the
// limits that apply.
func (rs *ruleSet) evaluate(text string, st ast.StmtNode, lim *Limits) (*protocol.Error, string) {
	if rs == nil || len(rs.rules) == 0 {
		return nil, ""
	}
	fp := parser.Normalize(text, "ON")
	if lim.Fingerprint == "" {
		lim.Fingerprint = fp
	}
	digest := ""
	var classes map[string]bool
	decided := false
	for i, r := range rs.rules {
		if r.Class != "" {
			if classes == nil {
				if st != nil {
					classes = rs.classes(st)
				} else {
					classes = unparsedClasses(text)
				}
			}
			if !classes[r.Class] {
				continue
			}
		}
		if want := rs.prints[i]; want != "" {
			if isHexDigest(want) {
				if digest == "" {
					digest = parser.DigestNormalized(fp).String()
				}
				if digest != want {
					continue
				}
			} else if fp != want {
				continue
			}
		}
		if re := r.Re(); re != nil && !re.MatchString(text) {
			continue
		}
		switch r.Action {
		case "deny":
			if !decided {
				return ruleError(r.Name), r.Name
			}
		case "allow":
			decided = true
		case "limit":
			lim.ExecTime = minPositive(lim.ExecTime, r.MaxExecutionTime)
			lim.MaxRows = minPos64(lim.MaxRows, int64(r.MaxRows))
			lim.MaxBytes = minPos64(lim.MaxBytes, int64(r.MaxBytes))
			if r.MaxQPS > 0 || r.MaxConcurrency > 0 {
				lim.Rate = append(lim.Rate, r)
			}
		}
	}
	if rs.hasAllow && !decided {
		return protocol.NewError(protocol.ErrNotAllowedCommand, "42000", "Statement refused by Switchyard: it matches no allow rule of namespace '%s'", rs.ns), "allow_list"
	}
	return nil, ""
}

// ruleError is the answer to a statement a deny rule refused.
func ruleError(name string) *protocol.Error {
	return protocol.NewError(protocol.ErrNotAllowedCommand, "42000", "Statement refused by Switchyard SQL rule '%s'", name)
}
