package randtest

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/pingcap/tidb/pkg/parser"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/shard"
)

// TestGeneratorDeterministic: the same seed gives the same rows and
// statements (regression cases name only a seed).
func TestGeneratorDeterministic(t *testing.T) {
	s := NewSchema("db")
	run := func() string {
		g := NewGen(s, 7, AllFeatures)
		var b strings.Builder
		for _, q := range g.Load(10) {
			b.WriteString(q + "\n")
		}
		for i := 0; i < 200; i++ {
			b.WriteString(g.Query().SQL() + "\n" + g.Write().SQL + "\n")
		}
		return b.String()
	}
	if a, b := run(), run(); a != b {
		t.Fatal("two runs of seed 7 differ")
	}
}

// TestGeneratedSQLParses: every generated statement is valid MySQL syntax
// (the reference rejecting it would only count as "invalid").
func TestGeneratedSQLParses(t *testing.T) {
	p := parser.New()
	s := NewSchema("db")
	for _, f := range []Features{{}, AllFeatures} {
		g := NewGen(s, 3, f)
		stmts := g.Load(20)
		for i := 0; i < 2000; i++ {
			stmts = append(stmts, g.Query().SQL(), g.Write().SQL)
		}
		for _, q := range stmts {
			if _, _, err := p.Parse(q, "", ""); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
}

// TestFeaturesOff: with the key-literal features off, key literals are
// plain integers (or date strings) and no hex literal appears anywhere.
func TestFeaturesOff(t *testing.T) {
	s := NewSchema("db")
	g := NewGen(s, 11, Features{Writes: true})
	g.Load(30)
	plain := regexp.MustCompile(`^(-?[0-9]+|'2023-[0-9-]+( [0-9:]+)?')$`)
	for _, tb := range s.Tables {
		if tb.Key == "" {
			continue
		}
		for i := 0; i < 500; i++ {
			if l := g.lit(tb, tb.Col(tb.Key)); !plain.MatchString(l) {
				t.Fatalf("%s.%s: literal %s with the key features off", tb.Name, tb.Key, l)
			}
		}
	}
	for i := 0; i < 3000; i++ {
		if q := g.Query().SQL() + " " + g.Write().SQL; strings.Contains(q, "0x") {
			t.Fatalf("hex literal with HexLiterals off: %s", q)
		}
	}
}

// TestNamespaceYAML: the schema's rules are a valid configuration.
func TestNamespaceYAML(t *testing.T) {
	s := NewSchema("rt")
	y := "listen: 127.0.0.1:0\nnamespaces:\n  - name: n\n    users: [{name: u, password: p}]\n    backend: {user: b, password: b}\n" +
		s.NamespaceYAML() +
		"    slices:\n      - {name: s0, primary: 127.0.0.1:1}\n      - {name: s1, primary: 127.0.0.1:2}\n      - {name: s2, primary: 127.0.0.1:3}\n"
	cfg, err := config.Parse([]byte(y), "x.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	rules, err := shard.Build(cfg.Namespaces[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range s.Tables {
		if _, ok := rules.Table("rt", tb.Name); !ok {
			t.Errorf("no rule for %s", tb.Name)
		}
	}
	// Loaded rows all have a place.
	g := NewGen(s, 1, Features{})
	for _, tb := range s.Tables {
		if tb.Global {
			continue
		}
		st, _ := rules.Table("rt", tb.Name)
		for i := 0; i < 200; i++ {
			r := g.NewRow(tb)
			v := strings.Trim(r[tb.Key], "'")
			if _, err := locateStored(st, tb.Col(tb.Key).Kind, v); err != nil {
				t.Fatalf("%s row %v: %v", tb.Name, r, err)
			}
		}
	}
}

func TestShrink(t *testing.T) {
	s := Select{
		Items:   []string{"a.x", "SUM(a.y)", "COUNT(*)"},
		From:    "t a",
		Where:   []string{"a.x > 1", "a.z = 2", "a.w IS NULL"},
		GroupBy: []string{"a.x"},
		Having:  []string{"COUNT(*) > 1"},
		OrderBy: []string{"a.x DESC"},
		Limit:   "3",
		Total:   true,
	}
	// The "failure" needs SUM and the condition on z.
	fails := func(x Select) bool {
		q := x.SQL()
		return strings.Contains(q, "SUM(a.y)") && strings.Contains(q, "a.z = 2")
	}
	got := Shrink(s, fails).SQL()
	if want := "SELECT SUM(a.y) FROM t a WHERE a.z = 2"; got != want {
		t.Fatalf("shrunk to %q, want %q", got, want)
	}
	// A LIMIT keeps its total order while it stays.
	lim := func(x Select) bool { return x.Limit != "" }
	if got := Shrink(s, lim); len(got.OrderBy) != 1 || !got.Total {
		t.Fatalf("ORDER BY dropped under a LIMIT: %s", got.SQL())
	}
}

func TestDiff(t *testing.T) {
	str := func(s string) *string { return &s }
	res := func(types []string, rows ...[]*string) *Result {
		cols := make([]string, len(types))
		for i := range cols {
			cols[i] = "c"
		}
		return &Result{Cols: cols, Types: types, Rows: rows}
	}
	vc := []string{"VARCHAR"}
	cases := []struct {
		name          string
		want, got     *Result
		total, folded bool
		same          bool
	}{
		{"equal", res(vc, []*string{str("a")}), res(vc, []*string{str("a")}), true, false, true},
		{"order matters when total", res(vc, []*string{str("a")}, []*string{str("b")}), res(vc, []*string{str("b")}, []*string{str("a")}), true, false, false},
		{"multiset", res(vc, []*string{str("a")}, []*string{str("b")}), res(vc, []*string{str("b")}, []*string{str("a")}), false, false, true},
		{"NULL is not 'NULL'", res(vc, []*string{nil}), res(vc, []*string{str("NULL")}), true, false, false},
		{"case differs", res(vc, []*string{str("a")}), res(vc, []*string{str("A ")}), true, false, false},
		{"folded", res(vc, []*string{str("á")}), res(vc, []*string{str("A ")}), true, true, true},
		{"numbers are not folded", res([]string{"DECIMAL"}, []*string{str("1.0")}), res([]string{"DECIMAL"}, []*string{str("1.00")}), true, true, false},
		{"types", res([]string{"DECIMAL"}, []*string{str("1")}), res([]string{"BIGINT"}, []*string{str("1")}), true, false, false},
		{"row count", res(vc, []*string{str("a")}), res(vc), false, false, false},
	}
	for _, c := range cases {
		d := Diff(c.want, c.got, c.total, c.folded)
		if (d == "") != c.same {
			t.Errorf("%s: diff %q", c.name, d)
		}
	}
	// GROUP_CONCAT cells compare as sets of elements.
	gc := func(v string) *Result {
		return &Result{Cols: []string{"GROUP_CONCAT(a.s)"}, Types: vc, Rows: [][]*string{{str(v)}}}
	}
	if d := Diff(gc("b,a,c"), gc("c,b,a"), true, false); d != "" {
		t.Errorf("GROUP_CONCAT: %s", d)
	}
}

func TestParseCases(t *testing.T) {
	in := "# c\nordered SELECT 1\nseed 5\n\nmultiset-folded SELECT 2\nwrite DELETE FROM t_a WHERE id = 1\n"
	cs, err := ParseCases(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 3 || cs[0].Seed != 1 || !cs[0].Total() || cs[1].Seed != 5 || !cs[1].Folded() || cs[1].Total() || cs[2].Mode != "write" {
		t.Fatalf("%+v", cs)
	}
	if tableOf(cs[2].SQL) != "t_a" {
		t.Fatalf("tableOf: %q", tableOf(cs[2].SQL))
	}
	for _, bad := range []string{"frob SELECT 1\n", "seed x\n", "ordered\n"} {
		if _, err := ParseCases(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	// The repository's case files parse.
	for _, p := range []string{"testdata/regressions.txt", "testdata/known_failures.txt"} {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseCases(f); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		f.Close()
	}
}

func TestConstruct(t *testing.T) {
	err := errors.New("Switchyard does not support the term round(count(distinct `a`.`k`), 2) over aggregate functions in a query over several shards")
	want := "Switchyard does not support the term round(agg(c), N) over aggregate functions in a query over several shards"
	if got := construct(err); got != want {
		t.Fatalf("construct: %q", got)
	}
}
