package randtest

import "strings"

// Parameterise turns the integer and plain string literals of a statement
// into ? markers and returns them as parameters, in order (strings
// without their quotes). Literals inside backquotes, double quotes and
// comments, strings with escapes, LIMIT counts, ORDER/GROUP BY positions,
// and the literals of the outer select list stay in the text.
//
// The outer select list keeps its literals because MariaDB types a
// parameter there by its own rules (a string parameter inside IFNULL or
// CASE makes the column CHAR, a literal VARCHAR), which the proxy does
// not reproduce for a statement it prepares itself and runs over several
// shards (docs/sql-support.md, prepared statements).
func Parameterise(q string) (string, []any) {
	var b strings.Builder
	var args []any
	last := 0
	// The outer select list ends at the first FROM outside parentheses.
	from := outerFrom(q)
	isIdent := identByte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '`' || c == '"':
			j := strings.IndexByte(q[i+1:], c)
			if j < 0 {
				i = len(q)
				continue
			}
			i += j + 1
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			j := strings.Index(q[i+2:], "*/")
			if j < 0 {
				i = len(q)
				continue
			}
			i += j + 3
		case c == '-' && i+2 < len(q) && q[i+1] == '-' && q[i+2] == ' ':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				i = len(q)
				continue
			}
			i += j
		case c == '\'':
			j, escaped := i+1, false
			for j < len(q) {
				if q[j] == '\\' {
					j, escaped = j+2, true
					continue
				}
				if q[j] == '\'' {
					if j+1 < len(q) && q[j+1] == '\'' {
						j, escaped = j+2, true
						continue
					}
					break
				}
				j++
			}
			if j >= len(q) {
				i = len(q)
				continue
			}
			end := j + 1
			if !escaped && i > from && (i == 0 || !isIdent(q[i-1])) {
				b.WriteString(q[last:i])
				b.WriteByte('?')
				args = append(args, q[i+1:j])
				last = end
			}
			i = end - 1
		case c >= '0' && c <= '9' && (i == 0 || !isIdent(q[i-1])):
			j := i
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			if (j == len(q) || !isIdent(q[j])) && i > from && !limitContext(q[:i]) {
				b.WriteString(q[last:i])
				b.WriteByte('?')
				args = append(args, q[i:j])
				last = j
			}
			i = j - 1
		}
	}
	b.WriteString(q[last:])
	return b.String(), args
}

// limitContext reports whether a number at the end of prefix is a LIMIT
// or OFFSET count or an ORDER BY / GROUP BY position (in a list such as
// "ORDER BY 1 DESC, 2"): MariaDB takes no string parameter for a count,
// and a parameter there is a constant, not a position.
func limitContext(prefix string) bool {
	p := strings.ToUpper(prefix)
	for {
		p = strings.TrimRight(p, " \t\n")
		for _, kw := range []string{"LIMIT", "OFFSET", "BY"} {
			if strings.HasSuffix(p, kw) && (len(p) == len(kw) || !identByte(p[len(p)-len(kw)-1])) {
				return true
			}
		}
		if !strings.HasSuffix(p, ",") {
			return false
		}
		// A list: the item before the comma must be a number (with ASC or
		// DESC) of the same list.
		p = strings.TrimRight(p[:len(p)-1], " \t\n")
		p = strings.TrimSuffix(strings.TrimSuffix(p, "DESC"), "ASC")
		p = strings.TrimRight(p, " \t\n")
		j := len(p)
		for j > 0 && p[j-1] >= '0' && p[j-1] <= '9' {
			j--
		}
		if j == len(p) || j > 0 && identByte(p[j-1]) {
			return false
		}
		p = p[:j]
	}
}

func identByte(c byte) bool {
	return c == '_' || c == '.' || c == '@' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// outerFrom returns the offset of the first FROM outside parentheses,
// quotes and comments (len(q) when there is none).
func outerFrom(q string) int {
	depth := 0
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c == '\'' || c == '"' || c == '`':
			for j := i + 1; j < len(q); j++ {
				if q[j] == '\\' && c != '`' {
					j++
					continue
				}
				if q[j] == c {
					i = j
					break
				}
			}
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && (c == 'F' || c == 'f') && i+4 <= len(q) && strings.EqualFold(q[i:i+4], "FROM") &&
			(i == 0 || !identByte(q[i-1])) && (i+4 == len(q) || !identByte(q[i+4])):
			return i
		}
	}
	return len(q)
}
