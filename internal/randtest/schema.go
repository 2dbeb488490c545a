// Package randtest is a random differential tester: it generates a sharded
// schema, random rows, random SELECTs and random writes, runs them through
// the proxy and on one plain MariaDB database, and reports every difference
// in rows, labels, types, affected-row counts and physical row placement.
// Failing queries are shrunk to a minimal form and kept as regression cases.
//
// The generator and the shrinker are pure (seeded math/rand); Runner does the
// database work. See docs/testing.md.
package randtest

import (
	"fmt"
	"strings"
)

// ColKind is the value domain of a column.
type ColKind int

// Column kinds.
const (
	KInt ColKind = iota
	KDec
	KDouble
	KStr
	KTime
)

// Column is one column of a generated table.
type Column struct {
	Name string
	Kind ColKind
	SQL  string // column type in CREATE TABLE
}

// Table is one logical table of the generated schema.
type Table struct {
	Name   string
	Key    string // sharding key column ("" for the global table)
	Rule   string // YAML of the placement rule
	Global bool
	// Parent is the table this one is linked to.
	Parent string
	Cols   []Column
}

// Col returns the column named n.
func (t *Table) Col(n string) Column {
	for _, c := range t.Cols {
		if c.Name == n {
			return c
		}
	}
	panic("randtest: no column " + n + " in " + t.Name)
}

// Schema is the generated schema: the same for every seed, so that
// regression cases stay valid.
type Schema struct {
	DB     string // logical database
	DSDBs  [2]string
	Tables []*Table
}

func commonCols(extra ...Column) []Column {
	cols := []Column{{"id", KInt, "BIGINT NOT NULL"}}
	cols = append(cols, extra...)
	return append(cols,
		Column{"k", KInt, "INT NULL"},
		Column{"i", KInt, "INT NULL"},
		Column{"d", KDec, "DECIMAL(8,2) NULL"},
		Column{"f", KDouble, "DOUBLE NULL"},
		Column{"s", KStr, "VARCHAR(16) NULL"},
	)
}

// NewSchema returns the schema in logical database db. Inline tables use
// the physical databases db+"_ds0" and db+"_ds1" on slices s0 and s1.
func NewSchema(db string) *Schema {
	dt := Column{"dt", KTime, "DATETIME NULL"}
	s := &Schema{DB: db, DSDBs: [2]string{db + "_ds0", db + "_ds1"}}
	s.Tables = []*Table{
		{Name: "t_a", Key: "id", Rule: "{name: t_a, type: sharded, key: id, algorithm: hash, slices: [s0, s1, s2], tables_per_slice: 2}",
			Cols: commonCols(dt)},
		{Name: "t_b", Key: "a_id", Parent: "t_a", Rule: "{name: t_b, type: linked, parent: t_a, key: a_id}",
			Cols: commonCols(Column{"a_id", KInt, "BIGINT NOT NULL"}, dt)},
		{Name: "t_c", Key: "dt", Rule: `{name: t_c, type: sharded, key: dt, algorithm: date_month, slices: [s0, s1, s2], ranges: ["202301-202304", "202305-202308", "202309-202312"], timezone: UTC}`,
			Cols: commonCols(Column{"dt", KTime, "DATETIME NOT NULL"})},
		{Name: "t_m", Key: "id", Rule: "{name: t_m, type: sharded, key: id, algorithm: mod, slices: [s0, s1, s2], tables_per_slice: [1, 2, 1]}",
			Cols: commonCols(dt)},
		{Name: "t_r", Key: "id", Rule: "{name: t_r, type: sharded, key: id, algorithm: range, slices: [s0, s1], tables_per_slice: [1, 2], ranges: [[min, 0], [0, 150], [150, max]]}",
			Cols: commonCols(dt)},
		{Name: "t_i", Key: "id", Rule: `{name: t_i, type: sharded, algorithm: inline, key: id, database_strategy: {expression: "ds_${Math.floorMod(id, 2)}"}, table_strategy: {expression: "t_i_${Math.floorMod(id, 4)}"}, data_nodes: "ds_${0..1}.t_i_${0..3}"}`,
			Cols: commonCols(dt)},
		{Name: "t_g", Global: true, Rule: "{name: t_g, type: global}",
			Cols: commonCols(dt)},
	}
	return s
}

// Table returns the table named n.
func (s *Schema) Table(n string) *Table {
	for _, t := range s.Tables {
		if t.Name == n {
			return t
		}
	}
	panic("randtest: no table " + n)
}

// NamespaceYAML is the namespace configuration (indented by 4 spaces, for
// a namespace's body) that places the schema's tables.
func (s *Schema) NamespaceYAML() string {
	var b strings.Builder
	fmt.Fprintf(&b, "    default_slice: s0\n    datasources:\n      ds_0: {slice: s0, database: %s}\n      ds_1: {slice: s1, database: %s}\n", s.DSDBs[0], s.DSDBs[1])
	fmt.Fprintf(&b, "    databases:\n      - name: %s\n        tables:\n", s.DB)
	for _, t := range s.Tables {
		fmt.Fprintf(&b, "          - %s\n", t.Rule)
	}
	return b.String()
}

// CreateSQL returns the CREATE TABLE statement of t.
func (t *Table) CreateSQL() string {
	var cols []string
	for _, c := range t.Cols {
		cols = append(cols, c.Name+" "+c.SQL)
	}
	pk := "id"
	if t.Name == "t_c" {
		pk = "id, dt"
	}
	return fmt.Sprintf("CREATE TABLE %s (%s, PRIMARY KEY (%s)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
		t.Name, strings.Join(cols, ", "), pk)
}
