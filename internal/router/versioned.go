package router

import "strings"

// mariadbVersioned is the server version up to which MariaDB's six-digit
// executable comments (/*!100100 ... */, /*M!100100 ... */, as mariadb-dump
// sends them) are taken as SQL: 10.11.
const mariadbVersioned = 101199

// unwrapVersioned rewrites MariaDB's six-digit executable comments, which
// the SQL parser does not read, into what a 10.11 server executes: the body
// when the version is not newer, nothing otherwise. ok is false when sql
// has none.
func unwrapVersioned(sql string) (string, bool) {
	if !strings.Contains(sql, "/*!") && !strings.Contains(sql, "/*M!") {
		return sql, false
	}
	var b strings.Builder
	changed := false
	for i := 0; i < len(sql); {
		j := i
		switch {
		case strings.HasPrefix(sql[i:], "/*!"):
			j = i + 3
		case strings.HasPrefix(sql[i:], "/*M!"):
			j = i + 4
		case sql[i] == '\'' || sql[i] == '"' || sql[i] == '`':
			q := sql[i]
			k := i + 1
			for k < len(sql) && sql[k] != q {
				if sql[k] == '\\' && q != '`' {
					k++
				}
				k++
			}
			k = min(k+1, len(sql))
			b.WriteString(sql[i:k])
			i = k
			continue
		}
		if j == i || j+6 > len(sql) || !allDigits(sql[j:j+6]) || (j+6 < len(sql) && sql[j+6] >= '0' && sql[j+6] <= '9') {
			b.WriteByte(sql[i])
			i++
			continue
		}
		end := strings.Index(sql[j+6:], "*/")
		if end < 0 {
			b.WriteByte(sql[i])
			i++
			continue
		}
		version := 0
		for _, c := range sql[j : j+6] {
			version = version*10 + int(c-'0')
		}
		b.WriteByte(' ')
		if version <= mariadbVersioned {
			b.WriteString(sql[j+6 : j+6+end])
		}
		b.WriteByte(' ')
		i = j + 6 + end + 2
		changed = true
	}
	return b.String(), changed
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
