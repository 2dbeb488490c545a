// Package sqltext holds the few lexical helpers that read SQL text without
// parsing it, shared by the router and the access checks.
package sqltext

import "strings"

// FirstKeyword returns the first word of sql after comments, semicolons and
// opening parentheses; the body of a versioned comment (/*!50003 CREATE*/)
// is SQL and is read.
func FirstKeyword(s string) string {
	for {
		s = strings.TrimLeft(s, " \t\r\n;(")
		switch {
		case strings.HasPrefix(s, "/*!"):
			s = strings.TrimLeft(s[3:], "0123456789")
		case strings.HasPrefix(s, "/*"):
			end := strings.Index(s[2:], "*/")
			if end < 0 {
				return ""
			}
			s = s[2+end+2:]
		case strings.HasPrefix(s, "#"), strings.HasPrefix(s, "-- "):
			end := strings.IndexByte(s, '\n')
			if end < 0 {
				return ""
			}
			s = s[end+1:]
		default:
			i := 0
			for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || s[i] == '_') {
				i++
			}
			return s[:i]
		}
	}
}
