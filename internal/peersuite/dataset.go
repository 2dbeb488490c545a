package peersuite

import (
	"encoding/xml"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/switchyard-db/switchyard/internal/shard/inline"
)

// Dataset is a dataset XML file (README 6.1).
type Dataset struct {
	// UpdateCount is the expected affected-row count (DML); -1 if absent.
	UpdateCount int
	Metadata    []Metadata
	Rows        []Row
}

// Metadata describes one table group of a dataset.
type Metadata struct {
	// DataNodes is the data-nodes expression ("db_${0..9}.t_order").
	DataNodes string
	// TableName is the logical table name (may be empty).
	TableName string
	Columns   []Column
	Indexes   []Index
}

// Column is a dataset column.
type Column struct {
	Name             string
	Type             string
	IgnoreAssertData bool
}

// Index is an expected index (DDL).
type Index struct {
	Name   string
	Unique bool
}

// Row is one row of one physical table.
type Row struct {
	// DataNode is "<database>.<table>" (empty in DAL and generated-key
	// files).
	DataNode string
	// Values are the cells; NULL is the text "null" (any case).
	Values  []string
	Updated bool
}

type xmlDataset struct {
	UpdateCount string        `xml:"update-count,attr"`
	Metadata    []xmlMetadata `xml:"metadata"`
	Rows        []xmlRow      `xml:"row"`
}

type xmlMetadata struct {
	DataNodes string `xml:"data-nodes,attr"`
	TableName string `xml:"table-name,attr"`
	Columns   []struct {
		Name   string `xml:"name,attr"`
		Type   string `xml:"type,attr"`
		Ignore string `xml:"ignore-assert-data,attr"`
	} `xml:"column"`
	Indexes []struct {
		Name   string `xml:"name,attr"`
		Unique string `xml:"unique,attr"`
	} `xml:"index"`
}

type xmlRow struct {
	DataNode string `xml:"data-node,attr"`
	Values   string `xml:"values,attr"`
	Updated  string `xml:"updated,attr"`
}

// ParseDataset parses a dataset file's contents.
func ParseDataset(data []byte) (*Dataset, error) {
	var x xmlDataset
	if err := xml.Unmarshal(data, &x); err != nil {
		return nil, fmt.Errorf("peersuite: dataset: %w", err)
	}
	ds := &Dataset{UpdateCount: -1}
	if x.UpdateCount != "" {
		n, err := strconv.Atoi(strings.TrimSpace(x.UpdateCount))
		if err != nil {
			return nil, fmt.Errorf("peersuite: dataset: update-count %q: %w", x.UpdateCount, err)
		}
		ds.UpdateCount = n
	}
	for _, m := range x.Metadata {
		md := Metadata{DataNodes: m.DataNodes, TableName: m.TableName}
		for _, c := range m.Columns {
			md.Columns = append(md.Columns, Column{Name: c.Name, Type: strings.ToLower(c.Type), IgnoreAssertData: strings.EqualFold(c.Ignore, "true")})
		}
		for _, i := range m.Indexes {
			md.Indexes = append(md.Indexes, Index{Name: i.Name, Unique: strings.EqualFold(i.Unique, "true")})
		}
		ds.Metadata = append(ds.Metadata, md)
	}
	for _, r := range x.Rows {
		ds.Rows = append(ds.Rows, Row{DataNode: r.DataNode, Values: SplitValues(r.Values), Updated: strings.EqualFold(r.Updated, "true")})
	}
	return ds, nil
}

// LoadDataset reads and parses a dataset file.
func LoadDataset(path string) (*Dataset, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("peersuite: %w", err)
	}
	ds, err := ParseDataset(data)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return ds, nil
}

// SplitValues splits a row's values on ", " and trims each piece;
// {E2E_DATA_DELIMITER} stands for a literal ", ".
func SplitValues(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ", ")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(strings.TrimSpace(p), "{E2E_DATA_DELIMITER}", ", ")
	}
	return parts
}

// IsNull reports whether a dataset value means SQL NULL.
func IsNull(v string) bool { return strings.EqualFold(v, "null") }

// ExpandDataNodes expands a data-nodes expression into "<db>.<table>"
// names: ${a..b} segments multiply out, comma-separated items concatenate.
func ExpandDataNodes(expr string) ([]string, error) {
	nodes, err := inline.ExpandList(expr)
	if err != nil {
		return nil, fmt.Errorf("peersuite: data nodes %q: %w", expr, err)
	}
	for _, n := range nodes {
		if strings.Count(n, ".") != 1 {
			return nil, fmt.Errorf("peersuite: data node %q is not <database>.<table>", n)
		}
	}
	return nodes, nil
}

// SplitNode splits "<db>.<table>".
func SplitNode(node string) (db, table string) {
	db, table, _ = strings.Cut(node, ".")
	return db, table
}

// MetadataFor returns the metadata whose data nodes include node.
func (d *Dataset) MetadataFor(node string) (*Metadata, error) {
	for i := range d.Metadata {
		nodes, err := ExpandDataNodes(d.Metadata[i].DataNodes)
		if err != nil {
			return nil, err
		}
		for _, n := range nodes {
			if strings.EqualFold(n, node) {
				return &d.Metadata[i], nil
			}
		}
	}
	return nil, fmt.Errorf("peersuite: no metadata lists data node %s", node)
}

// InsertStatements builds one multi-row INSERT per data node of the rows,
// in first-appearance order, with literal values converted by the column
// types (README 6.1 "Seed types"). rename maps a row's database to the one
// to write to (nil keeps it). The key of the result is the row's original
// data node.
func (d *Dataset) InsertStatements(rename func(db string) string) ([]NodeInsert, error) {
	var order []string
	byNode := map[string]*NodeInsert{}
	mdOf := map[string]*Metadata{}
	for i := range d.Metadata {
		nodes, err := ExpandDataNodes(d.Metadata[i].DataNodes)
		if err != nil {
			return nil, err
		}
		for _, n := range nodes {
			if _, dup := mdOf[strings.ToLower(n)]; !dup {
				mdOf[strings.ToLower(n)] = &d.Metadata[i]
			}
		}
	}
	for i, r := range d.Rows {
		if r.DataNode == "" {
			return nil, fmt.Errorf("peersuite: row %d has no data-node", i+1)
		}
		md := mdOf[strings.ToLower(r.DataNode)]
		if md == nil {
			return nil, fmt.Errorf("peersuite: no metadata lists data node %s (row %d)", r.DataNode, i+1)
		}
		if len(r.Values) != len(md.Columns) {
			return nil, fmt.Errorf("peersuite: row %d of %s has %d values for %d columns", i+1, r.DataNode, len(r.Values), len(md.Columns))
		}
		ni := byNode[r.DataNode]
		if ni == nil {
			db, table := SplitNode(r.DataNode)
			target := db
			if rename != nil {
				target = rename(db)
			}
			cols := make([]string, len(md.Columns))
			for j, c := range md.Columns {
				cols[j] = quoteIdent(c.Name)
			}
			ni = &NodeInsert{Node: r.DataNode, Database: target, Table: table}
			ni.SQL = fmt.Sprintf("INSERT INTO %s.%s (%s) VALUES ", quoteIdent(target), quoteIdent(table), strings.Join(cols, ", "))
			byNode[r.DataNode] = ni
			order = append(order, r.DataNode)
		}
		vals := make([]string, len(r.Values))
		for j, v := range r.Values {
			lit, err := SeedLiteral(v, md.Columns[j].Type)
			if err != nil {
				return nil, fmt.Errorf("peersuite: row %d of %s, column %s: %w", i+1, r.DataNode, md.Columns[j].Name, err)
			}
			vals[j] = lit
		}
		if ni.Rows > 0 {
			ni.SQL += ", "
		}
		ni.SQL += "(" + strings.Join(vals, ", ") + ")"
		ni.Rows++
	}
	out := make([]NodeInsert, 0, len(order))
	for _, n := range order {
		out = append(out, *byNode[n])
	}
	return out, nil
}

// NodeInsert is the INSERT of one physical table's rows.
type NodeInsert struct {
	Node            string // original data node
	Database, Table string // where to write
	SQL             string
	Rows            int
}

// SeedLiteral writes a dataset value as an SQL literal for a column type:
// numbers bare (checked), strings and dates quoted and escaped, null as
// NULL.
func SeedLiteral(v, typ string) (string, error) {
	if IsNull(v) {
		return "NULL", nil
	}
	switch typ {
	case "numeric", "decimal", "int", "integer", "bigint", "smallint", "tinyint":
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return "", fmt.Errorf("%q is not a number", v)
		}
		return v, nil
	}
	return quoteString(v), nil
}

func quoteString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\x00", `\0`, "\n", `\n`, "\r", `\r`)
	return "'" + r.Replace(s) + "'"
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// DatabasesFile parses a databases.xml: the database names in order.
func DatabasesFile(data []byte) ([]string, error) {
	var x struct {
		DBs []struct {
			Name string `xml:"name,attr"`
		} `xml:"database"`
	}
	if err := xml.Unmarshal(data, &x); err != nil {
		return nil, fmt.Errorf("peersuite: databases: %w", err)
	}
	var out []string
	for _, d := range x.DBs {
		out = append(out, d.Name)
	}
	return out, nil
}

// LoadDatabases reads a databases.xml file.
func LoadDatabases(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("peersuite: %w", err)
	}
	return DatabasesFile(data)
}
