package randtest

import (
	"fmt"
	"strings"
)

// Select is a generated query, kept in parts so that it can be shrunk.
type Select struct {
	Distinct bool
	Items    []string
	From     string
	Where    []string // ANDed
	GroupBy  []string
	Having   []string // ANDed
	OrderBy  []string
	Limit    string
	// Total is set when ORDER BY orders the result rows totally: rows
	// are then compared in order, otherwise as multisets.
	Total bool
	// Agg is set when the query aggregates (values of string columns
	// are then compared case- and accent-insensitively: MariaDB may
	// return any member of a group).
	Agg bool
}

// SQL renders the query.
func (s Select) SQL() string {
	var b strings.Builder
	b.WriteString("SELECT ")
	if s.Distinct {
		b.WriteString("DISTINCT ")
	}
	b.WriteString(strings.Join(s.Items, ", "))
	b.WriteString(" FROM ")
	b.WriteString(s.From)
	if len(s.Where) > 0 {
		b.WriteString(" WHERE " + strings.Join(s.Where, " AND "))
	}
	if len(s.GroupBy) > 0 {
		b.WriteString(" GROUP BY " + strings.Join(s.GroupBy, ", "))
	}
	if len(s.Having) > 0 {
		b.WriteString(" HAVING " + strings.Join(s.Having, " AND "))
	}
	if len(s.OrderBy) > 0 {
		b.WriteString(" ORDER BY " + strings.Join(s.OrderBy, ", "))
	}
	if s.Limit != "" {
		b.WriteString(" LIMIT " + s.Limit)
	}
	return b.String()
}

// Folded reports whether string values are compared folded.
func (s Select) Folded() bool { return s.Distinct || s.Agg || len(s.GroupBy) > 0 }

type aliased struct {
	alias string
	t     *Table
}

// ref is the column reference (qualified unless the alias is empty).
func (a aliased) ref(col string) string {
	if a.alias == "" {
		return col
	}
	return a.alias + "." + col
}

// source is a FROM clause and its tables.
type source struct {
	from   string
	tabs   []aliased
	unique []string // columns that identify a row of the FROM clause
	// left is the alias on the nullable side of a LEFT JOIN.
	left string
}

func (g *Gen) source() source {
	var sharded []*Table
	for _, t := range g.S.Tables {
		if !t.Global {
			sharded = append(sharded, t)
		}
	}
	a, b, gl := g.S.Table("t_a"), g.S.Table("t_b"), g.S.Table("t_g")
	switch x := g.n(10); {
	case x < 6:
		t := pick(g, g.S.Tables...)
		return source{from: t.Name + " a", tabs: []aliased{{"a", t}}, unique: []string{"a.id"}}
	case x < 8:
		join := pick(g, "JOIN", "JOIN", "LEFT JOIN")
		on := "b.a_id = a.id"
		if g.chance(0.3) {
			on = "a.id = b.a_id"
		}
		s := source{from: fmt.Sprintf("t_a a %s t_b b ON %s", join, on), tabs: []aliased{{"a", a}, {"b", b}}, unique: []string{"a.id", "b.id"}}
		if join == "LEFT JOIN" {
			s.left = "b"
		}
		return s
	default:
		t := pick(g, sharded...)
		return source{from: t.Name + " a JOIN t_g g ON g.k = a.k", tabs: []aliased{{"a", t}, {"g", gl}}, unique: []string{"a.id", "g.id"}}
	}
}

// col picks a column reference of the source, of one of kinds (any when
// none given).
func (g *Gen) col(src source, kinds ...ColKind) (string, aliased, Column) {
	for {
		at := pick(g, src.tabs...)
		c := pick(g, at.t.Cols...)
		if len(kinds) == 0 {
			return at.ref(c.Name), at, c
		}
		for _, k := range kinds {
			if c.Kind == k {
				return at.ref(c.Name), at, c
			}
		}
	}
}

var cmpOps = []string{"=", "<>", "<", "<=", ">", ">=", "<=>", "!="}

// cond is a row condition over the source.
func (g *Gen) cond(src source, depth int) string {
	ref, at, c := g.col(src)
	if g.chance(0.3) && at.t.Key != "" {
		// Conditions on the key route the query.
		ref, c = at.ref(at.t.Key), at.t.Col(at.t.Key)
	}
	switch x := g.n(20); {
	case x < 8:
		return fmt.Sprintf("%s %s %s", ref, pick(g, cmpOps...), g.lit(at.t, c))
	case x < 10:
		return ref + pick(g, " IS NULL", " IS NOT NULL")
	case x < 12:
		l1, l2 := g.lit(at.t, c), g.lit(at.t, c)
		return fmt.Sprintf("%s %sBETWEEN %s AND %s", ref, pick(g, "", "", "NOT "), l1, l2)
	case x < 15:
		var ls []string
		for i := 0; i < 1+g.n(4); i++ {
			ls = append(ls, g.lit(at.t, c))
		}
		return fmt.Sprintf("%s %sIN (%s)", ref, pick(g, "", "", "NOT "), strings.Join(ls, ", "))
	case x < 16 && c.Kind == KStr:
		return fmt.Sprintf("%s LIKE '%s%%'", ref, pick(g, "a", "A", "b", "m", "é"))
	case x < 18 && depth < 2:
		return fmt.Sprintf("(%s OR %s)", g.cond(src, depth+1), g.cond(src, depth+1))
	case x < 19 && depth < 2:
		return "NOT (" + g.cond(src, depth+1) + ")"
	default:
		return fmt.Sprintf("%s %s %s", ref, pick(g, cmpOps...), g.lit(at.t, c))
	}
}

// subCond is a condition with a subquery, for sources over t_a.
func (g *Gen) subCond(src source) (string, bool) {
	if src.tabs[0].t.Name != "t_a" || len(src.tabs) != 1 {
		if len(src.tabs) == 1 && g.chance(0.5) {
			gsrc := source{tabs: []aliased{{"g", g.S.Table("t_g")}}}
			return fmt.Sprintf("a.k %sIN (SELECT g.k FROM t_g g WHERE %s)", pick(g, "", "NOT "), g.cond(gsrc, 1)), true
		}
		return "", false
	}
	bsrc := source{tabs: []aliased{{"b", g.S.Table("t_b")}}}
	switch g.n(3) {
	case 0:
		return fmt.Sprintf("a.id IN (SELECT b.a_id FROM t_b b WHERE %s)", g.cond(bsrc, 1)), true
	case 1:
		return fmt.Sprintf("%sEXISTS (SELECT 1 FROM t_b b WHERE b.a_id = a.id AND %s)", pick(g, "", "NOT "), g.cond(bsrc, 1)), true
	default:
		return fmt.Sprintf("a.id IN (SELECT b.a_id FROM t_b b WHERE b.a_id = a.id AND %s)", g.cond(bsrc, 1)), true
	}
}

// scalar is an expression over one column.
func (g *Gen) scalar(src source) string {
	ref, _, c := g.col(src)
	switch c.Kind {
	case KInt:
		return pick(g, ref+" + 1", ref+" * 2", ref+" - 3", ref+" DIV 3", ref+" % 7", "ABS("+ref+")", "IFNULL("+ref+", 0)", "-"+ref, ref+" / 4")
	case KDec:
		return pick(g, ref+" * 2", "ROUND("+ref+", 1)", ref+" + 0.5", "FLOOR("+ref+")", ref+" / 3")
	case KDouble:
		return pick(g, ref+" * 2", ref+" + 1")
	case KStr:
		return pick(g, "UPPER("+ref+")", "CONCAT("+ref+", '|')", "LENGTH("+ref+")", "COALESCE("+ref+", 'none')", "TRIM("+ref+")")
	default:
		return pick(g, "YEAR("+ref+")", "DATE("+ref+")", "MONTH("+ref+")")
	}
}

var constants = []string{"'user is user'", "1", "-2.5", "NULL", "'x' AS c", "1e1", "TRUE", "'it''s'", "''"}

// agg is an aggregate over the source.
func (g *Gen) agg(src source) string {
	ref, _, c := g.col(src)
	num := c.Kind == KInt || c.Kind == KDec || c.Kind == KDouble
	switch x := g.n(12); {
	case x < 2:
		return "COUNT(*)"
	case x < 3:
		return "COUNT(" + ref + ")"
	case x < 4:
		return "COUNT(DISTINCT " + ref + ")"
	case x < 6 && num:
		return pick(g, "SUM(", "SUM(", "SUM(DISTINCT ") + ref + ")"
	case x < 8 && num:
		return pick(g, "AVG(", "AVG(", "AVG(DISTINCT ") + ref + ")"
	case x < 9:
		return "MIN(" + ref + ")"
	case x < 10:
		return "MAX(" + ref + ")"
	case x < 11 && c.Kind != KDouble:
		return pick(g, "GROUP_CONCAT(", "GROUP_CONCAT(DISTINCT ") + ref + ")"
	default:
		return "COUNT(" + ref + ")"
	}
}

// aggNoGC is an aggregate other than GROUP_CONCAT (whose element order,
// and so its value, is not defined).
func (g *Gen) aggNoGC(src source) string {
	for {
		if a := g.agg(src); !strings.HasPrefix(a, "GROUP_CONCAT") {
			return a
		}
	}
}

// aggItem is an aggregate or, with AggExprs, an expression over aggregates.
func (g *Gen) aggItem(src source) string {
	a := g.agg(src)
	if !g.F.AggExprs || g.chance(0.6) || strings.HasPrefix(a, "GROUP_CONCAT") {
		return a
	}
	b := g.agg(src)
	if strings.HasPrefix(b, "GROUP_CONCAT") {
		b = "COUNT(*)"
	}
	switch g.n(11) {
	case 0:
		return a + " + 1"
	case 1:
		return a + " * 2"
	case 2:
		return a + " / 2"
	case 3:
		return a + " - " + b
	case 4:
		return "IFNULL(" + a + ", 0)"
	case 5:
		return "ROUND(" + a + ", " + pick(g, "0", "1", "2") + ")"
	case 6:
		return "NULLIF(" + a + ", 0)"
	case 7:
		return "CONCAT(" + a + ", '-', " + b + ")"
	case 8:
		return "CASE WHEN " + a + " > " + pick(g, "0", "3", "10") + " THEN 'big' ELSE 'small' END"
	case 9:
		return "COALESCE(" + a + ", -1)"
	default:
		return "ABS(" + a + ")"
	}
}

// Query generates a SELECT.
func (g *Gen) Query() Select {
	src := g.source()
	s := Select{From: src.from}
	for i := g.n(3); i > 0; i-- {
		s.Where = append(s.Where, g.cond(src, 0))
	}
	if g.chance(0.15) {
		if c, ok := g.subCond(src); ok {
			s.Where = append(s.Where, c)
		}
	}
	switch x := g.n(10); {
	case x < 3: // rows
		for i := 1 + g.n(4); i > 0; i-- {
			switch y := g.n(10); {
			case y < 6:
				c, _, _ := g.col(src)
				s.Items = append(s.Items, c)
			case y < 9:
				s.Items = append(s.Items, g.scalar(src))
			default:
				s.Items = append(s.Items, pick(g, constants...))
			}
		}
		if len(src.tabs) == 1 && g.chance(0.05) {
			s.Items = []string{"*"}
		}
		if g.chance(0.6) {
			for i := g.n(3); i > 0; i-- {
				c, _, _ := g.col(src)
				s.OrderBy = append(s.OrderBy, c+pick(g, "", " DESC"))
			}
			for _, u := range src.unique {
				s.OrderBy = append(s.OrderBy, u+pick(g, "", " DESC"))
			}
			s.Total = true
			if g.chance(0.6) {
				s.Limit = g.limit()
			}
		}
	case x < 5: // aggregates, no groups
		s.Agg = true
		for i := 1 + g.n(4); i > 0; i-- {
			s.Items = append(s.Items, g.aggItem(src))
		}
	case x < 9: // groups
		s.Agg = true
		for i := 1 + g.n(2); i > 0; i-- {
			var k string
			if g.chance(0.8) {
				k, _, _ = g.col(src, KInt, KStr, KDec, KTime)
				if strings.HasSuffix(k, ".id") || strings.HasSuffix(k, ".i") || strings.HasSuffix(k, ".f") {
					k, _, _ = g.col(src, KStr, KDec)
				}
			} else {
				k = g.scalar(src)
			}
			s.GroupBy = append(s.GroupBy, k)
			if g.chance(0.75) {
				s.Items = append(s.Items, k)
			}
		}
		var aggs []string
		for i := 1 + g.n(3); i > 0; i-- {
			aggs = append(aggs, g.aggItem(src))
		}
		s.Items = append(s.Items, aggs...)
		aliasKey := len(src.tabs) == 1 && g.chance(0.08)
		if aliasKey {
			// A select alias that is also a column name: MariaDB's GROUP
			// BY takes the column (an ORDER BY k would take the alias).
			s.Items = append([]string{pick(g, "12 AS k", "COUNT(*) AS k", "MAX(a.i) AS k")}, aggs...)
			s.GroupBy = []string{"k"}
		}
		if g.chance(0.3) {
			s.Having = append(s.Having, g.having(src, s))
		}
		if !aliasKey && g.chance(0.6) {
			if g.chance(0.3) {
				s.OrderBy = append(s.OrderBy, g.aggNoGC(src)+pick(g, "", " DESC"))
			}
			for _, k := range s.GroupBy {
				s.OrderBy = append(s.OrderBy, k+pick(g, "", " DESC"))
			}
			s.Total = true
			if g.chance(0.5) {
				s.Limit = g.limit()
			}
		}
	default: // DISTINCT
		s.Distinct = true
		for i := 1 + g.n(3); i > 0; i-- {
			c, _, _ := g.col(src, KInt, KStr, KDec, KTime)
			s.Items = append(s.Items, c)
		}
		if g.chance(0.5) {
			for _, it := range s.Items {
				s.OrderBy = append(s.OrderBy, it+pick(g, "", " DESC"))
			}
			s.Total = true
			if g.chance(0.5) {
				s.Limit = g.limit()
			}
		}
	}
	return s
}

func (g *Gen) limit() string {
	if g.chance(0.3) {
		return fmt.Sprintf("%d, %d", g.n(10), 1+g.n(10))
	}
	return fmt.Sprint(g.n(15))
}

// having is a HAVING condition on aggregates and group keys.
func (g *Gen) having(src source, s Select) string {
	switch g.n(5) {
	case 0:
		k := pick(g, s.GroupBy...)
		return fmt.Sprintf("%s IS NOT NULL", k)
	case 1:
		ref, at, c := g.col(src)
		for _, k := range s.GroupBy {
			if k == ref {
				return fmt.Sprintf("%s %s %s", ref, pick(g, cmpOps...), g.lit(at.t, c))
			}
		}
		return fmt.Sprintf("COUNT(*) > %d", g.n(4))
	case 2:
		return fmt.Sprintf("(%s > %d OR %s < %d)", g.aggNoGC(src), g.n(5), g.aggNoGC(src), g.n(50)-10)
	default:
		return fmt.Sprintf("%s %s %d", g.aggNoGC(src), pick(g, cmpOps...), g.n(20)-3)
	}
}

// Write is a generated INSERT, UPDATE or DELETE on one table.
type Write struct {
	SQL   string
	Table string
}

// Write generates a write statement.
func (g *Gen) Write() Write {
	t := pick(g, g.S.Tables...)
	switch g.n(10) {
	case 0, 1, 2, 3:
		var rows []Row
		for i := 1 + g.n(3); i > 0; i-- {
			r := g.NewRow(t)
			if k := t.Key; (k == "id" || k == "a_id") && g.F.OddKeyLiterals {
				var v int64
				fmt.Sscan(r[k], &v)
				r[k] = g.intLitHex(v, true, g.F.HexInserts)
			}
			if t.Key != "i" && r["i"] != "NULL" && g.chance(0.3) {
				var v int64
				fmt.Sscan(r["i"], &v)
				r["i"] = g.intLitHex(v, true, g.F.HexInserts)
			}
			rows = append(rows, r)
		}
		return Write{SQL: InsertSQL(t, rows), Table: t.Name}
	case 4, 5, 6, 7:
		src := source{tabs: []aliased{{"", t}}}
		var sets []string
		for i := 1 + g.n(2); i > 0; i-- {
			c := pick(g, t.Cols...)
			if c.Name == "id" || c.Name == t.Key || c.Name == "a_id" {
				continue
			}
			v := g.value(c, true)
			if c.Kind == KInt && g.chance(0.3) {
				v = c.Name + " + 1"
			}
			sets = append(sets, c.Name+" = "+v)
		}
		if len(sets) == 0 {
			sets = []string{"k = k + 1"}
		}
		return Write{SQL: fmt.Sprintf("UPDATE %s SET %s WHERE %s", t.Name, strings.Join(sets, ", "), g.cond(src, 0)), Table: t.Name}
	default:
		src := source{tabs: []aliased{{"", t}}}
		w := g.cond(src, 1)
		if g.chance(0.6) {
			key := t.Key
			if key == "" {
				key = "id"
			}
			w = fmt.Sprintf("%s = %s", key, g.lit(t, t.Col(key)))
		}
		return Write{SQL: fmt.Sprintf("DELETE FROM %s WHERE %s", t.Name, w), Table: t.Name}
	}
}
