package merge

import (
	"testing"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// TestScalarOverAggregates evaluates expressions over merged aggregates
// (issue 10 items 3 and 11). Every expected value is what MariaDB 10.11
// answers for the same data in one table. Physical columns: 0 SUM(i) over
// an INT column (DECIMAL(32,0)), 1 COUNT(i), 2 SUM(d) over DECIMAL(8,2),
// 3 COUNT(d), 4 MIN(s), 5 MAX(i) (INT), 6 SUM(f) over DOUBLE.
func TestScalarOverAggregates(t *testing.T) {
	ci := uint16(45)
	physical := cols(decCol("si", 0), intCol("ci"), decCol("sd", 2), intCol("cd"), strCol("mins", ci), intCol("maxi"), dblCol("sf"))
	// Two shards; together: SUM(i) = 12605, COUNT(i) = 60, SUM(d) = 11236.91,
	// COUNT(d) = 54, MIN(s) = '', MAX(i) = 466, SUM(f) = 136.
	shards := func() []*fakeSource {
		return []*fakeSource{
			src(r("12000", 40, "11000.00", 30, "a", 466, "100.5")),
			src(r("605", 20, "236.91", 24, "", 12, "35.5")),
		}
	}
	sumAggs := aggs(AggSum, AggCount, AggSum, AggCount, AggMin, AggMax, AggSum)
	avgI := Avg{Sum: 0, Count: 1}
	avgD := Avg{Sum: 2, Count: 3}
	tests := []struct {
		name string
		e    Expr
		want string
	}{
		// AVG(i) = 210.083333333 inside (9 decimals, truncated), 210.0833 shown.
		{"AVG(i) * 2", Bin{Op: OpMul, L: avgI, R: Lit{V: int64(2)}}, "420.1667"},
		{"AVG(i) + 1", Bin{Op: OpAdd, L: avgI, R: Lit{V: int64(1)}}, "211.0833"},
		{"AVG(i) / 2", Bin{Op: OpDiv, L: avgI, R: Lit{V: int64(2)}}, "105.04166667"},
		{"AVG(d) * 1e21 shows the inside digits", Bin{Op: OpMul, L: avgD, R: Lit{V: "1000000000000000000000", IsDecimal: true}}, "208090925925000000000000.000000"},
		{"IFNULL(SUM(i), 0)", Func{Name: "IFNULL", Args: []Expr{Col{0}, Lit{V: int64(0)}}}, "12605"},
		{"IFNULL(AVG(i), 'x') prints AVG's scale", Func{Name: "IFNULL", Args: []Expr{avgI, Lit{V: "x"}}}, "210.0833"},
		{"COALESCE(NULL, MAX(i))", Func{Name: "COALESCE", Args: []Expr{Lit{}, Col{5}}}, "466"},
		{"NULLIF(COUNT(i), 60)", Func{Name: "NULLIF", Args: []Expr{Col{1}, Lit{V: int64(60)}}}, nul},
		{"NULLIF(COUNT(i), 0)", Func{Name: "NULLIF", Args: []Expr{Col{1}, Lit{V: int64(0)}}}, "60"},
		{"ROUND(AVG(i), 2)", Func{Name: "ROUND", Args: []Expr{avgI, Lit{V: int64(2)}}}, "210.08"},
		{"ROUND(AVG(d), -1)", Func{Name: "ROUND", Args: []Expr{avgD, Neg{E: Lit{V: int64(1)}}}}, "210"},
		{"ROUND(MAX(i), -1)", Func{Name: "ROUND", Args: []Expr{Col{5}, Neg{E: Lit{V: int64(1)}}}}, "470"},
		{"ROUND(-SUM(d), 1)", Func{Name: "ROUND", Args: []Expr{Neg{E: Col{2}}, Lit{V: int64(1)}}}, "-11236.9"},
		{"ABS(-AVG(i))", Func{Name: "ABS", Args: []Expr{Neg{E: avgI}}}, "210.0833"},
		{"CONCAT(MIN(s), '-', AVG(i), '-', SUM(d))", Func{Name: "CONCAT", Args: []Expr{Col{4}, Lit{V: "-"}, avgI, Lit{V: "-"}, Col{2}}}, "-210.0833-11236.91"},
		{"CONCAT with NULL", Func{Name: "CONCAT", Args: []Expr{Col{4}, Lit{}}}, nul},
		{"IF(COUNT(i) > 50, 'big', 'small')", Func{Name: "IF", Args: []Expr{Bin{Op: OpGT, L: Col{1}, R: Lit{V: int64(50)}}, Lit{V: "big"}, Lit{V: "small"}}}, "big"},
		{"CASE WHEN COUNT(i) > 100 THEN 1 WHEN COUNT(d) > 50 THEN 2 END", Case{When: []Expr{Bin{Op: OpGT, L: Col{1}, R: Lit{V: int64(100)}}, Bin{Op: OpGT, L: Col{3}, R: Lit{V: int64(50)}}}, Then: []Expr{Lit{V: int64(1)}, Lit{V: int64(2)}}}, "2"},
		{"CASE COUNT(i) WHEN 60 THEN 'sixty' ELSE 'other' END", Case{Value: Col{1}, When: []Expr{Lit{V: int64(60)}}, Then: []Expr{Lit{V: "sixty"}}, Else: Lit{V: "other"}}, "sixty"},
		{"CASE without a match and without ELSE", Case{When: []Expr{Lit{V: int64(0)}}, Then: []Expr{Lit{V: int64(1)}}}, nul},
	}
	for _, tc := range tests {
		p := &Plan{Aggs: sumAggs, Grouped: true, Output: []Expr{tc.e}, Visible: 1, Limit: -1}
		got := mustRun(t, p, physical, shards()...)
		if len(got) != 1 || got[0][0] != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestScalarRefusals: what the evaluator cannot reproduce exactly is a
// 1235 error, never a guess.
func TestScalarRefusals(t *testing.T) {
	physical := cols(dblCol("f"), typed("dt", protocol.TypeDateTime), intCol("n"))
	for _, e := range []Expr{
		Func{Name: "ROUND", Args: []Expr{Col{0}, Lit{V: int64(1)}}},
		Func{Name: "ROUND", Args: []Expr{Col{2}, Col{2}}},
		Func{Name: "CONCAT", Args: []Expr{Col{0}}},
		Func{Name: "ABS", Args: []Expr{Col{1}}},
		Func{Name: "SQRT", Args: []Expr{Col{2}}},
		Bin{Op: OpSub, L: Avg{Sum: 2, Count: 2}, R: Col{0}}, // AVG(int) - double
		Bin{Op: OpLT, L: Avg{Sum: 2, Count: 2}, R: Lit{V: 1.5}},
	} {
		p := &Plan{Aggs: aggs(AggMax, AggMax, AggSum), Grouped: true, Output: []Expr{e}, Visible: 1, Limit: -1}
		_, err := runPlan(t, p, physical, src(r("1.5", "2023-01-01 00:00:00", 3)))
		if errCode(err) != protocol.ErrNotSupportedYet {
			t.Errorf("%#v: got %v, want error 1235", e, err)
		}
	}
}

// TestAsColumnTakesThePhysicalType: an expression item is typed by its
// physical column (the shards evaluate the same expression).
func TestAsColumnTakesThePhysicalType(t *testing.T) {
	physical := cols(decCol("avg", 4), intCol("c"), decCol("s", 0))
	physical[0].Length = 16
	p := &Plan{Aggs: aggs(AggNone, AggCount, AggSum), Grouped: true, Output: []Expr{AsColumn{E: Avg{Sum: 2, Count: 1}, Col: 0}}, Visible: 1, Limit: -1}
	defs := OutputColumns(p, physical)
	if defs[0].Type != protocol.TypeNewDecimal || defs[0].Decimals != 4 || defs[0].Length != 16 {
		t.Fatalf("definition %+v", defs[0])
	}
	got := mustRun(t, p, physical, src(r("9.9", 2, "10")), src(r("1.1", 1, "1")))
	if got[0][0] != "3.6667" {
		t.Fatalf("AVG: %q", got)
	}
}

// TestOtherDivPrecisionRefused: a physical AVG with other than 4 more
// decimals means the session changed div_precision_increment, which the
// evaluator does not follow: 1235, not a differently rounded answer.
func TestOtherDivPrecisionRefused(t *testing.T) {
	physical := cols(decCol("avg", 6), intCol("c"), decCol("s", 0))
	p := &Plan{Aggs: aggs(AggNone, AggCount, AggSum), Grouped: true, Output: []Expr{AsColumn{E: Avg{Sum: 2, Count: 1}, Col: 0}}, Visible: 1, Limit: -1}
	if _, err := runPlan(t, p, physical, src(r("1.000000", 1, "1"))); errCode(err) != protocol.ErrNotSupportedYet {
		t.Fatalf("got %v, want error 1235", err)
	}
}

// TestDatetimeComparedWithInteger: an integer compared with a DATE or
// DATETIME is a date (YYYYMMDD, YYMMDD, YYYYMMDDhhmmss, YYMMDDhhmmss), as in
// MariaDB (SELECT TIMESTAMP'2023-06-08 00:00:00' = 20230608 is 1).
func TestDatetimeComparedWithInteger(t *testing.T) {
	dt := func(s string) val { return val{k: vTemporal, s: []byte(s)} }
	tests := []struct {
		a    val
		b    int64
		want int
	}{
		{dt("2023-05-23 10:30:00"), 20230608, -1},
		{dt("2023-06-08 00:00:00"), 20230608, 0},
		{dt("2023-06-08"), 230608, 0},
		{dt("2023-06-08"), 20230608000000, 0},
		{dt("2023-06-08"), 20230608000001, -1},
		{dt("1999-06-08 01:02:03"), 990608010203, 0},
		{dt("2023-06-09 00:00:01"), 20230608, 1},
	}
	for _, tc := range tests {
		if got := compareVals(tc.a, intVal(tc.b)); got != tc.want {
			t.Errorf("%s vs %d: %d, want %d", tc.a.s, tc.b, got, tc.want)
		}
		if got := compareVals(intVal(tc.b), tc.a); got != -tc.want {
			t.Errorf("%d vs %s: %d, want %d", tc.b, tc.a.s, got, -tc.want)
		}
	}
}
