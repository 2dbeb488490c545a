package randtest

import (
	"fmt"
	"sort"
	"strings"
)

// Result is one statement's answer.
type Result struct {
	Cols     []string
	Types    []string
	Rows     [][]*string // nil: NULL
	Affected int64
	Err      error
}

// fold maps a string to its utf8mb4_general_ci weight for the strings the
// generator uses: case and accents ignored, and spaces (trailing spaces
// of a group's value may stand inside CONCAT(MIN(s), '-', ...)).
func fold(s string) string {
	s = strings.ReplaceAll(s, " ", "")
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch r {
		case 'á', 'à', 'â', 'ä':
			r = 'a'
		case 'é', 'è', 'ê', 'ë':
			r = 'e'
		case 'ñ':
			r = 'n'
		case 'ü', 'ú':
			r = 'u'
		}
		b.WriteRune(r)
	}
	return b.String()
}

var stringTypes = map[string]bool{"VARCHAR": true, "CHAR": true, "TEXT": true, "BLOB": true, "MEDIUMTEXT": true, "LONGTEXT": true, "VAR_STRING": true}

// rowStrings renders rows for comparison. Strings are folded when fold is
// set; GROUP_CONCAT cells are sorted element-wise (their order is not
// defined without an ORDER BY inside).
func (r *Result) rowStrings(folded bool) []string {
	out := make([]string, len(r.Rows))
	for i, row := range r.Rows {
		cells := make([]string, len(row))
		for j, v := range row {
			if v == nil {
				cells[j] = "NULL"
				continue
			}
			s := *v
			if j < len(r.Cols) && strings.HasPrefix(strings.ToLower(strings.TrimSpace(r.Cols[j])), "group_concat(") {
				parts := strings.Split(s, ",")
				if folded {
					for k := range parts {
						parts[k] = fold(parts[k])
					}
				}
				sort.Strings(parts)
				s = strings.Join(parts, ",")
			} else if folded && j < len(r.Types) && stringTypes[r.Types[j]] {
				s = fold(s)
			}
			cells[j] = fmt.Sprintf("%q", s)
		}
		out[i] = strings.Join(cells, " | ")
	}
	return out
}

// Diff compares a proxy answer with the reference answer of a query and
// returns "" when they agree.
func Diff(want, got *Result, total, folded bool) string {
	if strings.Join(got.Cols, "\x00") != strings.Join(want.Cols, "\x00") {
		return fmt.Sprintf("labels %q, want %q", got.Cols, want.Cols)
	}
	if strings.Join(got.Types, ",") != strings.Join(want.Types, ",") {
		return fmt.Sprintf("types %v, want %v", got.Types, want.Types)
	}
	w, g := want.rowStrings(folded), got.rowStrings(folded)
	if !total {
		sort.Strings(w)
		sort.Strings(g)
	}
	if len(w) != len(g) {
		return fmt.Sprintf("%d rows, want %d\n got: %s\nwant: %s", len(g), len(w), head(g), head(w))
	}
	for i := range w {
		if w[i] != g[i] {
			return fmt.Sprintf("row %d: %s, want %s\n got: %s\nwant: %s", i, g[i], w[i], head(g), head(w))
		}
	}
	return ""
}

func head(rows []string) string {
	if len(rows) > 8 {
		return strings.Join(rows[:8], " ; ") + fmt.Sprintf(" ... (%d rows)", len(rows))
	}
	return strings.Join(rows, " ; ")
}
