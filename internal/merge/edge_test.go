package merge

import (
	"strings"
	"testing"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

func TestLongValues(t *testing.T) {
	long := strings.Repeat("x", 300)
	huge := strings.Repeat("y", 70000)
	cs := cols(intCol("g"), strCol("s", 45), strCol("gc", 45))
	p := &Plan{Aggs: []Agg{{}, {Func: AggMax}, {Func: AggGroupConcat, Sep: "+"}}, Grouped: true, GroupBy: []int{0},
		SourceOrder: []Order{{Col: 0}},
		Output:      []Expr{Col{0}, Col{1}, Col{2}, Bin{Op: OpEQ, L: Col{1}, R: Lit{V: long}}}, Limit: -1}
	got := mustRun(t, p, cs, src(r(1, long, huge)), src(r(1, "a", long)))
	checkRows(t, got, s("1", long, huge+"+"+long, "1"))
	// A long computed value goes behind a 3-byte length header.
	p = &Plan{Aggs: make([]Agg, 3), Output: []Expr{Col{2}, DistinctAgg{Func: DistinctGroupConcat, Sep: ","}}, Distinct: intp(1), Grouped: true, Limit: -1}
	got = mustRun(t, p, cs, src(r(1, long, "z")), src(r(2, huge, "z")))
	checkRows(t, got, s("z", long+","+huge))
}

func TestMergeByOtherTypes(t *testing.T) {
	tests := []struct {
		name string
		col  protocol.ColumnDef
		a, b []any
		want []string
	}{
		{"double", dblCol("f"), []any{nil, "-1e20", "0.5", "1e20"}, []any{"-0", "0.25", "3"}, []string{nul, "-1e20", "-0", "0.25", "0.5", "3", "1e20"}},
		{"time", typed("t", protocol.TypeTime), []any{"-100:00:00", "-00:00:01", "99:00:00"}, []any{"-02:00:00", "00:00:00", "100:00:00"},
			[]string{"-100:00:00", "-02:00:00", "-00:00:01", "00:00:00", "99:00:00", "100:00:00"}},
		{"unsigned beyond int64", uintCol("u"), []any{"1", "9223372036854775808"}, []any{"18446744073709551615"}, []string{"1", "9223372036854775808", "18446744073709551615"}},
		{"decimal with wrong scale", decCol("d", 2), []any{"1.5", "2.25"}, []any{"1.75", "100"}, []string{"1.5", "1.75", "2.25", "100"}},
		{"datetime", typed("dt", protocol.TypeDateTime), []any{"2020-01-01 00:00:00", "2021-06-01 12:00:00"}, []any{"2020-12-31 23:59:59"},
			[]string{"2020-01-01 00:00:00", "2020-12-31 23:59:59", "2021-06-01 12:00:00"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mk := func(vals []any) *fakeSource {
				s := &fakeSource{}
				for _, v := range vals {
					s.rows = append(s.rows, enc(v))
				}
				return s
			}
			for _, desc := range []bool{false, true} {
				a, b := tc.a, tc.b
				want := tc.want
				if desc {
					a, b = reversed(a), reversed(b)
					want = reversedS(want)
				}
				p := &Plan{Aggs: make([]Agg, 1), SourceOrder: []Order{{Col: 0, Desc: desc}}, Limit: -1}
				got := mustRun(t, p, cols(tc.col), mk(a), mk(b))
				var flat []string
				for _, g := range got {
					flat = append(flat, g[0])
				}
				if strings.Join(flat, "|") != strings.Join(want, "|") {
					t.Errorf("desc=%v: got %q, want %q", desc, flat, want)
				}
				// The same through a sort.
				p = &Plan{Aggs: make([]Agg, 1), OrderBy: []Order{{Col: 0, Desc: desc}}, NeedSort: true, Limit: -1}
				got = mustRun(t, p, cols(tc.col), mk(b), mk(a))
				flat = flat[:0]
				for _, g := range got {
					flat = append(flat, g[0])
				}
				if strings.Join(flat, "|") != strings.Join(want, "|") {
					t.Errorf("sorted desc=%v: got %q, want %q", desc, flat, want)
				}
			}
		})
	}
}

func reversed(v []any) []any {
	out := make([]any, len(v))
	for i := range v {
		out[len(v)-1-i] = v[i]
	}
	return out
}

func reversedS(v []string) []string {
	out := make([]string, len(v))
	for i := range v {
		out[len(v)-1-i] = v[i]
	}
	return out
}

func TestEvalMore(t *testing.T) {
	row := []any{-3, "5", "0.00", "-0.5", "7x", "\x01", "00:00:00", "2020-01-01 00:00:00"}
	tests := []struct {
		name string
		e    Expr
		want string
	}{
		{"unsigned > int", bin(OpGT, Col{1}, Col{0}), "1"},
		{"int < unsigned", bin(OpLT, Col{0}, Col{1}), "1"},
		{"unsigned = int", bin(OpEQ, Col{1}, lit(int64(5))), "1"},
		{"unsigned vs unsigned", bin(OpLT, Col{1}, lit(uint64(6))), "1"},
		{"int vs unsigned equal", bin(OpEQ, lit(int64(5)), Col{1}), "1"},
		{"int + unsigned is unsigned", bin(OpAdd, Col{0}, Col{1}), "2"},
		{"unsigned mod", bin(OpMod, Col{1}, lit(int64(3))), "2"},
		{"unsigned div", bin(OpIntDiv, Col{1}, lit(int64(2))), "2"},
		{"decimal zero is false", Not{E: Col{2}}, "1"},
		{"double truth", bin(OpAnd, Col{3}, lit(int64(1))), "1"},
		{"string truth", bin(OpAnd, Col{4}, lit(int64(1))), "1"},
		{"string truth zero", Not{E: lit("abc")}, "1"},
		{"uint truth", Not{E: Col{1}}, "0"},
		{"string vs int column", bin(OpEQ, Col{4}, lit(int64(7))), "1"},
		{"string vs decimal", bin(OpLT, Col{4}, declit("7.5")), "1"},
		{"decimal vs double", bin(OpLT, Col{2}, lit(0.1)), "1"},
		{"decimal vs unsigned", bin(OpLT, Col{2}, Col{1}), "1"},
		{"temporal in arithmetic", bin(OpAdd, Col{7}, lit(int64(1))), "20200101000001"},
		{"time as number", bin(OpAdd, Col{6}, lit(int64(1))), "1"},
		{"temporal truth", Not{E: Col{6}}, "1"},
		{"temporal vs double", bin(OpGT, Col{7}, lit(2.0e13)), "1"},
		{"time vs date", bin(OpNE, Col{6}, Col{7}), "1"},
		{"neg string", Neg{E: Col{4}}, "-7"},
		{"neg unsigned", Neg{E: Col{1}}, "-5"},
		{"neg temporal", Neg{E: Col{7}}, "-20200101000000"},
		{"null literal arithmetic", bin(OpAdd, lit(nil), lit(int64(1))), nul},
		{"bool literal", lit(true), "1"},
		{"int literal", lit(3), "3"},
		{"bytes literal", lit([]byte("b")), "b"},
		{"unknown literal", lit(struct{}{}), nul},
		{"bad decimal literal", declit("1e3"), "1000"},
		{"double div by zero", bin(OpDiv, lit(1.5), lit(0.0)), nul},
		{"double int div by zero", bin(OpIntDiv, lit(1.5), lit(0.0)), nul},
		{"double mod by zero", bin(OpMod, lit(1.5), lit(0.0)), nul},
		{"decimal mod by zero", bin(OpMod, declit("1.5"), declit("0")), nul},
		{"decimal int div by zero", bin(OpIntDiv, declit("1.5"), declit("0")), nul},
		{"double sub", bin(OpSub, lit(1.5), lit(int64(1))), "0.5"},
		{"double mul", bin(OpMul, lit(1.5), lit(int64(2))), "3"},
		{"decimal sub", bin(OpSub, declit("1.5"), lit(int64(2))), "-0.5"},
		{"big decimal div", bin(OpDiv, declit("123456789012345678901234567890"), declit("0.001")), "123456789012345678901234567890000.0000"},
		{"decimal div by big", bin(OpDiv, lit(int64(1)), declit("123456789012345678901234567890")), "0.0000"},
		{"div by small scale", bin(OpDiv, declit("1.5"), declit("0.0000000000000000001")), "15000000000000000000.00000"},
		{"int * int negative", bin(OpMul, Col{0}, lit(int64(3))), "-9"},
		{"sub to zero", bin(OpSub, Col{0}, lit(int64(-3))), "0"},
		{"add zero", bin(OpAdd, Col{0}, lit(int64(0))), "-3"},
		{"binary string compare", bin(OpLT, Col{5}, lit("\x02")), "1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := evalOne(t, tc.e, row)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDecodeOtherTypes(t *testing.T) {
	cs := cols(typed("bit", protocol.TypeBit), typed("y", protocol.TypeYear), intCol("bad"), uintCol("ubad"), decCol("dbad", 1), typed("n", protocol.TypeNull))
	p := &Plan{Aggs: make([]Agg, len(cs)), Output: []Expr{
		bin(OpAdd, Col{0}, lit(int64(0))),
		bin(OpAdd, Col{1}, lit(int64(1))),
		bin(OpAdd, Col{2}, lit(int64(1))),
		bin(OpAdd, Col{3}, lit(int64(1))),
		bin(OpAdd, Col{4}, lit(int64(1))),
		IsNull{E: Col{5}},
	}, Limit: -1}
	got := mustRun(t, p, cs, src(r("\x01\x00", "1999", "12345678901234567890", "-1", "x", "y")))
	// A BIGINT column whose text overflows is read as a decimal; garbage as a double.
	checkRows(t, got, s("256", "2000", "12345678901234567891", "0", "1", "1"))
}

func TestStringOutputColumn(t *testing.T) {
	cs := cols(strCol("label", 8), intCol("i"))
	p := &Plan{Aggs: make([]Agg, 2), Output: []Expr{Lit{V: "x"}, Lit{V: nil}}}
	defs := OutputColumns(p, cs)
	if defs[0].Charset != 8 || defs[0].Type != protocol.TypeVarString || defs[1].Type != protocol.TypeNull {
		t.Errorf("%+v", defs)
	}
}

func TestHavingStringAgainstColumn(t *testing.T) {
	cs := cols(strCol("s", 45), intCol("n"))
	p := &Plan{Aggs: aggs(AggNone, AggCount), Grouped: true, GroupBy: []int{0},
		Having: bin(OpAnd, bin(OpGE, Col{0}, lit("B")), bin(OpNE, Col{1}, lit("2"))), Limit: -1}
	got := mustRun(t, p, cs, src(r("a", 1), r("b", 1), r("c", 5)), src(r("B", 1), r("c", 1)))
	checkRows(t, got, s("c", "6"))
}
