// Package sessvars holds a client session's system variables as immutable
// sets, so that the same settings can be applied to whichever backend
// connection serves the session next, with one SET statement for the
// difference.
package sessvars

import (
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
)

// Set is an immutable, sorted set of session variable values. The nil *Set
// means "server defaults".
type Set struct {
	names  []string
	values []string
	key    string
}

// Key identifies the set's content; equal sets have equal keys.
func (s *Set) Key() string {
	if s == nil {
		return ""
	}
	return s.key
}

// Len returns the number of variables.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.names)
}

// Get returns a variable's value.
func (s *Set) Get(name string) (string, bool) {
	if s == nil {
		return "", false
	}
	i := sort.SearchStrings(s.names, name)
	if i < len(s.names) && s.names[i] == name {
		return s.values[i], true
	}
	return "", false
}

// Each calls fn for every variable in name order.
func (s *Set) Each(fn func(name, value string)) {
	if s == nil {
		return
	}
	for i, n := range s.names {
		fn(n, s.values[i])
	}
}

// With returns a set with the given variables changed (names lowercased).
// Variables that are not replayable are ignored.
func (s *Set) With(changes map[string]string) *Set {
	m := map[string]string{}
	s.Each(func(n, v string) { m[n] = v })
	for n, v := range changes {
		n = strings.ToLower(n)
		if Ignored(n) {
			continue
		}
		m[n] = v
	}
	if len(m) == 0 {
		return nil
	}
	out := &Set{}
	for n := range m {
		out.names = append(out.names, n)
	}
	sort.Strings(out.names)
	var kb strings.Builder
	for _, n := range out.names {
		v := m[n]
		out.values = append(out.values, v)
		// Length-prefixed, so that no two different sets share a key.
		kb.WriteString(strconv.Itoa(len(n)))
		kb.WriteByte(':')
		kb.WriteString(n)
		kb.WriteString(strconv.Itoa(len(v)))
		kb.WriteByte(':')
		kb.WriteString(v)
	}
	out.key = kb.String()
	return out
}

// ignored variables are reported by session tracking but belong to
// Switchyard's own connection setup or cannot be replayed.
var ignored = map[string]bool{
	"session_track_system_variables": true,
	"session_track_schema":           true,
	"session_track_state_change":     true,
	"session_track_transaction_info": true,
	"session_track_gtids":            true,
	"last_gtid":                      true,
	"last_insert_id":                 true,
	"insert_id":                      true,
	"identity":                       true,
	"gtid_seq_no":                    true,
	"pseudo_thread_id":               true,
	"in_transaction":                 true,
	"warning_count":                  true,
	"error_count":                    true,
	"rand_seed1":                     true,
	"rand_seed2":                     true,
	"transaction_isolation_one_shot": true,
	"tx_isolation_one_shot":          true,
	"character_set_client_handshake": true,
	"default_master_connection":      true,
	"skip_replication":               true,
}

// Ignored reports whether a tracked variable is not replayed on other
// connections.
func Ignored(name string) bool { return ignored[name] }

// Diff returns the SET statement that turns a connection configured with
// from into one configured with to, or "" when nothing differs.
func Diff(from, to *Set) string {
	var b strings.Builder
	add := func(n, expr string) {
		if b.Len() == 0 {
			b.WriteString("SET SESSION ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString("`")
		b.WriteString(n)
		b.WriteString("` = ")
		b.WriteString(expr)
	}
	to.Each(func(n, v string) {
		if old, ok := from.Get(n); !ok || old != v {
			add(n, Literal(n, v))
		}
	})
	from.Each(func(n, _ string) {
		if _, ok := to.Get(n); !ok {
			add(n, "DEFAULT")
		}
	})
	return b.String()
}

// Literal renders a tracked value as SQL: numbers bare, NULL for the empty
// character_set_results, everything else as a quoted string.
func Literal(name, v string) string {
	if v == "" && (name == "character_set_results" || name == "collation_connection") {
		return "NULL"
	}
	if isNumber(v) {
		return v
	}
	if strings.ContainsAny(v, "\\\x00") {
		// A hex literal reads the same with or without
		// NO_BACKSLASH_ESCAPES.
		return "X'" + hex.EncodeToString([]byte(v)) + "'"
	}
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}

func isNumber(v string) bool {
	if v == "" {
		return false
	}
	digits, dot := 0, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '-' && i == 0:
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}
