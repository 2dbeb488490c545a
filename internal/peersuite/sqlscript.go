package peersuite

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

// SplitStatements splits an SQL script on ";" outside string literals,
// quoted identifiers and comments. Comments are removed; empty statements
// are dropped.
func SplitStatements(script string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	for i := 0; i < len(script); i++ {
		c := script[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for j < len(script) {
				if script[j] == '\\' && c != '`' && j+1 < len(script) {
					j += 2
					continue
				}
				if script[j] == c {
					if j+1 < len(script) && script[j+1] == c { // doubled quote
						j += 2
						continue
					}
					break
				}
				j++
			}
			if j >= len(script) {
				j = len(script) - 1
			}
			cur.WriteString(script[i : j+1])
			i = j
		case c == '-' && strings.HasPrefix(script[i:], "--") && (i+2 >= len(script) || script[i+2] == ' ' || script[i+2] == '\t' || script[i+2] == '\n' || script[i+2] == '\r'),
			c == '#':
			for i < len(script) && script[i] != '\n' {
				i++
			}
			cur.WriteByte('\n')
		case c == '/' && strings.HasPrefix(script[i:], "/*"):
			end := strings.Index(script[i+2:], "*/")
			if end < 0 {
				i = len(script)
			} else {
				i += 2 + end + 1
			}
			cur.WriteByte(' ')
		case c == ';':
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return out
}

// LoadScript reads and splits an SQL script file.
func LoadScript(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("peersuite: %w", err)
	}
	return SplitStatements(string(data)), nil
}

var (
	qualifiedRe = regexp.MustCompile("(`?)([A-Za-z0-9_$]+)(`?)\\s*\\.\\s*[`A-Za-z_]")
	databaseRe  = regexp.MustCompile("(?i)\\b(DATABASE|SCHEMA)\\s+(IF\\s+(NOT\\s+)?EXISTS\\s+)?(`?)([A-Za-z0-9_$]+)")
	useRe       = regexp.MustCompile("(?i)^\\s*USE\\s+(`?)([A-Za-z0-9_$]+)")
	createTblRe = regexp.MustCompile("(?i)^\\s*CREATE\\s+(?:TEMPORARY\\s+)?(?:TABLE|VIEW)\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?`?([A-Za-z0-9_$]+)`?\\s*\\.\\s*`?([A-Za-z0-9_$]+)`?")
)

// maskLiterals replaces the contents of string literals with spaces (same
// length), so that name searches do not look inside them.
func maskLiterals(s string) string {
	b := []byte(s)
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\'' && c != '"' {
			continue
		}
		j := i + 1
		for j < len(b) && b[j] != c {
			if b[j] == '\\' {
				b[j] = ' '
				j++
				if j < len(b) {
					b[j] = ' '
				}
				j++
				continue
			}
			b[j] = ' '
			j++
		}
		i = j
	}
	return string(b)
}

// StatementDatabases returns the databases a statement names, in order and
// without duplicates, among known (matched case-insensitively): qualified
// names (db.table), CREATE/DROP DATABASE and USE.
func StatementDatabases(stmt string, known map[string]bool) []string {
	m := maskLiterals(stmt)
	var out []string
	seen := map[string]bool{}
	add := func(name string) {
		l := strings.ToLower(name)
		if known[l] && !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	for _, x := range databaseRe.FindAllStringSubmatch(m, -1) {
		add(x[5])
	}
	if x := useRe.FindStringSubmatch(m); x != nil {
		add(x[2])
	}
	for _, x := range qualifiedRe.FindAllStringSubmatch(m, -1) {
		add(x[2])
	}
	return out
}

// RenameDatabases rewrites the database names of a statement (qualified
// names, CREATE/DROP DATABASE, USE) through rename, keyed by lower-case
// name; names not in the map stay.
func RenameDatabases(stmt string, rename map[string]string) string {
	m := maskLiterals(stmt)
	type span struct{ lo, hi int }
	var spans []span
	for _, x := range databaseRe.FindAllStringSubmatchIndex(m, -1) {
		spans = append(spans, span{x[10], x[11]})
	}
	if x := useRe.FindStringSubmatchIndex(m); x != nil {
		spans = append(spans, span{x[4], x[5]})
	}
	for _, x := range qualifiedRe.FindAllStringSubmatchIndex(m, -1) {
		spans = append(spans, span{x[4], x[5]})
	}
	// Apply from the end so earlier offsets stay valid.
	for i := 0; i < len(spans); i++ {
		for j := i + 1; j < len(spans); j++ {
			if spans[j].lo > spans[i].lo {
				spans[i], spans[j] = spans[j], spans[i]
			}
		}
	}
	out := stmt
	last := -1
	for _, sp := range spans {
		if sp.lo == last {
			continue
		}
		last = sp.lo
		if to, ok := rename[strings.ToLower(out[sp.lo:sp.hi])]; ok {
			out = out[:sp.lo] + to + out[sp.hi:]
		}
	}
	return out
}

// CreatedTable returns the database and table of a CREATE TABLE/VIEW
// db.table statement.
func CreatedTable(stmt string) (db, table string, ok bool) {
	x := createTblRe.FindStringSubmatch(stmt)
	if x == nil {
		return "", "", false
	}
	return x[1], x[2], true
}
