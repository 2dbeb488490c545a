package randtest

import (
	"reflect"
	"testing"
)

func TestParameterise(t *testing.T) {
	for _, c := range []struct {
		in, out string
		args    []any
	}{
		{"SELECT a FROM t WHERE b = 5 AND c = 'x'", "SELECT a FROM t WHERE b = ? AND c = ?", []any{"5", "x"}},
		{"SELECT a FROM t ORDER BY 1 DESC, 2 LIMIT 3, 4", "SELECT a FROM t ORDER BY 1 DESC, 2 LIMIT 3, 4", nil},
		{"SELECT a FROM t WHERE b IN (1, 2) GROUP BY 1", "SELECT a FROM t WHERE b IN (?, ?) GROUP BY 1", []any{"1", "2"}},
		{"SELECT `t1`.a, t2 FROM t1 WHERE x > 10 LIMIT 5 OFFSET 2", "SELECT `t1`.a, t2 FROM t1 WHERE x > ? LIMIT 5 OFFSET 2", []any{"10"}},
		{"SELECT 'it''s', 'a\\'b' FROM t /* 7 */", "SELECT 'it''s', 'a\\'b' FROM t /* 7 */", nil},
		{"SELECT a + 1, (SELECT 2 FROM u WHERE v = 3) FROM t WHERE w = 4", "SELECT a + 1, (SELECT 2 FROM u WHERE v = 3) FROM t WHERE w = ?", []any{"4"}},
	} {
		out, args := Parameterise(c.in)
		if out != c.out || !reflect.DeepEqual(args, c.args) {
			t.Errorf("Parameterise(%q) = %q %q, want %q %q", c.in, out, args, c.out, c.args)
		}
	}
}
