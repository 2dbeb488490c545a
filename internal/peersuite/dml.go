package peersuite

import (
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// NotVerify marks a dataset cell that is not checked.
const NotVerify = "NOT_VERIFY"

// StatementKind is the first keyword of a statement, upper-cased
// (INSERT, UPDATE, DELETE, REPLACE, SELECT, ...), skipping comments.
func StatementKind(sql string) string {
	s := strings.TrimSpace(maskForScan(sql))
	end := 0
	for end < len(s) && isWordByte(s[end]) {
		end++
	}
	return strings.ToUpper(s[:end])
}

// CheckNode compares one physical table's rows (read with SELECT * ...
// ORDER BY its primary key) with the expected rows of that node, in order
// (README 8.2): the column count and labels (case-insensitive) against the
// metadata, the row count, and each value: NOT_VERIFY skipped, "null" means
// NULL (or the text null), numbers by value, DATETIME/TIMESTAMP values by
// their instant (the file writes 2017-08-08 00:00:00.0), anything else as
// text.
func CheckNode(node string, md *Metadata, expected []Row, actual *Result) error {
	if len(actual.Columns) != len(md.Columns) {
		return fmt.Errorf("%s: %d columns, want %d", node, len(actual.Columns), len(md.Columns))
	}
	for i, c := range md.Columns {
		if !strings.EqualFold(actual.Columns[i].Label, c.Name) {
			return fmt.Errorf("%s: column %d is %s, want %s", node, i+1, actual.Columns[i].Label, c.Name)
		}
	}
	if len(actual.Rows) != len(expected) {
		var got []string
		for i, r := range actual.Rows {
			if i == 3 {
				got = append(got, "...")
				break
			}
			got = append(got, rowString(r))
		}
		return fmt.Errorf("%s: %d rows, want %d (got %s)", node, len(actual.Rows), len(expected), strings.Join(got, " "))
	}
	for i, r := range expected {
		if len(r.Values) != len(md.Columns) {
			return fmt.Errorf("%s: expected row %d has %d values for %d columns", node, i+1, len(r.Values), len(md.Columns))
		}
		for j, want := range r.Values {
			got := actual.Rows[i][j]
			if !cellMatches(got, want, actual.Columns[j].Type) {
				return fmt.Errorf("%s: row %d column %s: got %s, want %s (row %s)", node, i+1, md.Columns[j].Name, got, want, rowString(actual.Rows[i]))
			}
		}
	}
	return nil
}

func cellMatches(got Cell, want, typ string) bool {
	if want == NotVerify {
		return true
	}
	if IsNull(want) {
		return got.Null || got.Text == "null"
	}
	if got.Null {
		return false
	}
	if got.Text == want {
		return true
	}
	switch kindOf(typ) {
	case exactKind, approxKind:
		x, ok1 := new(big.Rat).SetString(got.Text)
		y, ok2 := new(big.Rat).SetString(want)
		return ok1 && ok2 && x.Cmp(y) == 0
	}
	switch strings.ToUpper(typ) {
	case "DATETIME", "TIMESTAMP", "DATE":
		x, err1 := parseDateTime(got.Text)
		y, err2 := parseDateTime(want)
		return err1 == nil && err2 == nil && x.Equal(y)
	case "TIME":
		x, err1 := time.Parse("15:04:05", got.Text)
		y, err2 := time.Parse("15:04:05", want)
		return err1 == nil && err2 == nil && x.Equal(y)
	}
	return false
}

// RowsByNode groups a dataset's rows by data node (lower-cased), in file
// order.
func (d *Dataset) RowsByNode() map[string][]Row {
	out := map[string][]Row{}
	for _, r := range d.Rows {
		k := strings.ToLower(r.DataNode)
		out[k] = append(out[k], r)
	}
	return out
}

// Nodes expands every metadata's data nodes, in order, without
// duplicates, with the metadata of each.
func (d *Dataset) Nodes() ([]string, map[string]*Metadata, error) {
	var order []string
	md := map[string]*Metadata{}
	for i := range d.Metadata {
		nodes, err := ExpandDataNodes(d.Metadata[i].DataNodes)
		if err != nil {
			return nil, nil, err
		}
		for _, n := range nodes {
			k := strings.ToLower(n)
			if _, dup := md[k]; dup {
				continue
			}
			md[k] = &d.Metadata[i]
			order = append(order, n)
		}
	}
	return order, md, nil
}

// MergeBatch builds the expected final state of a batch run from the
// per-assertion files (README 8.2): INSERT takes the union of the rows,
// DELETE keeps the rows present in every file, UPDATE keeps a row's
// updated="true" version over its original; the rows are then stably
// sorted by their first value as an integer. The metadata is the first
// file's.
func MergeBatch(kind string, files []*Dataset) (*Dataset, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("peersuite: no dataset to merge")
	}
	out := &Dataset{UpdateCount: files[0].UpdateCount, Metadata: files[0].Metadata}
	key := func(r Row) string { return strings.ToLower(r.DataNode) + "\x00" + strings.Join(r.Values, "\x1f") }
	switch kind {
	case "INSERT", "REPLACE":
		seen := map[string]bool{}
		for _, f := range files {
			for _, r := range f.Rows {
				if k := key(r); !seen[k] {
					seen[k] = true
					out.Rows = append(out.Rows, r)
				}
			}
		}
	case "DELETE":
		for _, r := range files[0].Rows {
			in := true
			for _, f := range files[1:] {
				found := false
				for _, x := range f.Rows {
					if key(x) == key(r) {
						found = true
						break
					}
				}
				if !found {
					in = false
					break
				}
			}
			if in {
				out.Rows = append(out.Rows, r)
			}
		}
	case "UPDATE":
		id := func(r Row) string {
			first := ""
			if len(r.Values) > 0 {
				first = r.Values[0]
			}
			return strings.ToLower(r.DataNode) + "\x00" + first
		}
		out.Rows = append(out.Rows, files[0].Rows...)
		pos := map[string]int{}
		for i, r := range out.Rows {
			pos[id(r)] = i
		}
		for _, f := range files[1:] {
			for _, r := range f.Rows {
				if !r.Updated {
					continue
				}
				if i, ok := pos[id(r)]; ok {
					out.Rows[i] = r
				} else {
					pos[id(r)] = len(out.Rows)
					out.Rows = append(out.Rows, r)
				}
			}
		}
	default:
		return nil, fmt.Errorf("peersuite: cannot merge %s batches", kind)
	}
	sort.SliceStable(out.Rows, func(i, j int) bool {
		return firstInt(out.Rows[i]) < firstInt(out.Rows[j])
	})
	return out, nil
}

func firstInt(r Row) int64 {
	if len(r.Values) == 0 {
		return 0
	}
	n, _ := strconv.ParseInt(r.Values[0], 10, 64)
	return n
}

// ident is a possibly quoted identifier.
const ident = "(?:`[^`]+`|[A-Za-z0-9_$]+)"

var insertTargetRe = regexp.MustCompile(`(?is)^\s*(?:INSERT|REPLACE)\s+(?:(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY)\s+)?(?:IGNORE\s+)?(?:INTO\s+)?(?:` + ident + `\s*\.\s*)?(` + ident + `)`)

// InsertTarget returns the table an INSERT or REPLACE writes to, without
// its database and quotes ("" when sql is not one).
func InsertTarget(sql string) string {
	m := insertTargetRe.FindStringSubmatchIndex(maskForScan(sql))
	if m == nil {
		return ""
	}
	return strings.Trim(sql[m[2]:m[3]], "`")
}

// GeneratedKeys are the values of an expected generated-key file (README
// 8.2: one GENERATED_KEY column, one row per generated key), in order.
func (d *Dataset) GeneratedKeys() ([]string, error) {
	var out []string
	for i, r := range d.Rows {
		if len(r.Values) != 1 {
			return nil, fmt.Errorf("peersuite: generated-key row %d has %d values, want 1", i+1, len(r.Values))
		}
		out = append(out, r.Values[0])
	}
	return out, nil
}

// MapGeneratedKeys adapts an expected dataset to a proxy whose key
// generator differs from the suite's fixture (E2E.AUTO_INCREMENT.FIXTURE
// counts from 1 again for every statement; a real generator does not). The
// rows holding generated keys are those whose column has a value of want
// and that the seed did not insert (seeded reports a seed row's value on a
// node); the key want[i] becomes first+i, which is what a MySQL client takes
// the statement's generated keys to be (the OK packet's last-insert-id and
// the following IDs). Every value of want must be found in exactly one
// such row. With sortNodes (column is the table's primary key) each
// changed node's rows are then sorted by column, as they are read back.
func MapGeneratedKeys(expected *Dataset, column string, want []string, first int64, seeded func(node, value string) bool, sortNodes bool) (*Dataset, error) {
	out := &Dataset{UpdateCount: expected.UpdateCount, Metadata: expected.Metadata}
	out.Rows = make([]Row, len(expected.Rows))
	found := make([]int, len(want))
	changed := map[string]int{} // node -> column index
	for i, r := range expected.Rows {
		r.Values = append([]string(nil), r.Values...)
		out.Rows[i] = r
		md, err := expected.MetadataFor(r.DataNode)
		if err != nil {
			return nil, err
		}
		col := -1
		for j, c := range md.Columns {
			if strings.EqualFold(c.Name, column) {
				col = j
			}
		}
		if col < 0 || col >= len(r.Values) {
			continue
		}
		for k, w := range want {
			if r.Values[col] != w || seeded(r.DataNode, w) {
				continue
			}
			found[k]++
			r.Values[col] = strconv.FormatInt(first+int64(k), 10)
			changed[strings.ToLower(r.DataNode)] = col
			break
		}
	}
	for k, n := range found {
		if n != 1 {
			return nil, fmt.Errorf("peersuite: generated key %s of column %s is in %d rows of the expected dataset that the seed did not insert, want 1", want[k], column, n)
		}
	}
	if sortNodes {
		// Sort the rows of each changed node among themselves, keeping
		// the positions the node's rows have in the file.
		for node, col := range changed {
			var idx []int
			var rows []Row
			for i, r := range out.Rows {
				if strings.EqualFold(r.DataNode, node) {
					idx = append(idx, i)
					rows = append(rows, r)
				}
			}
			sort.SliceStable(rows, func(a, b int) bool {
				x, _ := new(big.Rat).SetString(rows[a].Values[col])
				y, _ := new(big.Rat).SetString(rows[b].Values[col])
				if x == nil || y == nil {
					return rows[a].Values[col] < rows[b].Values[col]
				}
				return x.Cmp(y) < 0
			})
			for j, i := range idx {
				out.Rows[i] = rows[j]
			}
		}
	}
	return out, nil
}
