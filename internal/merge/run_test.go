package merge

import (
	"errors"
	"testing"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

func TestRunTable(t *testing.T) {
	ci := uint16(45)
	tests := []struct {
		name string
		cols []protocol.ColumnDef
		plan Plan
		srcs []*fakeSource
		want [][]string
	}{
		{
			name: "concatenation without order",
			cols: cols(intCol("a")),
			plan: Plan{Aggs: aggs(AggNone), Limit: -1},
			srcs: []*fakeSource{src(r(3), r(1)), src(), src(r(2))},
			want: [][]string{s("3"), s("1"), s("2")},
		},
		{
			name: "no sources",
			cols: cols(intCol("a")),
			plan: Plan{Aggs: aggs(AggNone), Limit: -1},
			want: nil,
		},
		{
			name: "k-way merge ascending with NULLs first",
			cols: cols(intCol("a"), strCol("s", ci)),
			plan: Plan{Aggs: aggs(AggNone, AggNone), SourceOrder: []Order{{Col: 0}}, Limit: -1},
			srcs: []*fakeSource{src(r(nil, "n1"), r(-5, "a"), r(10, "b")), src(), src(r(nil, "n2"), r(2, "c"), r(10, "d"))},
			want: [][]string{s(nul, "n1"), s(nul, "n2"), s("-5", "a"), s("2", "c"), s("10", "b"), s("10", "d")},
		},
		{
			name: "k-way merge descending with NULLs last",
			cols: cols(decCol("d", 2)),
			plan: Plan{Aggs: aggs(AggNone), SourceOrder: []Order{{Col: 0, Desc: true}}, Limit: -1},
			srcs: []*fakeSource{src(r("10.50"), r("-0.01"), r(nil)), src(r("9.99"), r("0.00"))},
			want: [][]string{s("10.50"), s("9.99"), s("0.00"), s("-0.01"), s(nul)},
		},
		{
			name: "merge by ci string then int",
			cols: cols(strCol("s", ci), intCol("i")),
			plan: Plan{Aggs: aggs(AggNone, AggNone), SourceOrder: []Order{{Col: 0}, {Col: 1, Desc: true}}, Limit: -1},
			srcs: []*fakeSource{src(r("a", 1), r("B", 5)), src(r("A", 2), r("b", 1))},
			want: [][]string{s("A", "2"), s("a", "1"), s("B", "5"), s("b", "1")},
		},
		{
			name: "limit and offset while streaming",
			cols: cols(intCol("a")),
			plan: Plan{Aggs: aggs(AggNone), SourceOrder: []Order{{Col: 0}}, Offset: 1, Limit: 2},
			srcs: []*fakeSource{src(r(1), r(3), r(5)), src(r(2), r(4), r(6))},
			want: [][]string{s("2"), s("3")},
		},
		{
			name: "offset beyond the end",
			cols: cols(intCol("a")),
			plan: Plan{Aggs: aggs(AggNone), SourceOrder: []Order{{Col: 0}}, Offset: 10, Limit: 5},
			srcs: []*fakeSource{src(r(1), r(3)), src(r(2))},
			want: nil,
		},
		{
			name: "offset beyond the end with sort",
			cols: cols(intCol("a")),
			plan: Plan{Aggs: aggs(AggNone), OrderBy: []Order{{Col: 0}}, NeedSort: true, Offset: 3, Limit: -1},
			srcs: []*fakeSource{src(r(1), r(3)), src(r(2))},
			want: nil,
		},
		{
			name: "limit 0",
			cols: cols(intCol("a")),
			plan: Plan{Aggs: aggs(AggNone), Limit: 0},
			srcs: []*fakeSource{src(r(1))},
			want: nil,
		},
		{
			name: "need sort by a hidden column, stable, with limit",
			cols: cols(strCol("name", ci), intCol("k")),
			plan: Plan{Aggs: aggs(AggNone, AggNone), Output: []Expr{Col{0}, Col{1}}, Visible: 1,
				OrderBy: []Order{{Col: 1, Desc: true}}, NeedSort: true, Offset: 1, Limit: 3},
			srcs: []*fakeSource{src(r("a", 1), r("b", 3), r("c", 2)), src(r("d", 3), r("e", 2), r("f", nil))},
			want: [][]string{s("d"), s("c"), s("e")},
		},
		{
			name: "need sort without limit",
			cols: cols(strCol("name", ci), intCol("k")),
			plan: Plan{Aggs: aggs(AggNone, AggNone), OrderBy: []Order{{Col: 1}, {Col: 0}}, NeedSort: true, Limit: -1},
			srcs: []*fakeSource{src(r("b", 1), r("a", nil)), src(r("a", 1), r("c", 0))},
			want: [][]string{s("a", nul), s("c", "0"), s("a", "1"), s("b", "1")},
		},
		{
			name: "plain aggregate",
			cols: cols(intCol("cnt"), decCol("sum", 2), intCol("min"), strCol("max", ci), dblCol("fsum"), strCol("gc", ci)),
			plan: Plan{Aggs: []Agg{{Func: AggCount}, {Func: AggSum}, {Func: AggMin}, {Func: AggMax}, {Func: AggSum}, {Func: AggGroupConcat, Sep: ";"}},
				Grouped: true, Limit: -1},
			srcs: []*fakeSource{
				src(r(3, "1.25", 5, "b", "0.1", "x,y")),
				src(r(0, nil, nil, nil, nil, nil)),
				src(r(2, "-0.05", -3, "Z", "0.2", "z")),
			},
			want: [][]string{s("5", "1.20", "-3", "Z", "0.30000000000000004", "x,y;z")},
		},
		{
			name: "plain aggregate over no rows",
			cols: cols(intCol("cnt"), decCol("sum", 2), intCol("min"), intCol("max"), strCol("gc", ci), intCol("x")),
			plan: Plan{Aggs: aggs(AggCount, AggSum, AggMin, AggMax, AggGroupConcat, AggNone), Grouped: true, Limit: -1},
			srcs: []*fakeSource{src(), src()},
			want: [][]string{s("0", nul, nul, nul, nul, nul)},
		},
		{
			name: "plain aggregate over no rows with avg and distinct count",
			cols: cols(decCol("sum", 0), intCol("cnt"), intCol("x"), intCol("cd")),
			plan: Plan{Aggs: aggs(AggSum, AggCount, AggNone, AggNone), Grouped: true, Distinct: intp(2),
				SourceOrder: []Order{{Col: 2}},
				Output:      []Expr{Avg{Sum: 0, Count: 1}, Col{1}, Col{2}, DistinctAgg{Func: DistinctCount}}, Limit: -1},
			srcs: []*fakeSource{src()},
			want: [][]string{s(nul, "0", nul, "0")},
		},
		{
			name: "grouped with group by and no rows",
			cols: cols(intCol("g"), intCol("cnt")),
			plan: Plan{Aggs: aggs(AggNone, AggCount), Grouped: true, GroupBy: []int{0}, SourceOrder: []Order{{Col: 0}}, Limit: -1},
			srcs: []*fakeSource{src()},
			want: nil,
		},
		{
			name: "streaming group by, ci collation groups 'a' and 'A '",
			cols: cols(strCol("g", ci), intCol("cnt"), decCol("sum", 1)),
			plan: Plan{Aggs: aggs(AggNone, AggCount, AggSum), Grouped: true, GroupBy: []int{0},
				SourceOrder: []Order{{Col: 0}}, Limit: -1},
			srcs: []*fakeSource{
				src(r(nil, 1, "1.0"), r("a", 2, "0.5"), r("b", 1, nil)),
				src(r(nil, 2, nil), r("A ", 3, "0.5"), r("c", 1, "9.9")),
			},
			want: [][]string{s(nul, "3", "1.0"), s("a", "5", "1.0"), s("b", "1", nul), s("c", "1", "9.9")},
		},
		{
			name: "streaming group by descending, limit stops",
			cols: cols(intCol("g"), intCol("cnt")),
			plan: Plan{Aggs: aggs(AggNone, AggCount), Grouped: true, GroupBy: []int{0},
				SourceOrder: []Order{{Col: 0, Desc: true}}, Limit: 2},
			srcs: []*fakeSource{src(r(9, 1), r(5, 1), r(1, 1)), src(r(9, 2), r(7, 1))},
			want: [][]string{s("9", "3"), s("7", "1")},
		},
		{
			name: "hash group by in first-seen order, ci and binary",
			cols: cols(strCol("g", ci), typed("b", protocol.TypeVarString), intCol("cnt")),
			plan: Plan{Aggs: aggs(AggNone, AggNone, AggCount), Grouped: true, GroupBy: []int{0, 1}, Limit: -1},
			srcs: []*fakeSource{
				src(r("x", "k", 1), r("Y", "k", 1)),
				src(r("X  ", "k", 2), r("y", "K", 5), r(nil, nil, 1)),
				src(r(nil, nil, 1)),
			},
			want: [][]string{s("x", "k", "3"), s("Y", "k", "1"), s("y", "K", "5"), s(nul, nul, "2")},
		},
		{
			name: "hash group by sorted, with offset and limit",
			cols: cols(intCol("g"), intCol("cnt")),
			plan: Plan{Aggs: aggs(AggNone, AggCount), Grouped: true, GroupBy: []int{0},
				OrderBy: []Order{{Col: 1, Desc: true}, {Col: 0}}, NeedSort: true, Offset: 1, Limit: 2},
			srcs: []*fakeSource{src(r(1, 1), r(2, 5), r(3, 2)), src(r(3, 3), r(4, 1), r(1, 4))},
			want: [][]string{s("2", "5"), s("3", "5")},
		},
		{
			name: "avg scales",
			cols: cols(intCol("g"), decCol("sum_d", 2), intCol("cnt"), decCol("sum_i", 0), dblCol("sum_f")),
			plan: Plan{Aggs: aggs(AggNone, AggSum, AggCount, AggSum, AggSum), Grouped: true, GroupBy: []int{0},
				SourceOrder: []Order{{Col: 0}},
				Output:      []Expr{Col{0}, Avg{Sum: 1, Count: 2}, Avg{Sum: 3, Count: 2}, Avg{Sum: 4, Count: 2}}, Limit: -1},
			srcs: []*fakeSource{
				src(r(1, "1.25", 2, "1", "0.5"), r(2, nil, 0, nil, nil), r(3, "-1.00", 3, "-1", "1")),
				src(r(1, "2.50", 1, "2", "1.5"), r(3, "0.00", 29, "0", "2")),
			},
			want: [][]string{s("1", "1.250000", "1.0000", "0.6666666666666666"), s("2", nul, nul, nul), s("3", "-0.031250", "-0.0313", "0.09375")},
		},
		{
			name: "having with NULLs and hidden columns",
			cols: cols(intCol("g"), decCol("s", 0), intCol("cnt")),
			plan: Plan{Aggs: aggs(AggNone, AggSum, AggCount), Grouped: true, GroupBy: []int{0},
				SourceOrder: []Order{{Col: 0}}, Output: []Expr{Col{0}, Col{1}, Col{2}}, Visible: 2,
				Having: Bin{Op: OpOr, L: Bin{Op: OpGT, L: Col{1}, R: Lit{V: int64(10)}}, R: Bin{Op: OpGE, L: Col{2}, R: Lit{V: int64(3)}}},
				Limit:  -1},
			srcs: []*fakeSource{
				src(r(1, "5", 1), r(2, nil, 2), r(3, nil, 1), r(4, "20", 1)),
				src(r(1, "4", 1), r(2, nil, 1), r(5, "1", 1)),
			},
			// g=1: 9 > 10 false, 2 >= 3 false; g=2: NULL > 10 NULL OR 3 >= 3 true;
			// g=3: NULL OR false = NULL (dropped); g=4: true; g=5: false.
			want: [][]string{s("2", nul), s("4", "20")},
		},
		{
			name: "having is null",
			cols: cols(intCol("g"), intCol("m")),
			plan: Plan{Aggs: aggs(AggNone, AggMax), Grouped: true, GroupBy: []int{0},
				Having: IsNull{E: Col{1}}, Limit: -1},
			srcs: []*fakeSource{src(r(1, nil), r(2, 3)), src(r(1, nil), r(3, nil))},
			want: [][]string{s("1", nul), s("3", nul)},
		},
		{
			name: "select distinct collation-aware",
			cols: cols(strCol("s", ci), intCol("k")),
			plan: Plan{Aggs: aggs(AggNone, AggNone), Output: []Expr{Col{0}, Col{1}}, Visible: 1, DistinctRows: true, Limit: -1},
			srcs: []*fakeSource{src(r("a", 1), r("b", 2)), src(r("A ", 3), r(nil, 4), r("c", 5), r(nil, 6))},
			want: [][]string{s("a"), s("b"), s(nul), s("c")},
		},
		{
			name: "select distinct sorted with limit",
			cols: cols(intCol("a")),
			plan: Plan{Aggs: aggs(AggNone), DistinctRows: true, OrderBy: []Order{{Col: 0, Desc: true}}, NeedSort: true, Limit: 2},
			srcs: []*fakeSource{src(r(1), r(3), r(3)), src(r(2), r(3), r(1))},
			want: [][]string{s("3"), s("2")},
		},
		{
			name: "distinct aggregates streaming",
			cols: cols(strCol("g", ci), intCol("x"), intCol("cnt")),
			plan: Plan{Aggs: aggs(AggNone, AggNone, AggCount), Grouped: true, GroupBy: []int{0}, Distinct: intp(1),
				SourceOrder: []Order{{Col: 0}, {Col: 1}},
				Output: []Expr{Col{0}, DistinctAgg{Func: DistinctCount}, DistinctAgg{Func: DistinctSum},
					DistinctAgg{Func: DistinctAvg}, DistinctAgg{Func: DistinctGroupConcat, Sep: "|"}, Col{2}},
				Limit: -1},
			srcs: []*fakeSource{
				src(r("a", nil, 1), r("a", 1, 2), r("a", 2, 1), r("b", 5, 1)),
				src(r("A", 1, 1), r("a", 3, 1), r("c", nil, 4)),
			},
			want: [][]string{s("a", "3", "6", "2.0000", "1|2|3", "6"), s("b", "1", "5", "5.0000", "5", "1"), s("c", "0", nul, nul, nul, "4")},
		},
		{
			name: "distinct aggregates hashed",
			cols: cols(strCol("g", ci), strCol("x", ci), intCol("cnt")),
			plan: Plan{Aggs: aggs(AggNone, AggNone, AggCount), Grouped: true, GroupBy: []int{0}, Distinct: intp(1),
				Output: []Expr{Col{0}, DistinctAgg{Func: DistinctCount}, DistinctAgg{Func: DistinctGroupConcat, Sep: ","}, Col{2}},
				Limit:  -1},
			srcs: []*fakeSource{
				src(r("a", "x", 1), r("b", "y", 1), r("a", "y", 1)),
				src(r("a", "X ", 2), r("b", nil, 3), r("A", "z", 1)),
			},
			want: [][]string{s("a", "3", "x,y,z", "5"), s("b", "1", "y", "4")},
		},
		{
			name: "count distinct without group by, streaming by x",
			cols: cols(decCol("x", 1)),
			plan: Plan{Aggs: aggs(AggNone), Grouped: true, Distinct: intp(0), SourceOrder: []Order{{Col: 0}},
				Output: []Expr{DistinctAgg{Func: DistinctCount}, DistinctAgg{Func: DistinctSum}, DistinctAgg{Func: DistinctAvg}}, Limit: -1},
			srcs: []*fakeSource{src(r("1.0"), r("2.5")), src(r("1.0"), r("2.5"), r("3.0")), src(r(nil))},
			want: [][]string{s("3", "6.5", "2.16667")},
		},
		{
			name: "output expressions",
			cols: cols(intCol("a"), decCol("d", 2), dblCol("f"), strCol("s", ci)),
			plan: Plan{Aggs: aggs(AggNone, AggNone, AggNone, AggNone),
				Output: []Expr{
					Bin{Op: OpAdd, L: Col{0}, R: Lit{V: int64(1)}},
					Bin{Op: OpMul, L: Col{1}, R: Col{1}},
					Bin{Op: OpDiv, L: Col{1}, R: Lit{V: int64(3)}},
					Bin{Op: OpDiv, L: Col{0}, R: Lit{V: int64(0)}},
					Bin{Op: OpAdd, L: Col{2}, R: Lit{V: "0.25", IsDecimal: true}},
					Bin{Op: OpGT, L: Col{3}, R: Lit{V: int64(9)}},
					Bin{Op: OpEQ, L: Col{3}, R: Lit{V: "ABC "}},
					Neg{E: Col{1}},
					Not{E: Col{0}},
					Bin{Op: OpIntDiv, L: Col{1}, R: Lit{V: int64(2)}},
					Bin{Op: OpMod, L: Col{1}, R: Lit{V: int64(2)}},
				}, Limit: -1},
			srcs: []*fakeSource{src(r(2, "1.25", "0.5", "abc"), r(nil, "-7.50", nil, "10"))},
			want: [][]string{
				s("3", "1.5625", "0.416667", nul, "0.75", "0", "1", "-1.25", "0", "0", "1.25"),
				s(nul, "56.2500", "-2.500000", nul, nul, "1", "0", "7.50", nul, "-3", "-1.50"),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mustRun(t, &tc.plan, tc.cols, tc.srcs...)
			checkRows(t, got, tc.want...)
		})
	}
}

func TestLimitStopsReading(t *testing.T) {
	a := src(r(1), r(3), r(5), r(7))
	b := src(r(2), r(4), r(6), r(8))
	p := &Plan{Aggs: aggs(AggNone), SourceOrder: []Order{{Col: 0}}, Limit: 3}
	got := mustRun(t, p, cols(intCol("a")), a, b)
	checkRows(t, got, s("1"), s("2"), s("3"))
	if a.i == len(a.rows) || b.i == len(b.rows) {
		t.Errorf("sources read to the end: %d/%d, %d/%d", a.i, len(a.rows), b.i, len(b.rows))
	}
	// Sequential: the second source is never touched.
	c, d := src(r(1), r(2), r(3)), src(r(4))
	p = &Plan{Aggs: aggs(AggNone), Limit: 2}
	checkRows(t, mustRun(t, p, cols(intCol("a")), c, d), s("1"), s("2"))
	if d.reads != 0 || c.i != 2 {
		t.Errorf("reads: c %d, d %d", c.i, d.reads)
	}
	// LIMIT 0 reads nothing.
	e := src(r(1))
	p = &Plan{Aggs: aggs(AggNone), Limit: 0}
	checkRows(t, mustRun(t, p, cols(intCol("a")), e))
	if e.reads != 0 {
		t.Errorf("LIMIT 0 read %d rows", e.reads)
	}
}

func TestBounds(t *testing.T) {
	many := func() []*fakeSource {
		return []*fakeSource{src(r(1, 1), r(2, 1), r(3, 1)), src(r(4, 1), r(5, 1))}
	}
	tests := []struct {
		name string
		plan Plan
	}{
		{"hash groups rows", Plan{Aggs: aggs(AggNone, AggCount), Grouped: true, GroupBy: []int{0}, MaxRows: 3, Limit: -1}},
		{"hash groups bytes", Plan{Aggs: aggs(AggNone, AggCount), Grouped: true, GroupBy: []int{0}, MaxBytes: 200, Limit: -1}},
		{"sort rows", Plan{Aggs: aggs(AggNone, AggNone), OrderBy: []Order{{Col: 0}}, NeedSort: true, MaxRows: 4, Limit: -1}},
		{"sort with limit", Plan{Aggs: aggs(AggNone, AggNone), OrderBy: []Order{{Col: 0}}, NeedSort: true, MaxRows: 2, Limit: 3}},
		{"distinct rows", Plan{Aggs: aggs(AggNone, AggNone), DistinctRows: true, MaxRows: 2, Limit: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runPlan(t, &tc.plan, cols(intCol("a"), intCol("b")), many()...)
			var pe *protocol.Error
			if !errors.As(err, &pe) || pe.Code != ErrTooBig || pe.State != "HY001" {
				t.Fatalf("err = %v, want ErrTooBig", err)
			}
		})
	}
	// Within the bounds it works, and streaming needs no room.
	p := Plan{Aggs: aggs(AggNone, AggNone), OrderBy: []Order{{Col: 0}}, NeedSort: true, MaxRows: 5, Limit: -1}
	if _, err := runPlan(t, &p, cols(intCol("a"), intCol("b")), many()...); err != nil {
		t.Fatal(err)
	}
	p = Plan{Aggs: aggs(AggNone, AggNone), SourceOrder: []Order{{Col: 0}}, MaxRows: 1, MaxBytes: 1, Limit: -1}
	if _, err := runPlan(t, &p, cols(intCol("a"), intCol("b")), many()...); err != nil {
		t.Fatal(err)
	}
	// A top-N sort holds only N rows.
	p = Plan{Aggs: aggs(AggNone, AggNone), OrderBy: []Order{{Col: 0, Desc: true}}, NeedSort: true, MaxRows: 2, Limit: 2}
	got, err := runPlan(t, &p, cols(intCol("a"), intCol("b")), many()...)
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, got, s("5", "1"), s("4", "1"))
}

func TestMalformed(t *testing.T) {
	cs := cols(intCol("a"), intCol("b"))
	bad := [][]byte{
		enc(1),               // too few columns
		enc(1, 2, 3),         // too many
		{0x05, '1'},          // length beyond the row
		{0xfc, 0x01},         // short header
		{0xff, 0x00},         // not a length
		append(enc(1), 0x01), // truncated second column
	}
	for _, p := range []Plan{
		{Aggs: aggs(AggNone, AggNone), Limit: -1},
		{Aggs: aggs(AggNone, AggNone), SourceOrder: []Order{{Col: 0}}, Limit: -1},
		{Aggs: aggs(AggNone, AggCount), Grouped: true, Limit: -1},
	} {
		for _, row := range bad {
			s := &fakeSource{rows: [][]byte{enc(1, 2), row}}
			_, err := runPlan(t, &p, cs, s)
			if errCode(err) != 2027 {
				t.Errorf("row %x: err = %v, want 2027", row, err)
			}
		}
	}
	// A COUNT partial that is not a number.
	p := Plan{Aggs: aggs(AggNone, AggCount), Grouped: true, Limit: -1}
	if _, err := runPlan(t, &p, cs, src(r(1, "x"))); errCode(err) != 2027 {
		t.Errorf("bad count: %v", err)
	}
}

func TestErrorsPassThrough(t *testing.T) {
	boom := errors.New("boom")
	s := src(r(1))
	s.err = boom
	p := &Plan{Aggs: aggs(AggNone), SourceOrder: []Order{{Col: 0}}, Limit: -1}
	if _, err := runPlan(t, p, cols(intCol("a")), s); err != boom {
		t.Errorf("source error: %v", err)
	}
	stop := errors.New("client gone")
	err := Run(&Plan{Aggs: aggs(AggNone), Limit: -1}, cols(intCol("a")), []Source{src(r(1), r(2))},
		func([]byte) error { return stop })
	if err != stop {
		t.Errorf("emit error: %v", err)
	}
}

func TestBadPlans(t *testing.T) {
	cs := cols(intCol("a"), intCol("b"))
	plans := []*Plan{
		nil,
		{Aggs: aggs(AggNone)},
		{Aggs: aggs(AggNone, AggNone), SourceOrder: []Order{{Col: 2}}},
		{Aggs: aggs(AggNone, AggNone), GroupBy: []int{-1}, Grouped: true},
		{Aggs: aggs(AggNone, AggNone), Distinct: intp(5)},
		{Aggs: aggs(AggNone, AggNone), Output: []Expr{Col{7}}},
		{Aggs: aggs(AggNone, AggNone), Output: []Expr{nil}},
		{Aggs: aggs(AggNone, AggNone), Output: []Expr{Avg{Sum: 0, Count: 9}}},
		{Aggs: aggs(AggNone, AggNone), Output: []Expr{DistinctAgg{}}},
		{Aggs: aggs(AggNone, AggNone), Output: []Expr{Col{0}}, Having: Col{1}},
		{Aggs: aggs(AggNone, AggNone), OrderBy: []Order{{Col: 3}}, NeedSort: true},
		{Aggs: aggs(AggNone, AggNone), Output: []Expr{Bin{Op: 99, L: Col{0}, R: Col{1}}}},
		{Aggs: aggs(AggNone, 42)},
	}
	for i, p := range plans {
		_, err := runPlan(t, p, cs, src(r(1, 2)))
		if errCode(err) != protocol.ErrUnknown {
			t.Errorf("plan %d: err = %v", i, err)
		}
		_ = OutputColumns(p, cs) // must not panic
	}
}

func TestNilSources(t *testing.T) {
	for _, order := range [][]Order{nil, {{Col: 0}}} {
		p := &Plan{Aggs: aggs(AggNone), SourceOrder: order, Limit: -1}
		var out [][]string
		err := Run(p, cols(intCol("a")), []Source{nil, src(r(1)), nil}, func(row []byte) error {
			out = append(out, decodeRow(t, row))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		checkRows(t, out, s("1"))
	}
}

func TestPointerExprs(t *testing.T) {
	p := &Plan{Aggs: aggs(AggNone, AggNone),
		Output: []Expr{&Col{1}, &Bin{Op: OpAdd, L: &Col{0}, R: &Lit{V: int64(1)}}, &Neg{E: Col{0}}, &Not{E: Col{0}}, &IsNull{E: Col{0}, Not: true}},
		Limit:  -1}
	got := mustRun(t, p, cols(intCol("a"), intCol("b")), src(r(1, 2)))
	checkRows(t, got, s("2", "2", "-1", "0", "1"))
}

func TestNilOutputAndVisible(t *testing.T) {
	p := &Plan{Aggs: aggs(AggNone, AggNone), Visible: 0, Limit: -1}
	checkRows(t, mustRun(t, p, cols(intCol("a"), intCol("b")), src(r(1, 2))), s("1", "2"))
	p = &Plan{Aggs: aggs(AggNone, AggNone), Visible: 1, Limit: -1}
	checkRows(t, mustRun(t, p, cols(intCol("a"), intCol("b")), src(r(1, 2))), s("1"))
}

func TestOverflowInOutput(t *testing.T) {
	p := &Plan{Aggs: aggs(AggNone), Output: []Expr{Bin{Op: OpAdd, L: Col{0}, R: Lit{V: int64(1)}}}, Limit: -1}
	_, err := runPlan(t, p, cols(intCol("a")), src(r("9223372036854775807")))
	var pe *protocol.Error
	if !errors.As(err, &pe) || pe.Code != 1690 || pe.State != "22003" {
		t.Fatalf("err = %v", err)
	}
	// COUNT partials that overflow.
	p = &Plan{Aggs: aggs(AggCount), Grouped: true, Limit: -1}
	_, err = runPlan(t, p, cols(intCol("c")), src(r("9223372036854775807")), src(r(1)))
	if errCode(err) != 1690 {
		t.Fatalf("count overflow: %v", err)
	}
}

func TestBigDecimalSum(t *testing.T) {
	p := &Plan{Aggs: aggs(AggSum), Grouped: true, Limit: -1}
	got := mustRun(t, p, cols(decCol("s", 3)),
		src(r("99999999999999999.999")), src(r("99999999999999999.999")), src(r("-0.001")))
	checkRows(t, got, s("199999999999999999.997"))
	// Integer column sums stay integers.
	got = mustRun(t, p, cols(intCol("s")), src(r("9223372036854775807")), src(r("9223372036854775807")))
	checkRows(t, got, s("18446744073709551614"))
}
