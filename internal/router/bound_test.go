package router

import (
	"os"
	"strings"
	"testing"
)

// literalSpans finds the integer and plain string literals of sql (outside
// quotes of other kinds and comments), as byte ranges.
func literalSpans(sql string) [][2]int {
	var out [][2]int
	isIdent := func(c byte) bool {
		return c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case c == '`':
			j := strings.IndexByte(sql[i+1:], '`')
			if j < 0 {
				return out
			}
			i += j + 1
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				return out
			}
			i += j + 3
		case c == '"':
			j := strings.IndexByte(sql[i+1:], '"')
			if j < 0 {
				return out
			}
			i += j + 1
		case c == '\'':
			j := strings.IndexByte(sql[i+1:], '\'')
			if j < 0 {
				return out
			}
			lit := sql[i : i+j+2]
			if !strings.Contains(lit, `\`) && (i+j+2 >= len(sql) || sql[i+j+2] != '\'') && (i == 0 || !isIdent(sql[i-1])) {
				out = append(out, [2]int{i, i + j + 2})
			}
			i += j + 1
		case c >= '0' && c <= '9' && (i == 0 || !isIdent(sql[i-1])):
			j := i
			for j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
				j++
			}
			if j == len(sql) || !isIdent(sql[j]) {
				out = append(out, [2]int{i, j})
			}
			i = j - 1
		}
	}
	return out
}

// TestBoundMatchesPlanning: over the routing corpus, each literal (and all
// of them at once) is made a parameter; wherever the statement can be
// planned once (PrepareBound), binding the literal back gives exactly the
// plan that planning the original text gives: the same variant, physical
// statements and merge. A parameter the planner reads must never be bound.
func TestBoundMatchesPlanning(t *testing.T) {
	rules := loadRules(t)
	src, err := os.ReadFile("testdata/shard.sql")
	if err != nil {
		t.Fatal(err)
	}
	bound, tried := 0, 0
	for _, block := range strings.Split(string(src), "\n;;\n") {
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(block), "\n") {
			if !strings.HasPrefix(l, "--- ") {
				lines = append(lines, l)
			}
		}
		sql := strings.Join(lines, "\n")
		spans := literalSpans(sql)
		if sql == "" || len(spans) == 0 {
			continue
		}
		_, want := AnalyzeShardedWith(sql, rules, "shop", Sources{Schema: testSchema})
		variants := make([][][2]int, 0, len(spans)+1)
		for _, sp := range spans {
			variants = append(variants, [][2]int{sp})
		}
		variants = append(variants, spans)
		for _, v := range variants {
			var b strings.Builder
			lits := make([]string, len(v))
			last := 0
			for i, sp := range v {
				b.WriteString(sql[last:sp[0]])
				b.WriteByte('?')
				lits[i] = sql[sp[0]:sp[1]]
				last = sp[1]
			}
			b.WriteString(sql[last:])
			prepared := b.String()
			tried++
			bp := PrepareBound(prepared, rules, "shop", Sources{Schema: testSchema})
			if bp == nil {
				continue
			}
			bound++
			got := bp.Bind(lits)
			if nodeName(got) != nodeName(want) {
				t.Errorf("%s\n  with %v: bound plan is a %s, planning the text gives a %s", prepared, lits, nodeName(got), nodeName(want))
				continue
			}
			gs, ws := got.Physical(), want.Physical()
			if len(gs) != len(ws) {
				t.Errorf("%s\n  with %v: %d physical statements, want %d", prepared, lits, len(gs), len(ws))
				continue
			}
			for i := range gs {
				if gs[i] != ws[i] {
					t.Errorf("%s\n  with %v: step %d\n   bound: %+v\n    text: %+v", prepared, lits, i, gs[i], ws[i])
				}
			}
			if gm, ok := got.(*Merge); ok {
				if wm := want.(*Merge); gm.Scatter.String() != wm.Scatter.String() {
					t.Errorf("%s: merge %s, want %s", prepared, gm.Scatter, wm.Scatter)
				}
			}
		}
	}
	t.Logf("%d of %d parameterised variants planned once", bound, tried)
	if bound < 5 {
		t.Errorf("only %d variants could be planned once: the corpus no longer exercises Bound", bound)
	}
}

// TestBoundRefusesReadPlaces: parameters where the planner reads values
// are never bound.
func TestBoundRefusesReadPlaces(t *testing.T) {
	rules := loadRules(t)
	for _, sql := range []string{
		"SELECT * FROM t_user WHERE id = ?",
		"SELECT * FROM t_user WHERE id IN (?, 5)",
		"SELECT * FROM t_user WHERE name = ? AND id = 5",
		"SELECT * FROM t_user WHERE name = ? OR id > 3",
		"SELECT ? FROM t_user WHERE name = 'a'",
		"SELECT name FROM t_user ORDER BY name LIMIT ?",
		"SELECT name, COUNT(*) FROM t_user GROUP BY name HAVING COUNT(*) > ?",
		"INSERT INTO t_user (id, name) VALUES (1, ?)",
		"SELECT * FROM (SELECT * FROM t_user WHERE name = ?) d",
		"UPDATE t_region SET name = ? WHERE id = 3",
		"SELECT u.name FROM t_user u JOIN t_order o ON o.user_id = u.id AND o.amount > ?",
		"SELECT * FROM t_order WHERE user_id = ? AND amount > 1",
	} {
		if b := PrepareBound(sql, rules, "shop", Sources{Schema: testSchema}); b != nil {
			t.Errorf("%s: planned once as %s; a parameter there can change the plan", sql, nodeName(b.Root))
		}
	}
	for _, sql := range []string{
		"SELECT * FROM t_user WHERE name = ?",
		"SELECT name FROM t_user WHERE name LIKE ? ORDER BY name",
		"UPDATE t_user SET name = ? WHERE name = ?",
		"DELETE FROM t_user WHERE name = ?",
		"SELECT ?, name FROM t_user WHERE id = 5",
		"SELECT name FROM t_user WHERE id = 5 ORDER BY name LIMIT ?",
	} {
		if b := PrepareBound(sql, rules, "shop", Sources{Schema: testSchema}); b == nil {
			t.Errorf("%s: not planned once", sql)
		}
	}
}

func TestLabelParams(t *testing.T) {
	for _, c := range []struct{ in, out string }{
		{"SELECT a.f * ?, a.f FROM t_r a", "SELECT a.f * ? AS `a.f * ?`, a.f FROM t_r a"},
		{"SELECT ?, x AS y, ? AS z FROM t WHERE b = ?", "SELECT ? AS `?`, x AS y, ? AS z FROM t WHERE b = ?"},
		{"SELECT CONCAT(a.s, ?) FROM t", "SELECT CONCAT(a.s, ?) AS `CONCAT(a.s, ?)` FROM t"},
		{"SELECT `a``b` + ? FROM t", "SELECT `a``b` + ? AS ```a````b`` + ?` FROM t"},
		{"SELECT * FROM t WHERE a = ?", "SELECT * FROM t WHERE a = ?"},
		{"UPDATE t SET a = ?", "UPDATE t SET a = ?"},
	} {
		if got := LabelParams(c.in); got != c.out {
			t.Errorf("LabelParams(%q) = %q, want %q", c.in, got, c.out)
		}
	}
}
