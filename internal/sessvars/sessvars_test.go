package sessvars

import (
	"testing"
)

func TestNilSet(t *testing.T) {
	var s *Set
	if s.Key() != "" || s.Len() != 0 {
		t.Errorf("nil set: Key %q Len %d", s.Key(), s.Len())
	}
	if v, ok := s.Get("x"); ok || v != "" {
		t.Errorf("nil.Get = %q, %v", v, ok)
	}
	s.Each(func(string, string) { t.Error("Each on nil called fn") })
	if got := s.With(nil); got != nil {
		t.Errorf("nil.With(nil) = %+v, want nil", got)
	}
	if got := s.With(map[string]string{"last_insert_id": "3"}); got != nil {
		t.Errorf("nil.With(only ignored) = %+v, want nil", got)
	}
}

func TestWithGet(t *testing.T) {
	s := (*Set)(nil).With(map[string]string{"SQL_MODE": "ANSI_QUOTES", "autocommit": "OFF", "Time_Zone": "+00:00"})
	if s.Len() != 3 {
		t.Fatalf("Len = %d, want 3", s.Len())
	}
	tests := []struct {
		name string
		want string
		ok   bool
	}{
		{"sql_mode", "ANSI_QUOTES", true},
		{"autocommit", "OFF", true},
		{"time_zone", "+00:00", true},
		{"SQL_MODE", "", false}, // names are stored lowercased; Get is exact
		{"missing", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if v, ok := s.Get(tt.name); v != tt.want || ok != tt.ok {
			t.Errorf("Get(%q) = %q, %v; want %q, %v", tt.name, v, ok, tt.want, tt.ok)
		}
	}
	var names []string
	s.Each(func(n, _ string) { names = append(names, n) })
	if len(names) != 3 || names[0] != "autocommit" || names[1] != "sql_mode" || names[2] != "time_zone" {
		t.Errorf("Each order = %v, want sorted", names)
	}

	// With does not modify the receiver.
	s2 := s.With(map[string]string{"autocommit": "ON", "wait_timeout": "60"})
	if v, _ := s.Get("autocommit"); v != "OFF" {
		t.Errorf("receiver changed: autocommit = %q", v)
	}
	if v, _ := s2.Get("autocommit"); v != "ON" {
		t.Errorf("autocommit = %q in the new set", v)
	}
	if v, _ := s2.Get("sql_mode"); v != "ANSI_QUOTES" {
		t.Errorf("unchanged variable lost: sql_mode = %q", v)
	}
	if s2.Len() != 4 || s.Len() != 3 {
		t.Errorf("Len: new %d, old %d", s2.Len(), s.Len())
	}
}

func TestKeyEquality(t *testing.T) {
	a := (*Set)(nil).With(map[string]string{"a": "1", "b": "2"})
	b := (*Set)(nil).With(map[string]string{"b": "2"}).With(map[string]string{"A": "1"})
	c := (*Set)(nil).With(map[string]string{"a": "1", "b": "3"})
	d := (*Set)(nil).With(map[string]string{"a": "1", "b": "2", "insert_id": "5"})
	if a.Key() != b.Key() {
		t.Errorf("equal content, different keys: %q vs %q", a.Key(), b.Key())
	}
	if a.Key() == c.Key() {
		t.Errorf("different content, same key %q", a.Key())
	}
	if a.Key() != d.Key() {
		t.Errorf("an ignored variable changed the key: %q vs %q", a.Key(), d.Key())
	}
	if a.Key() == "" || (*Set)(nil).Key() != "" {
		t.Error("non-empty set must have a non-empty key; nil set the empty key")
	}
}

// TestKeyInjective checks that different sets never share a key: the
// session skips the SET statement when the keys of the connection's and the
// session's sets are equal (session.go, sync). Values are arbitrary strings
// (Literal escapes NUL, so NUL is expected in values), but the key joins
// "name=value" entries with NUL without escaping.
func TestKeyInjective(t *testing.T) {
	pairs := []struct {
		name string
		a, b map[string]string
	}{
		{"value with NUL and '='", map[string]string{"a": "1\x00b=2"}, map[string]string{"a": "1", "b": "2"}},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			a, b := (*Set)(nil).With(p.a), (*Set)(nil).With(p.b)
			if a.Key() == b.Key() {
				t.Errorf("sets %v and %v share key %q; Diff between them is %q", p.a, p.b, a.Key(), Diff(a, b))
			}
		})
	}
}

func TestIgnored(t *testing.T) {
	for _, n := range []string{"session_track_system_variables", "last_insert_id", "insert_id", "warning_count", "in_transaction", "last_gtid", "tx_isolation_one_shot"} {
		if !Ignored(n) {
			t.Errorf("Ignored(%q) = false", n)
		}
	}
	for _, n := range []string{"sql_mode", "autocommit", "time_zone", "character_set_results", "LAST_INSERT_ID"} {
		if Ignored(n) {
			t.Errorf("Ignored(%q) = true", n)
		}
	}
	s := (*Set)(nil).With(map[string]string{"LAST_INSERT_ID": "7", "Session_Track_Schema": "ON", "sql_mode": ""})
	if s.Len() != 1 {
		t.Errorf("ignored names kept: Len %d", s.Len())
	}
	if _, ok := s.Get("last_insert_id"); ok {
		t.Error("last_insert_id stored")
	}
}

func TestDiff(t *testing.T) {
	base := (*Set)(nil).With(map[string]string{"autocommit": "ON", "sql_mode": "STRICT_ALL_TABLES", "time_zone": "SYSTEM"})
	tests := []struct {
		name     string
		from, to *Set
		want     string
	}{
		{"nil to nil", nil, nil, ""},
		{"same", base, base, ""},
		{"equal content", base, base.With(map[string]string{"autocommit": "ON"}), ""},
		{"add to defaults", nil, (*Set)(nil).With(map[string]string{"wait_timeout": "60"}), "SET SESSION `wait_timeout` = 60"},
		{"change one", base, base.With(map[string]string{"autocommit": "OFF"}), "SET SESSION `autocommit` = 'OFF'"},
		{"add and change", base, base.With(map[string]string{"time_zone": "+01:00", "lock_wait_timeout": "5"}),
			"SET SESSION `lock_wait_timeout` = 5, `time_zone` = '+01:00'"},
		{"remove", base, (*Set)(nil).With(map[string]string{"autocommit": "ON"}), "SET SESSION `sql_mode` = DEFAULT, `time_zone` = DEFAULT"},
		{"back to defaults", base, nil, "SET SESSION `autocommit` = DEFAULT, `sql_mode` = DEFAULT, `time_zone` = DEFAULT"},
		{"change and remove", base, (*Set)(nil).With(map[string]string{"autocommit": "OFF", "sql_mode": "STRICT_ALL_TABLES"}),
			"SET SESSION `autocommit` = 'OFF', `time_zone` = DEFAULT"},
		{"empty character_set_results", nil, (*Set)(nil).With(map[string]string{"character_set_results": ""}), "SET SESSION `character_set_results` = NULL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Diff(tt.from, tt.to); got != tt.want {
				t.Errorf("Diff = %q\n want %q", got, tt.want)
			}
		})
	}
}

func TestLiteral(t *testing.T) {
	tests := []struct {
		name, v, want string
	}{
		{"sql_mode", "STRICT_TRANS_TABLES,NO_ZERO_DATE", "'STRICT_TRANS_TABLES,NO_ZERO_DATE'"},
		{"wait_timeout", "28800", "28800"},
		{"x", "0", "0"},
		{"x", "-5", "-5"},
		{"x", "-0.25", "-0.25"},
		{"x", "1.5", "1.5"},
		{"x", ".5", ".5"},
		{"x", "-", "'-'"},
		{"x", ".", "'.'"},
		{"x", "-.", "'-.'"},
		{"x", "1.2.3", "'1.2.3'"},
		{"x", "1-2", "'1-2'"},
		{"x", "--1", "'--1'"},
		{"x", "+1", "'+1'"},
		{"x", "1e5", "'1e5'"},
		{"x", " 1", "' 1'"},
		{"x", "", "''"},
		{"time_zone", "+00:00", "'+00:00'"},
		{"x", "it's", "'it''s'"},
		{"x", "''", "''''''"},
		{"x", `C:\tmp`, `X'433a5c746d70'`},
		{"x", `\`, `X'5c'`},
		{"x", "a\x00b", `X'610062'`},
		{"x", "ünïcode", "'ünïcode'"},
		{"x", "a\"b", "'a\"b'"},
		{"character_set_results", "", "NULL"},
		{"collation_connection", "", "NULL"},
		{"character_set_results", "utf8mb4", "'utf8mb4'"},
		{"character_set_client", "", "''"},
	}
	for _, tt := range tests {
		if got := Literal(tt.name, tt.v); got != tt.want {
			t.Errorf("Literal(%q, %q) = %s, want %s", tt.name, tt.v, got, tt.want)
		}
	}
}
