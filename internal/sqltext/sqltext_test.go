package sqltext

import "testing"

func TestFirstKeyword(t *testing.T) {
	for _, tc := range []struct{ sql, want string }{
		{"SELECT 1", "SELECT"},
		{"  (select 1)", "select"},
		{"/* hint */ UPDATE t", "UPDATE"},
		{"/*!50003 CREATE*/ TRIGGER", "CREATE"},
		{"-- c\nDELETE FROM t", "DELETE"},
		{"# c\nINSERT", "INSERT"},
		{";DROP DATABASE x", "DROP"},
		{"/* unterminated", ""},
		{"", ""},
		{"123", ""},
	} {
		if got := FirstKeyword(tc.sql); got != tc.want {
			t.Errorf("FirstKeyword(%q) = %q, want %q", tc.sql, got, tc.want)
		}
	}
}
