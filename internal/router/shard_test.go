package router

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/shard"
)

func loadRules(t testing.TB) *shard.Rules {
	t.Helper()
	cfg, err := config.Load("testdata/shard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := shard.Build(cfg.Namespaces[0])
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

// TestShardGolden shows every sharded routing decision: SQL in, physical
// statements (or the refusal) out.
func TestShardGolden(t *testing.T) {
	rules := loadRules(t)
	src, err := os.ReadFile("testdata/shard.sql")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, block := range strings.Split(string(src), "\n;;\n") {
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(block), "\n") {
			if strings.HasPrefix(l, "--- ") {
				fmt.Fprintf(&out, "%s\n\n", l)
				continue
			}
			lines = append(lines, l)
		}
		sql := strings.Join(lines, "\n")
		if sql == "" {
			continue
		}
		next := uint64(1000)
		ids := func(t *shard.Table, out []uint64) error {
			for i := range out {
				out[i] = next
				next++
			}
			return nil
		}
		a, root := AnalyzeShardedIDs(sql, rules, "shop", ids)
		fmt.Fprintf(&out, "-- %s\nkind=%s\n", sql, a.Kind)
		if root == nil {
			out.WriteString("  default slice, unchanged\n\n")
			continue
		}
		// Where a user with rw_split and session consistency runs it
		// outside a transaction.
		plan := DecideNode(a, root, Session{RWSplit: true, Consistency: ConsistencySession})
		if e, ok := root.(*Explain); ok {
			out.WriteString("  explain, answered by the proxy, of:\n")
			root, plan = e.Of, *plan.Inner
		}
		if e := RefusedErr(root); e != nil {
			fmt.Fprintf(&out, "  error %d (%s) %s\n\n", e.Code, e.State, e.Message)
			continue
		}
		fmt.Fprintf(&out, "  role: %s", plan.Target)
		if plan.Target == TargetReplica {
			fmt.Fprintf(&out, ", consistency %s", plan.Consistency)
		}
		fmt.Fprintf(&out, "\n  %s:\n", nodeName(root))
		for _, w := range root.Words() {
			fmt.Fprintf(&out, "    - %s\n", w)
		}
		for _, s := range root.Physical() {
			fmt.Fprintf(&out, "  %s: %s\n", s.Slice, s.SQL)
		}
		out.WriteString("\n")
	}
	compareGolden(t, "testdata/shard.golden", out.String())
}

func TestShardRewriteLeavesASTIntact(t *testing.T) {
	rules := loadRules(t)
	// Routing the same statement twice gives the same answer (the AST is
	// restored after each rewrite, and parsers are reused).
	for i := 0; i < 3; i++ {
		_, p := flat(AnalyzeSharded("CREATE TABLE t_user (id INT PRIMARY KEY)", rules, "shop"))
		if len(p.Steps) != 4 || !strings.Contains(p.Steps[3].SQL, "t_user_0003") || strings.Contains(p.Steps[3].SQL, "t_user_0002") {
			t.Fatalf("fan-out %d: %+v", i, p.Steps)
		}
	}
}

// nodeName is the name of a node's variant in golden files.
func nodeName(n Node) string {
	return strings.ToLower(strings.TrimPrefix(fmt.Sprintf("%T", n), "*router."))
}

// compareGolden compares got with a golden file, or rewrites it with -update.
func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/router -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s is out of date (run with -update if the change is intended):\n%s", path, lineDiff(string(want), got))
	}
}

// FuzzAnalyzeSharded: routing with sharding rules never panics, a plan
// has steps or an error, and every step names a configured slice.
func FuzzAnalyzeSharded(f *testing.F) {
	src, _ := os.ReadFile("testdata/shard.sql")
	for _, block := range strings.Split(string(src), "\n;;\n") {
		f.Add(block)
	}
	cfg, err := config.Load("testdata/shard.yaml")
	if err != nil {
		f.Fatal(err)
	}
	rules, err := shard.Build(cfg.Namespaces[0])
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		_, p := flat(AnalyzeSharded(sql, rules, "shop"))
		if p == nil {
			return
		}
		if p.Explain != nil {
			p = p.Explain
		}
		if p.Err == nil && len(p.Steps) == 0 {
			t.Fatalf("%q: plan without steps or error", sql)
		}
		for _, s := range p.Steps {
			if s.Slice != "s0" && s.Slice != "s1" {
				t.Fatalf("%q: step on unknown slice %q", sql, s.Slice)
			}
		}
	})
}

// TestInsertSplitRows checks the row numbers of an INSERT split over
// physical tables, including rows that return to the first table after a
// second appeared.
func TestInsertSplitRows(t *testing.T) {
	rules := loadRules(t)
	for _, c := range []struct {
		sql  string
		rows string
	}{
		{"INSERT INTO t_user (id, name) VALUES (1, 'a'), (2, 'b'), (5, 'c')", "[[0 2] [1]]"},
		{"INSERT INTO t_user (id, name) VALUES (1, 'a'), (5, 'b'), (2, 'c'), (9, 'd')", "[[0 1 3] [2]]"},
		{"INSERT INTO t_user (id, name) VALUES (1, 'a'), (5, 'b')", "[]"},
	} {
		_, p := AnalyzeSharded(c.sql, rules, "shop")
		switch n := p.(type) {
		case *Write:
			if got := fmt.Sprint(n.Rows); got != c.rows {
				t.Errorf("%s: rows %s, want %s", c.sql, got, c.rows)
			}
		case *Route:
			if c.rows != "[]" {
				t.Errorf("%s: one step, want rows %s", c.sql, c.rows)
			}
		default:
			t.Fatalf("%s: plan %#v", c.sql, p)
		}
	}
}

// TestDecideNodeKeepsRefusals: a statement Decide refuses in the session's
// state (ROW_COUNT() on a pooled connection) stays refused with rules.
func TestDecideNodeKeepsRefusals(t *testing.T) {
	rules := loadRules(t)
	a, root := AnalyzeSharded("SELECT ROW_COUNT() + 0, name FROM t_user WHERE id = 3", rules, "shop")
	if _, ok := root.(*Route); !ok {
		t.Fatalf("plan %T, want a Route", root)
	}
	p := DecideNode(a, root, Session{})
	if p.Target != TargetError || RefusedErr(p.Root) == nil || RefusedErr(p.Root).Code != 1235 {
		t.Errorf("outside a transaction: target %s root %T, want a 1235 refusal", p.Target, p.Root)
	}
	if p := DecideNode(a, root, Session{InTxn: true, Pinned: true}); p.Target != TargetPinned {
		t.Errorf("in a transaction: target %s, want pinned", p.Target)
	}
}
