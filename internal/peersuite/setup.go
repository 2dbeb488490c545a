package peersuite

import (
	"fmt"
	"sort"
	"strings"
)

// Place says where one of the suite's physical databases lives on the
// Switchyard topology.
type Place struct {
	// Slice holds the database.
	Slice string
	// Database is its name there (a read data source's database is the
	// write data source's database on the slice's replicas).
	Database string
	// Replica: the database stands for a read data source of a
	// read/write-splitting group; its rows belong on the slice's replicas,
	// under Database, and its schema arrives by replication.
	Replica bool
}

// InitPlan is an init script distributed over slices.
type InitPlan struct {
	// Slices maps a slice to its statements, in script order.
	Slices map[string][]string
	// Skipped are the statements not run: they only concern read data
	// sources (created by replication of the write side).
	Skipped []string
}

// PlanInit distributes an init script's statements: a statement naming
// databases goes, renamed, to the slice of those databases; one naming none
// (SET ...) goes to every slice in slices; one naming only read data
// sources is skipped. A statement naming databases on several slices, or a
// database with no place, is an error.
func PlanInit(stmts []string, place map[string]Place, slices []string) (*InitPlan, error) {
	known := map[string]bool{}
	rename := map[string]string{}
	for db, p := range place {
		known[strings.ToLower(db)] = true
		rename[strings.ToLower(db)] = p.Database
	}
	plan := &InitPlan{Slices: map[string][]string{}}
	for _, st := range stmts {
		dbs := StatementDatabases(st, known)
		if len(dbs) == 0 {
			if q := qualifiedRe.FindStringSubmatch(maskLiterals(st)); q != nil && !isSetStatement(st) {
				return nil, fmt.Errorf("peersuite: statement names database %s, which has no place: %.80s", q[2], st)
			}
			for _, s := range slices {
				plan.Slices[s] = append(plan.Slices[s], st)
			}
			continue
		}
		slice := ""
		replica := true
		for _, db := range dbs {
			p := place[db]
			if slice != "" && p.Slice != slice {
				return nil, fmt.Errorf("peersuite: statement spans slices %s and %s: %.80s", slice, p.Slice, st)
			}
			slice = p.Slice
			replica = replica && p.Replica
		}
		if replica {
			plan.Skipped = append(plan.Skipped, st)
			continue
		}
		plan.Slices[slice] = append(plan.Slices[slice], RenameDatabases(st, rename))
	}
	return plan, nil
}

func isSetStatement(st string) bool {
	return strings.HasPrefix(strings.ToUpper(strings.TrimSpace(st)), "SET ")
}

// SingleTables finds ShardingSphere single tables (`!SINGLE "*.*"`): the
// tables an init script creates that no rule places. ruled holds the
// physical tables of the rules as lower-case "database.table"; dsOf maps a
// physical database (lower-case) to its logical data source. A table found
// in databases of two different data sources is an error, as in
// ShardingSphere.
func SingleTables(stmts []string, ruled map[string]bool, dsOf map[string]string) (map[string]string, error) {
	out := map[string]string{}
	var errs []string
	for _, st := range stmts {
		db, table, ok := CreatedTable(st)
		if !ok {
			continue
		}
		ldb, lt := strings.ToLower(db), strings.ToLower(table)
		if ruled[ldb+"."+lt] {
			continue
		}
		ds, ok := dsOf[ldb]
		if !ok {
			errs = append(errs, fmt.Sprintf("table %s.%s: database %s belongs to no data source", db, table, db))
			continue
		}
		if prev, dup := out[table]; dup && prev != ds {
			errs = append(errs, fmt.Sprintf("single table %s is in data sources %s and %s", table, prev, ds))
			continue
		}
		out[table] = ds
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return nil, fmt.Errorf("peersuite: %s", strings.Join(errs, "; "))
	}
	return out, nil
}

// MentionsTable reports whether sql names the table (a whole word,
// case-insensitive).
func MentionsTable(sql, table string) bool {
	s := strings.ToLower(sql)
	t := strings.ToLower(table)
	for i := 0; ; {
		k := strings.Index(s[i:], t)
		if k < 0 {
			return false
		}
		k += i
		before := k == 0 || !isWordByte(s[k-1])
		after := k+len(t) >= len(s) || !isWordByte(s[k+len(t)])
		if before && after {
			return true
		}
		i = k + 1
	}
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}
