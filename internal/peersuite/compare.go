package peersuite

import (
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
)

// Result is a query result read as text.
type Result struct {
	Columns []ResultColumn
	Rows    [][]Cell
}

// ResultColumn is a result column: its label (the wire name, the alias)
// and its database type name (INT, DECIMAL, VARCHAR, ...).
type ResultColumn struct {
	Label string
	Type  string
}

// Cell is one value: NULL or its text.
type Cell struct {
	Null bool
	Text string
}

func (c Cell) String() string {
	if c.Null {
		return "NULL"
	}
	return c.Text
}

// numericKind says how a column's values compare: exact decimals
// (integers and DECIMAL: by value, ignoring scale), approximate (FLOAT,
// DOUBLE: relative 1e-9), or text.
type numericKind int

const (
	textKind numericKind = iota
	exactKind
	approxKind
)

func kindOf(typ string) numericKind {
	t := strings.ToUpper(typ)
	t = strings.TrimPrefix(t, "UNSIGNED ")
	switch t {
	case "TINYINT", "SMALLINT", "MEDIUMINT", "INT", "INTEGER", "BIGINT", "DECIMAL", "NUMERIC", "YEAR", "BIT":
		return exactKind
	case "FLOAT", "DOUBLE", "REAL":
		return approxKind
	}
	return textKind
}

// cellsEqual compares two cells of a column: numbers by value, everything
// else as text; NULL equals only NULL.
func cellsEqual(a, b Cell, kind numericKind) bool {
	if a.Null || b.Null {
		return a.Null == b.Null
	}
	if a.Text == b.Text {
		return true
	}
	switch kind {
	case exactKind:
		x, ok1 := new(big.Rat).SetString(a.Text)
		y, ok2 := new(big.Rat).SetString(b.Text)
		return ok1 && ok2 && x.Cmp(y) == 0
	case approxKind:
		x, err1 := strconv.ParseFloat(a.Text, 64)
		y, err2 := strconv.ParseFloat(b.Text, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if x == y {
			return true
		}
		return math.Abs(x-y) <= 1e-9*math.Max(math.Abs(x), math.Abs(y))
	}
	return false
}

// Comparison is the outcome of comparing an actual result with the
// expected one.
type Comparison struct {
	Equal bool
	// Ordered: the statement has a top-level ORDER BY, so row order was
	// checked (up to ties of the ORDER BY keys when they are plain result
	// columns).
	Ordered bool
	// Diff explains the first difference.
	Diff string
}

// Compare checks actual against expected as the upstream DQL assertion
// does (README 8.1): the same column count and labels (case-sensitive),
// the same number of rows, and equal values, numbers compared by value.
// Rows are compared in order when the statement has a top-level ORDER BY
// (rows whose ORDER BY keys are equal may come in any order when the keys
// are result columns); otherwise as multisets, since upstream relies on an
// accidental merge order there.
func Compare(sql string, actual, expected *Result) Comparison {
	cmp := Comparison{}
	if len(actual.Columns) != len(expected.Columns) {
		cmp.Diff = fmt.Sprintf("column count: got %d %v, want %d %v", len(actual.Columns), labels(actual), len(expected.Columns), labels(expected))
		return cmp
	}
	kinds := make([]numericKind, len(actual.Columns))
	for i := range actual.Columns {
		if actual.Columns[i].Label != expected.Columns[i].Label {
			cmp.Diff = fmt.Sprintf("column %d label: got %q, want %q", i+1, actual.Columns[i].Label, expected.Columns[i].Label)
			return cmp
		}
		kinds[i] = kindOf(expected.Columns[i].Type)
		if k := kindOf(actual.Columns[i].Type); k > kinds[i] {
			kinds[i] = k
		}
	}
	if len(actual.Rows) != len(expected.Rows) {
		cmp.Diff = fmt.Sprintf("row count: got %d, want %d", len(actual.Rows), len(expected.Rows))
		return cmp
	}
	rowEq := func(a, b []Cell) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if !cellsEqual(a[i], b[i], kinds[i]) {
				return false
			}
		}
		return true
	}
	items, hasOrder := OrderBy(sql)
	cmp.Ordered = hasOrder
	if hasOrder {
		first := -1
		for i := range actual.Rows {
			if !rowEq(actual.Rows[i], expected.Rows[i]) {
				first = i
				break
			}
		}
		if first < 0 {
			cmp.Equal = true
			return cmp
		}
		// Ties: the same multiset, and the ORDER BY keys in the same order.
		keys, resolved := ResolveOrderKeys(items, actual.Columns)
		if resolved && multisetEqual(actual.Rows, expected.Rows, kinds) {
			tiesOnly := true
			for i := range actual.Rows {
				for _, k := range keys {
					if !cellsEqual(actual.Rows[i][k], expected.Rows[i][k], kinds[k]) {
						tiesOnly = false
					}
				}
			}
			if tiesOnly {
				cmp.Equal = true
				return cmp
			}
		}
		cmp.Diff = fmt.Sprintf("row %d (ordered): got %s, want %s", first+1, rowString(actual.Rows[first]), rowString(expected.Rows[first]))
		return cmp
	}
	if multisetEqual(actual.Rows, expected.Rows, kinds) {
		cmp.Equal = true
		return cmp
	}
	cmp.Diff = "rows differ (compared as a multiset): " + multisetDiff(actual.Rows, expected.Rows, kinds)
	return cmp
}

func labels(r *Result) []string {
	out := make([]string, len(r.Columns))
	for i, c := range r.Columns {
		out[i] = c.Label
	}
	return out
}

func rowString(r []Cell) string {
	parts := make([]string, len(r))
	for i, c := range r {
		parts[i] = c.String()
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// canonical is a row's comparison key: numbers normalised.
func canonical(r []Cell, kinds []numericKind) string {
	var b strings.Builder
	for i, c := range r {
		if i > 0 {
			b.WriteString("\x1f")
		}
		switch {
		case c.Null:
			b.WriteString("\x00NULL")
		case kinds[i] == exactKind:
			if x, ok := new(big.Rat).SetString(c.Text); ok {
				b.WriteString(x.RatString())
				continue
			}
			b.WriteString(c.Text)
		case kinds[i] == approxKind:
			if x, err := strconv.ParseFloat(c.Text, 64); err == nil {
				// 9 significant digits: within the 1e-9 relative tolerance
				// for all but values straddling a rounding boundary.
				b.WriteString(strconv.FormatFloat(x, 'g', 9, 64))
				continue
			}
			b.WriteString(c.Text)
		default:
			b.WriteString(c.Text)
		}
	}
	return b.String()
}

func multisetEqual(a, b [][]Cell, kinds []numericKind) bool {
	if len(a) != len(b) {
		return false
	}
	count := map[string]int{}
	for _, r := range a {
		count[canonical(r, kinds)]++
	}
	for _, r := range b {
		k := canonical(r, kinds)
		if count[k] == 0 {
			return false
		}
		count[k]--
	}
	return true
}

func multisetDiff(a, b [][]Cell, kinds []numericKind) string {
	count := map[string]int{}
	rowOf := map[string][]Cell{}
	for _, r := range a {
		k := canonical(r, kinds)
		count[k]++
		rowOf[k] = r
	}
	var missing []string
	for _, r := range b {
		k := canonical(r, kinds)
		if count[k] == 0 {
			missing = append(missing, rowString(r))
			continue
		}
		count[k]--
	}
	var extra []string
	for k, n := range count {
		for ; n > 0; n-- {
			extra = append(extra, rowString(rowOf[k]))
		}
	}
	sort.Strings(extra)
	const max = 3
	cut := func(l []string) string {
		if len(l) > max {
			return strings.Join(l[:max], " ") + fmt.Sprintf(" ... (%d)", len(l))
		}
		return strings.Join(l, " ")
	}
	return fmt.Sprintf("unexpected %s; missing %s", cut(extra), cut(missing))
}

// OrderBy returns the items of the statement's top-level ORDER BY (outside
// parentheses, string literals and comments), each without ASC/DESC, and
// whether there is one.
func OrderBy(sql string) ([]string, bool) {
	s := maskForScan(sql)
	up := strings.ToUpper(s)
	depth := 0
	start := -1
	for i := 0; i < len(up); i++ {
		switch up[i] {
		case '(':
			depth++
		case ')':
			depth--
		case 'O':
			if depth == 0 && wordAt(up, i, "ORDER") {
				j := skipSpace(up, i+5)
				if wordAt(up, j, "BY") {
					start = j + 2 // the last top-level ORDER BY wins
				}
			}
		}
	}
	if start < 0 {
		return nil, false
	}
	// The items end at a top-level LIMIT, FOR, LOCK, ")" or the end.
	end := len(up)
	depth = 0
	var items []string
	from := start
	for i := start; i < len(up); i++ {
		c := up[i]
		if c == '(' {
			depth++
			continue
		}
		if c == ')' {
			if depth == 0 {
				end = i
				break
			}
			depth--
			continue
		}
		if depth != 0 {
			continue
		}
		if c == ',' {
			items = append(items, sql[from:i])
			from = i + 1
			continue
		}
		if wordAt(up, i, "LIMIT") || wordAt(up, i, "FOR") || wordAt(up, i, "LOCK") || wordAt(up, i, "OFFSET") {
			end = i
			break
		}
	}
	items = append(items, sql[from:end])
	for i, it := range items {
		it = strings.TrimSpace(it)
		u := strings.ToUpper(it)
		for _, suf := range []string{" ASC", " DESC"} {
			if strings.HasSuffix(u, suf) {
				it = strings.TrimSpace(it[:len(it)-len(suf)])
				break
			}
		}
		items[i] = it
	}
	return items, true
}

func wordAt(s string, i int, w string) bool {
	if !strings.HasPrefix(s[i:], w) {
		return false
	}
	if i > 0 && isIdentByte(s[i-1]) {
		return false
	}
	j := i + len(w)
	return j >= len(s) || !isIdentByte(s[j])
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c == '.' || c == '`' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// maskForScan blanks string literals and comments (same length).
func maskForScan(sql string) string {
	b := []byte(sql)
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(b) && b[j] != c {
				if b[j] == '\\' && j+1 < len(b) {
					b[j] = ' '
					j++
				}
				b[j] = ' '
				j++
			}
			i = j
		case c == '/' && i+1 < len(b) && b[i+1] == '*':
			j := i
			for j < len(b) && !(b[j] == '*' && j+1 < len(b) && b[j+1] == '/') {
				b[j] = ' '
				j++
			}
			if j+1 < len(b) {
				b[j], b[j+1] = ' ', ' '
			}
			i = j + 1
		case (c == '-' && i+1 < len(b) && b[i+1] == '-') || c == '#':
			for i < len(b) && b[i] != '\n' {
				b[i] = ' '
				i++
			}
		}
	}
	return string(b)
}

// ResolveOrderKeys maps ORDER BY items to result columns: a position
// (ORDER BY 2), or a possibly qualified column name or alias matching a
// label (every column with that label). It fails when an item is an
// expression or matches no column.
func ResolveOrderKeys(items []string, cols []ResultColumn) ([]int, bool) {
	var keys []int
	for _, it := range items {
		if n, err := strconv.Atoi(it); err == nil {
			if n < 1 || n > len(cols) {
				return nil, false
			}
			keys = append(keys, n-1)
			continue
		}
		name := it
		if k := strings.LastIndexByte(name, '.'); k >= 0 {
			name = name[k+1:]
		}
		name = strings.Trim(name, "`")
		if name == "" || strings.ContainsAny(name, " ()+-*/,'\"") {
			return nil, false
		}
		found := false
		for i, c := range cols {
			if strings.EqualFold(c.Label, name) {
				keys = append(keys, i)
				found = true
			}
		}
		if !found {
			return nil, false
		}
	}
	return keys, true
}
