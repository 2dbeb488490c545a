package randtest

import (
	"fmt"
	"math/rand"
	"sort"
	"strconv"
	"strings"
)

// Features switch generator constructs on and off, so that constructs
// whose known defects are being fixed elsewhere do not keep CI red.
type Features struct {
	// OddKeyLiterals writes key literals as quoted numbers with spaces or
	// signs, hex, booleans, exponents and decimals (issue 10 item 1).
	OddKeyLiterals bool
	// IntDateKeys compares the DATETIME key with integers (item 2).
	IntDateKeys bool
	// AggExprs generates scalar expressions over aggregates (items 3, 11).
	AggExprs bool
	// Writes generates INSERT/UPDATE/DELETE statements.
	Writes bool
	// HexLiterals writes integers as hex literals (0x26) in queries,
	// UPDATEs and DELETEs.
	HexLiterals bool
	// HexInserts writes hex literals in INSERTs too (a multi-row INSERT
	// split over physical tables with a hex literal fails with 1105).
	HexInserts bool
}

// AllFeatures turns everything on.
var AllFeatures = Features{OddKeyLiterals: true, IntDateKeys: true, AggExprs: true, Writes: true, HexLiterals: true, HexInserts: true}

// Gen generates rows and statements from one seed.
type Gen struct {
	r      *rand.Rand
	S      *Schema
	F      Features
	usedID map[string]map[int64]bool
	// ids of t_a, for linked rows and key conditions that hit rows.
	aIDs []int64
}

// NewGen returns a generator for seed.
func NewGen(s *Schema, seed int64, f Features) *Gen {
	g := &Gen{r: rand.New(rand.NewSource(seed)), S: s, F: f, usedID: map[string]map[int64]bool{}}
	for _, t := range s.Tables {
		g.usedID[t.Name] = map[int64]bool{}
	}
	return g
}

func (g *Gen) n(k int) int           { return g.r.Intn(k) }
func (g *Gen) chance(p float64) bool { return g.r.Float64() < p }
func pick[T any](g *Gen, xs ...T) T  { return xs[g.r.Intn(len(xs))] }

// strPool holds strings that are equal or close under utf8mb4_general_ci
// (case, accents, trailing spaces).
var strPool = []string{"a", "A", "a ", "á", "b", "B", "b  ", "abc", "Abc", "ABC ", "é", "e", "E", "è", "x", "", "zz", "ñ", "n", "ü", "U", "mix Case", "MIX case"}

func (g *Gen) freshID(t string) int64 {
	for {
		id := int64(g.n(460) - 60)
		if !g.usedID[t][id] {
			g.usedID[t][id] = true
			if t == "t_a" {
				g.aIDs = append(g.aIDs, id)
			}
			return id
		}
	}
}

func (g *Gen) dateLit(inRange bool) string {
	y := 2023
	if !inRange && g.chance(0.2) {
		y = 2022 + g.n(3)*1
		if y == 2023 {
			y = 2024
		}
	}
	return fmt.Sprintf("'%04d-%02d-%02d %02d:%02d:%02d'", y, 1+g.n(12), 1+g.n(28), g.n(24), g.n(60), pick(g, 0, 0, 30, 59))
}

// value returns a literal of kind k (NULL when null).
func (g *Gen) value(c Column, null bool) string {
	if null && g.chance(0.1) {
		return "NULL"
	}
	switch c.Kind {
	case KInt:
		if c.Name == "k" {
			return strconv.Itoa(g.n(9) - 2)
		}
		return strconv.Itoa(g.n(1001) - 500)
	case KDec:
		return fmt.Sprintf("%d.%02d", g.n(1999)-999, g.n(100))
	case KDouble:
		return strconv.FormatFloat(float64(g.n(401)-200)/4, 'f', -1, 64)
	case KStr:
		return sqlString(pick(g, strPool...))
	case KTime:
		return g.dateLit(true)
	}
	panic("kind")
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Row is one generated row: column name to SQL literal.
type Row map[string]string

// NewRow generates a row of t with a fresh id (and, for t_b, a parent id).
func (g *Gen) NewRow(t *Table) Row {
	r := Row{}
	for _, c := range t.Cols {
		switch {
		case c.Name == "id":
			r["id"] = strconv.FormatInt(g.freshID(t.Name), 10)
		case c.Name == "a_id":
			if len(g.aIDs) > 0 && g.chance(0.85) {
				r["a_id"] = strconv.FormatInt(pick(g, g.aIDs...), 10)
			} else {
				r["a_id"] = strconv.Itoa(g.n(460) - 60)
			}
		case t.Name == "t_c" && c.Name == "dt":
			r["dt"] = g.dateLit(true)
		default:
			r[c.Name] = g.value(c, true)
		}
	}
	return r
}

// InsertSQL renders rows of t as one INSERT.
func InsertSQL(t *Table, rows []Row) string {
	var cols []string
	for _, c := range t.Cols {
		cols = append(cols, c.Name)
	}
	var vals []string
	for _, r := range rows {
		var v []string
		for _, c := range cols {
			v = append(v, r[c])
		}
		vals = append(vals, "("+strings.Join(v, ", ")+")")
	}
	return fmt.Sprintf("INSERT INTO %s (%s) VALUES %s", t.Name, strings.Join(cols, ", "), strings.Join(vals, ", "))
}

// Load returns the INSERT statements that fill every table: n rows per
// sharded table, in batches.
func (g *Gen) Load(n int) []string {
	var out []string
	for _, t := range g.S.Tables {
		m := n
		if t.Global {
			m = 12
		}
		if t.Name == "t_b" {
			m = 2 * n
		}
		var batch []Row
		for i := 0; i < m; i++ {
			batch = append(batch, g.NewRow(t))
			if len(batch) == 25 || i == m-1 {
				out = append(out, InsertSQL(t, batch))
				batch = nil
			}
		}
	}
	return out
}

// ---- literals ----

// intLit writes the integer v as some literal MariaDB reads as v.
func (g *Gen) intLit(v int64, odd bool) string {
	return g.intLitHex(v, odd, g.F.HexLiterals)
}

func (g *Gen) intLitHex(v int64, odd, hex bool) string {
	s := strconv.FormatInt(v, 10)
	if !odd || g.chance(0.5) {
		return s
	}
	switch g.n(9) {
	case 0:
		return "'" + s + "'"
	case 1:
		return "' " + s + "'"
	case 2:
		return "'" + s + " '"
	case 3:
		if v >= 0 && hex {
			return fmt.Sprintf("0x%02x", v)
		}
		return s
	case 4:
		if v == 1 {
			return "TRUE"
		}
		if v == 0 {
			return "FALSE"
		}
		return s
	case 5:
		return s + "e0"
	case 6:
		return s + ".0"
	case 7:
		if v >= 0 {
			return "'+" + s + "'"
		}
		return "'" + s + "'"
	default:
		return "'" + s + "e0'"
	}
}

// lit returns a literal comparable with column c of table t.
func (g *Gen) lit(t *Table, c Column) string {
	isKey := t != nil && c.Name == t.Key
	switch c.Kind {
	case KInt:
		var v int64
		switch {
		case c.Name == "k":
			v = int64(g.n(9) - 2)
		case (c.Name == "id" || c.Name == "a_id") && len(g.usedID[t.Name]) > 0 && g.chance(0.8):
			v = g.someID(t)
		case c.Name == "id" || c.Name == "a_id":
			v = int64(g.n(460) - 60)
		default:
			v = int64(g.n(1001) - 500)
		}
		return g.intLit(v, !isKey || g.F.OddKeyLiterals)
	case KDec:
		s := fmt.Sprintf("%d.%02d", g.n(1999)-999, g.n(100))
		switch g.n(6) {
		case 0:
			return "'" + s + "'"
		case 1:
			return s + "e0"
		}
		return s
	case KDouble:
		return strconv.FormatFloat(float64(g.n(401)-200)/4, 'f', -1, 64)
	case KStr:
		return sqlString(pick(g, strPool...))
	case KTime:
		if isKey && g.F.IntDateKeys && g.chance(0.2) {
			return fmt.Sprintf("2023%02d%02d", 1+g.n(12), 1+g.n(28))
		}
		if !isKey && g.chance(0.15) {
			return fmt.Sprintf("2023%02d%02d", 1+g.n(12), 1+g.n(28))
		}
		if g.chance(0.3) {
			return fmt.Sprintf("'2023-%02d-%02d'", 1+g.n(12), 1+g.n(28))
		}
		return g.dateLit(true)
	}
	panic("kind")
}

func (g *Gen) someID(t *Table) int64 {
	m := g.usedID[t.Name]
	if t.Name == "t_b" {
		m = g.usedID["t_a"]
	}
	ids := make([]int64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return 0
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return pick(g, ids...)
}
