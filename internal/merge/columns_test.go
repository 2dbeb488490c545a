package merge

import (
	"testing"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

func TestOutputColumns(t *testing.T) {
	named := func(c protocol.ColumnDef, table string) protocol.ColumnDef {
		c.Table, c.OrgTable, c.OrgName = table, table, c.Name
		return c
	}
	phys := cols(
		named(intCol("g"), "t"),         // 0
		named(decCol("avg(d)", 2), "t"), // 1: SUM(d) labelled as the AVG
		intCol("cnt"),                   // 2
		dblCol("avg(f)"),                // 3: SUM(f)
		intCol("count(distinct x)"),     // 4: placeholder
		strCol("x", 33),                 // 5
		intCol("g+1"),                   // 6: placeholder
		intCol("g>1"),                   // 7: placeholder
		named(decCol("d2", 3), "t"),     // 8
		intCol("gc"),                    // 9: placeholder
		intCol("d2*2"),                  // 10: placeholder
		intCol("sum(distinct x)"),       // 11: placeholder
	)
	p := &Plan{
		Aggs:     make([]Agg, len(phys)),
		Grouped:  true,
		Distinct: intp(5),
		Output: []Expr{
			Col{0},
			Avg{Sum: 1, Count: 2},
			Col{2},
			Avg{Sum: 3, Count: 2},
			DistinctAgg{Func: DistinctCount},
			Col{5},
			Bin{Op: OpAdd, L: Col{0}, R: Lit{V: int64(1)}},
			Bin{Op: OpGT, L: Col{0}, R: Lit{V: int64(1)}},
			Col{1}, // output 8 is physical column 1 under column 8's name
			DistinctAgg{Func: DistinctGroupConcat, Sep: ","},
			Bin{Op: OpMul, L: Col{8}, R: Lit{V: "2.5", IsDecimal: true}},
			DistinctAgg{Func: DistinctSum},
			Lit{V: "hidden"},
		},
		Visible: 12,
	}
	defs := OutputColumns(p, phys)
	if len(defs) != 12 {
		t.Fatalf("%d columns", len(defs))
	}
	check := func(i int, name string, typ byte, decimals byte, flags uint16, charset uint16) {
		t.Helper()
		d := defs[i]
		if d.Name != name || d.Type != typ || d.Decimals != decimals || d.Flags != flags || d.Charset != charset {
			t.Errorf("column %d: %+v; want name %q type %#x decimals %d flags %#x charset %d", i, d, name, typ, decimals, flags, charset)
		}
	}
	num := flagsNum
	check(0, "g", protocol.TypeLongLong, 0, num, 63)
	if defs[0].Table != "t" || defs[0].OrgName != "g" {
		t.Errorf("column 0 lost its origin: %+v", defs[0])
	}
	check(1, "avg(d)", protocol.TypeNewDecimal, 6, num, 63)
	check(2, "cnt", protocol.TypeLongLong, 0, num, 63)
	check(3, "avg(f)", protocol.TypeDouble, 31, num, 63)
	check(4, "count(distinct x)", protocol.TypeLongLong, 0, num|protocol.FlagNotNull, 63)
	check(5, "x", protocol.TypeVarString, 0, 0, 33)
	check(6, "g+1", protocol.TypeLongLong, 0, num, 63)
	check(7, "g>1", protocol.TypeLong, 0, num, 63)
	check(8, "d2", protocol.TypeNewDecimal, 2, num, 63)
	if defs[8].Table != "t" {
		t.Errorf("column 8 names: %+v", defs[8])
	}
	check(9, "gc", protocol.TypeBlob, 0, 0, 33)
	check(10, "d2*2", protocol.TypeNewDecimal, 4, num, 63)
	check(11, "sum(distinct x)", protocol.TypeDouble, 31, num, 63)

	// Visible <= 0: every output, the extra one synthetic.
	p.Visible = 0
	defs = OutputColumns(p, phys)
	if len(defs) != 13 || defs[12].Name != "expr" || defs[12].Type != protocol.TypeVarString || defs[12].Charset != 45 {
		t.Errorf("hidden literal: %+v", defs[len(defs)-1])
	}
	// AVG over an integer sum, and over a decimal sum near the maximum scale.
	p = &Plan{Aggs: make([]Agg, 3), Output: []Expr{Avg{Sum: 0, Count: 1}, Avg{Sum: 2, Count: 1}}}
	defs = OutputColumns(p, cols(intCol("s"), intCol("c"), decCol("s2", 28)))
	if defs[0].Type != protocol.TypeNewDecimal || defs[0].Decimals != 4 || defs[1].Decimals != 30 {
		t.Errorf("avg defs: %+v", defs)
	}
	// No plan, no Output: the physical columns.
	if d := OutputColumns(nil, phys); len(d) != len(phys) {
		t.Error("nil plan")
	}
	if d := OutputColumns(&Plan{Aggs: make([]Agg, len(phys)), Visible: 2}, phys); len(d) != 2 || d[1] != phys[1] {
		t.Errorf("nil Output: %+v", d)
	}
}

// TestOutputMatchesColumns checks that computed values are rendered with
// exactly the decimals OutputColumns announces.
func TestOutputMatchesColumns(t *testing.T) {
	cs := cols(decCol("s", 2), intCol("c"), decCol("d", 1), intCol("i"))
	p := &Plan{Aggs: aggs(AggSum, AggCount, AggNone, AggNone), Grouped: true,
		Output: []Expr{Avg{Sum: 0, Count: 1}, Bin{Op: OpAdd, L: Col{2}, R: Col{3}}, Bin{Op: OpDiv, L: Col{3}, R: Col{2}},
			Bin{Op: OpMul, L: Col{2}, R: Col{2}}, Bin{Op: OpMod, L: Col{3}, R: Col{2}}, Neg{E: Col{2}}}, Limit: -1}
	defs := OutputColumns(p, cs)
	out := mustRun(t, p, cs, src(r("1.00", 3, "2.5", 7)))
	for i, v := range out[0] {
		want := int(defs[i].Decimals)
		got := 0
		for j := range v {
			if v[j] == '.' {
				got = len(v) - j - 1
			}
		}
		if got != want {
			t.Errorf("output %d = %q: %d decimals, column says %d", i, v, got, want)
		}
	}
}
