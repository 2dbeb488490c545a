package router

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/switchyard-db/switchyard/internal/shard"
)

// MariaDB's INSERT/REPLACE ... RETURNING (GORM and Django use it by default)
// is not known to the SQL parser. The RETURNING clause is split off, the
// INSERT planned as usual, and the clause put back on every physical
// statement with the logical table's qualifiers renamed; the executor
// merges the returned rows in the order of the statement's rows.

// splitReturning splits "INSERT ... RETURNING list" into the INSERT and the
// list. ok is false when sql is not an INSERT/REPLACE with a top-level
// RETURNING clause.
func splitReturning(sql string) (base, list string, ok bool) {
	head := strings.TrimLeft(sql, " \t\r\n")
	if len(head) < 7 {
		return "", "", false
	}
	if w := strings.ToUpper(head[:7]); !strings.HasPrefix(w, "INSERT") && w != "REPLACE" {
		return "", "", false
	}
	at := -1
	depth := 0
	for i := 0; i < len(sql); i++ {
		switch ch := sql[i]; {
		case ch == '\'' || ch == '"' || ch == '`':
			j := i + 1
			for j < len(sql) {
				if sql[j] == '\\' && ch != '`' {
					j += 2
					continue
				}
				if sql[j] == ch {
					if j+1 < len(sql) && sql[j+1] == ch {
						j += 2
						continue
					}
					break
				}
				j++
			}
			i = j
		case ch == '#' || ch == '-' && i+2 < len(sql) && sql[i+1] == '-' && (sql[i+2] == ' ' || sql[i+2] == '\t'):
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case ch == '/' && i+1 < len(sql) && sql[i+1] == '*':
			if end := strings.Index(sql[i+2:], "*/"); end >= 0 {
				i += end + 3
			} else {
				i = len(sql)
			}
		case ch == '(':
			depth++
		case ch == ')':
			depth--
		case depth == 0 && (ch == 'R' || ch == 'r') && i+9 <= len(sql) && strings.EqualFold(sql[i:i+9], "RETURNING"):
			before := i == 0 || !isIdentChar(sql[i-1])
			after := i+9 == len(sql) || !isIdentChar(sql[i+9])
			if before && after {
				at = i
			}
			i += 8
		}
	}
	if at < 0 {
		return "", "", false
	}
	list = strings.TrimSpace(sql[at+9:])
	list = strings.TrimSpace(strings.TrimSuffix(list, ";"))
	if list == "" {
		return "", "", false
	}
	return strings.TrimSpace(sql[:at]), list, true
}

func isIdentChar(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// analyzeReturning plans an INSERT ... RETURNING on a namespace with rules:
// nil when the INSERT does not reach a sharded or global table (the
// statement then runs unchanged on the default slice).
func analyzeReturning(sql string, rules *shard.Rules, db string, src Sources) (*Analysis, Node, bool) {
	base, list, ok := splitReturning(sql)
	if !ok {
		return nil, nil, false
	}
	a, sp := AnalyzeShardedWith(base, rules, db, src)
	if a.Err != nil || sp == nil || refused(sp) != nil {
		return a, sp, true
	}
	var w *Write
	switch n := sp.(type) {
	case *Route:
		w = &Write{Steps: []Step{n.Step}}
	case *Write:
		w = n
	}
	if a.Kind != KindInsert && a.Kind != KindReplace || w == nil {
		return a, refuse("RETURNING on this statement over sharded tables"), true
	}
	if strings.Contains(list, "?") {
		return a, refuse("parameters in a RETURNING clause over sharded tables"), true
	}
	logical := insertTable(base)
	w.Returning = list
	for i := range w.Steps {
		phys := insertTable(w.Steps[i].SQL)
		w.Steps[i].SQL += " RETURNING " + qualify(list, logical, phys)
	}
	return a, w, true
}

// insertTable returns the table an INSERT/REPLACE writes ("" if unknown).
func insertTable(sql string) string {
	p := parsers.Get().(*parser.Parser)
	stmts, ok := parse(p, sql)
	if !ok {
		return ""
	}
	defer parsers.Put(p)
	if len(stmts) != 1 {
		return ""
	}
	n, ok := stmts[0].(*ast.InsertStmt)
	if !ok || n.Table == nil || n.Table.TableRefs == nil {
		return ""
	}
	if ts, ok := n.Table.TableRefs.Left.(*ast.TableSource); ok {
		if tn, ok := ts.Source.(*ast.TableName); ok {
			return tn.Name.O
		}
	}
	return ""
}

// qualify renames the qualifier logical (as in `items`.`id` or items.id)
// to the physical table phys in a RETURNING list; quoted strings are kept.
func qualify(list, logical, phys string) string {
	if logical == "" || phys == "" || strings.EqualFold(logical, phys) {
		return list
	}
	var b strings.Builder
	for i := 0; i < len(list); {
		ch := list[i]
		switch {
		case ch == '\'' || ch == '"':
			j := i + 1
			for j < len(list) && list[j] != ch {
				if list[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(list))
			b.WriteString(list[i:j])
			i = j
		case ch == '`' || isIdentChar(ch):
			j := i
			var name string
			if ch == '`' {
				j = i + 1
				for j < len(list) && list[j] != '`' {
					j++
				}
				name = list[i+1 : min(j, len(list))]
				j = min(j+1, len(list))
			} else {
				for j < len(list) && isIdentChar(list[j]) {
					j++
				}
				name = list[i:j]
			}
			k := j
			for k < len(list) && (list[k] == ' ' || list[k] == '\t') {
				k++
			}
			if k < len(list) && list[k] == '.' && strings.EqualFold(name, logical) {
				b.WriteString("`" + strings.ReplaceAll(phys, "`", "``") + "`")
			} else {
				b.WriteString(list[i:j])
			}
			i = j
		default:
			b.WriteByte(ch)
			i++
		}
	}
	return b.String()
}
