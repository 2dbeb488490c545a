package router

import "testing"

func TestSplitReturning(t *testing.T) {
	for _, tc := range []struct {
		sql, base, list string
		ok              bool
	}{
		{"INSERT INTO t (a) VALUES (1) RETURNING id", "INSERT INTO t (a) VALUES (1)", "id", true},
		{"insert into t values (1), (2) returning `t`.`id`, name;", "insert into t values (1), (2)", "`t`.`id`, name", true},
		{"REPLACE INTO t VALUES (1) RETURNING *", "REPLACE INTO t VALUES (1)", "*", true},
		{"INSERT INTO t (a) VALUES ('RETURNING x')", "", "", false},
		{"INSERT INTO t (returning_at) VALUES (1)", "", "", false},
		{"INSERT INTO t (a) SELECT (SELECT 1) /* RETURNING */", "", "", false},
		{"SELECT 1 RETURNING", "", "", false},
		{"INSERT INTO t (a) VALUES (1) RETURNING", "", "", false},
		{"INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE a = 2 RETURNING a", "INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE a = 2", "a", true},
	} {
		base, list, ok := splitReturning(tc.sql)
		if ok != tc.ok || base != tc.base || list != tc.list {
			t.Errorf("%q: got %q %q %v, want %q %q %v", tc.sql, base, list, ok, tc.base, tc.list, tc.ok)
		}
	}
}

func TestQualifyReturning(t *testing.T) {
	for _, tc := range []struct{ list, want string }{
		{"`items`.`id`, name", "`items_0002`.`id`, name"},
		{"items.id + 1 AS n, 'items.x'", "`items_0002`.id + 1 AS n, 'items.x'"},
		{"ITEMS . id", "`items_0002` . id"},
		{"itemsx.id, id", "itemsx.id, id"},
	} {
		if got := qualify(tc.list, "items", "items_0002"); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.list, got, tc.want)
		}
	}
}

func TestUnwrapVersioned(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/*!100100 SET WAIT_TIMEOUT=DEFAULT */", "  SET WAIT_TIMEOUT=DEFAULT  "},
		{"/*M!100100 SET @@MAX_STATEMENT_TIME=0.000000 */", "  SET @@MAX_STATEMENT_TIME=0.000000  "},
		{"SELECT 1 /*!999999 , 2 */", "SELECT 1   "},
		{"SELECT '/*!100100 x */'", "SELECT '/*!100100 x */'"},
	} {
		if got, _ := unwrapVersioned(tc.in); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
	a := Analyze("/*!100100 SET WAIT_TIMEOUT=DEFAULT */")
	if a.Kind != KindSet || a.Flags&FlagUserVarWrite != 0 {
		t.Fatalf("analysis %+v: a six-digit executable comment must be read as its SET", a)
	}
}
