package merge

import (
	"math"
	"testing"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// evalOne evaluates e as the only output over one row of columns a (BIGINT),
// u (BIGINT UNSIGNED), d (DECIMAL(10,2)), f (DOUBLE), s (ci string),
// b (binary string), t (TIME), dt (DATETIME).
func evalOne(t *testing.T, e Expr, row []any) (string, error) {
	t.Helper()
	cs := cols(intCol("a"), uintCol("u"), decCol("d", 2), dblCol("f"), strCol("s", 45), typed("b", protocol.TypeVarString),
		typed("t", protocol.TypeTime), typed("dt", protocol.TypeDateTime))
	p := &Plan{Aggs: make([]Agg, len(cs)), Output: []Expr{e}, Limit: -1}
	out, err := runPlan(t, p, cs, src(row))
	if err != nil {
		return "", err
	}
	return out[0][0], nil
}

func lit(v any) Lit       { return Lit{V: v} }
func declit(v string) Lit { return Lit{V: v, IsDecimal: true} }
func bin(op BinOp, l, r Expr) Bin {
	return Bin{Op: op, L: l, R: r}
}

func TestEval(t *testing.T) {
	row := []any{7, "18446744073709551615", "-2.50", "0.5", "abc", "abc", "-01:00:00", "2020-01-02 03:04:05"}
	null := lit(nil)
	tests := []struct {
		name string
		e    Expr
		want string
	}{
		// Three-valued logic.
		{"null and false", bin(OpAnd, null, lit(int64(0))), "0"},
		{"null and true", bin(OpAnd, null, lit(int64(1))), nul},
		{"false and null", bin(OpAnd, lit(int64(0)), null), "0"},
		{"null or true", bin(OpOr, null, lit(int64(1))), "1"},
		{"null or false", bin(OpOr, null, lit(int64(0))), nul},
		{"null xor true", bin(OpXor, null, lit(int64(1))), nul},
		{"true xor false", bin(OpXor, lit(int64(1)), lit(int64(0))), "1"},
		{"not null", Not{E: null}, nul},
		{"not 0.0", Not{E: declit("0.0")}, "1"},
		{"null = null", bin(OpEQ, null, null), nul},
		{"null <=> null", bin(OpNullEQ, null, null), "1"},
		{"1 <=> null", bin(OpNullEQ, lit(int64(1)), null), "0"},
		{"is not null", IsNull{E: Col{0}, Not: true}, "1"},
		// Comparisons.
		{"int vs unsigned max", bin(OpLT, Col{0}, Col{1}), "1"},
		{"negative vs unsigned", bin(OpLT, lit(int64(-1)), Col{1}), "1"},
		{"decimal vs int", bin(OpLT, Col{2}, lit(int64(-2))), "1"},
		{"decimal eq literal", bin(OpEQ, Col{2}, declit("-2.5")), "1"},
		{"double vs decimal", bin(OpEQ, Col{3}, declit("0.50")), "1"},
		{"string vs number is numeric", bin(OpEQ, lit("10"), lit(int64(10))), "1"},
		{"'10' > '9' as strings", bin(OpGT, lit("10"), lit("9")), "0"},
		{"'abc' = 0", bin(OpEQ, lit("abc"), lit(int64(0))), "1"},
		{"ci column = literal with case and pad", bin(OpEQ, Col{4}, lit("ABC  ")), "1"},
		{"binary column is case sensitive", bin(OpEQ, Col{5}, lit("ABC")), "0"},
		{"binary column eq", bin(OpEQ, Col{5}, lit("abc")), "1"},
		{"negative time < zero", bin(OpLT, Col{6}, lit("00:00:00")), "1"},
		{"time vs number", bin(OpEQ, Col{6}, lit(int64(-10000))), "1"},
		{"datetime vs string", bin(OpGT, Col{7}, lit("2020-01-02")), "1"},
		{"datetime eq string", bin(OpEQ, Col{7}, lit("2020-01-02 03:04:05")), "1"},
		{"ne", bin(OpNE, Col{0}, lit(int64(7))), "0"},
		{"le", bin(OpLE, Col{0}, lit(int64(7))), "1"},
		{"ge double", bin(OpGE, Col{3}, lit(0.6)), "0"},
		// Arithmetic.
		{"int + int", bin(OpAdd, Col{0}, lit(int64(3))), "10"},
		{"int - int negative", bin(OpSub, lit(int64(3)), Col{0}), "-4"},
		{"int * int", bin(OpMul, Col{0}, lit(int64(-6))), "-42"},
		{"int / int decimal", bin(OpDiv, Col{0}, lit(int64(3))), "2.3333"},
		{"int / int rounds half up", bin(OpDiv, lit(int64(1)), lit(int64(32))), "0.0313"},
		{"negative rounds away", bin(OpDiv, lit(int64(-1)), lit(int64(32))), "-0.0313"},
		{"div by zero", bin(OpDiv, Col{0}, lit(int64(0))), nul},
		{"decimal div by zero", bin(OpDiv, Col{2}, declit("0.00")), nul},
		{"div null", bin(OpDiv, Col{0}, null), nul},
		{"int div", bin(OpIntDiv, Col{0}, lit(int64(-2))), "-3"},
		{"int div zero", bin(OpIntDiv, Col{0}, lit(int64(0))), nul},
		{"decimal int div", bin(OpIntDiv, declit("-7.5"), lit(int64(2))), "-3"},
		{"double int div", bin(OpIntDiv, lit(7.9), lit(int64(2))), "3"},
		{"mod sign of dividend", bin(OpMod, lit(int64(-5)), lit(int64(3))), "-2"},
		{"mod zero", bin(OpMod, lit(int64(5)), lit(int64(0))), nul},
		{"decimal mod", bin(OpMod, declit("5.5"), lit(int64(2))), "1.5"},
		{"double mod", bin(OpMod, lit(5.5), lit(2.0)), "1.5"},
		{"decimal add scale", bin(OpAdd, Col{2}, declit("0.125")), "-2.375"},
		{"decimal mul scale", bin(OpMul, Col{2}, declit("0.5")), "-1.250"},
		{"decimal div scale", bin(OpDiv, Col{2}, lit(int64(3))), "-0.833333"},
		{"double + int", bin(OpAdd, Col{3}, lit(int64(1))), "1.5"},
		{"double sum formatting", bin(OpAdd, lit(0.1), lit(0.2)), "0.30000000000000004"},
		{"string in arithmetic", bin(OpAdd, lit("12abc"), lit(int64(1))), "13"},
		{"unsigned - 1", bin(OpSub, Col{1}, lit(int64(1))), "18446744073709551614"},
		{"neg int", Neg{E: Col{0}}, "-7"},
		{"neg decimal", Neg{E: Col{2}}, "2.50"},
		{"neg double", Neg{E: Col{3}}, "-0.5"},
		{"neg null", Neg{E: null}, nul},
		{"neg min unsigned", Neg{E: lit(uint64(1) << 63)}, "-9223372036854775808"},
		{"avg over a non-grouped row", Avg{Sum: 2, Count: 0}, "-0.357143"},
		{"distinct agg when not grouped", DistinctAgg{Func: DistinctCount}, "0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "distinct agg when not grouped" {
				return // needs Plan.Distinct; covered in TestDistinctNotGrouped
			}
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

func TestEvalErrors(t *testing.T) {
	row := []any{"9223372036854775807", "18446744073709551615", "1.00", "1e308", "x", "x", "00:00:00", "2020-01-01 00:00:00"}
	tests := []struct {
		name     string
		e        Expr
		unsigned bool
	}{
		{"bigint + 1", bin(OpAdd, Col{0}, lit(int64(1))), false},
		{"bigint * 2", bin(OpMul, Col{0}, lit(int64(2))), false},
		{"-bigint - 2", bin(OpSub, Neg{E: Col{0}}, lit(int64(2))), false},
		{"unsigned + 1", bin(OpAdd, Col{1}, lit(int64(1))), true},
		{"0 - unsigned 1", bin(OpSub, lit(int64(0)), lit(uint64(1))), true},
		{"neg min int", Neg{E: bin(OpSub, Neg{E: Col{0}}, lit(int64(1)))}, false},
		{"neg big unsigned", Neg{E: Col{1}}, false},
		{"double overflow", bin(OpMul, Col{3}, lit(10.0)), false},
		{"min int div -1", bin(OpIntDiv, bin(OpSub, Neg{E: Col{0}}, lit(int64(1))), lit(int64(-1))), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := evalOne(t, tc.e, row)
			if errCode(err) != 1690 {
				t.Fatalf("err = %v, want 1690", err)
			}
		})
	}
	// Short-circuit: the overflow on the right of a false AND is not evaluated.
	got, err := evalOne(t, bin(OpAnd, lit(int64(0)), bin(OpAdd, Col{0}, lit(int64(1)))), row)
	if err != nil || got != "0" {
		t.Fatalf("short circuit: %q, %v", got, err)
	}
}

func TestDistinctNotGrouped(t *testing.T) {
	p := &Plan{Aggs: aggs(AggNone), Distinct: intp(0), Output: []Expr{DistinctAgg{Func: DistinctCount}, DistinctAgg{Func: DistinctSum}}, Limit: -1}
	checkRows(t, mustRun(t, p, cols(intCol("x")), src(r(1))), s("0", nul))
}

func TestDecimal(t *testing.T) {
	parse := func(s string) dec {
		d, ok := parseDec([]byte(s))
		if !ok {
			t.Fatalf("parseDec(%q) failed", s)
		}
		return d
	}
	text := func(d dec) string { return string(d.appendText(nil)) }
	tests := []struct {
		got, want string
	}{
		{text(parse("1.50")), "1.50"},
		{text(parse("-0.05")), "-0.05"},
		{text(parse(" 12 ")), "12"},
		{text(parse("123456789012345678901234567890.123")), "123456789012345678901234567890.123"},
		{text(parse("1.5").add(parse("2.25"))), "3.75"},
		{text(parse("9223372036854775807").add(parse("1"))), "9223372036854775808"},
		{text(parse("-9223372036854775808").sub(parse("1"))), "-9223372036854775809"},
		{text(parse("-9223372036854775808").neg()), "9223372036854775808"},
		{text(parse("1.25").mul(parse("-0.5"))), "-0.625"},
		{text(parse("99999999999.99").mul(parse("99999999999.99"))), "9999999999998000000000.0001"},
		// MariaDB's decimal_div: whole 9-digit words of decimals, truncated
		// (SELECT 2/3*1000000000000 is 666666666000.0000); printing rounds
		// to the declared scale.
		{text(parse("1").div(parse("3"))), "0.333333333"},
		{text(parse("2").div(parse("3"))), "0.666666666"},
		{text(parse("2").div(parse("3")).round(4)), "0.6667"},
		{text(parse("1.25").div(parse("3"))), "0.416666666"},
		{text(parse("-1").div(parse("0.32"))), "-3.125000000"},
		{text(parse("1.00").div(parse("3.0"))), "0.333333333333333333"},
		{text(parse("1").div(parse("3.0000000000"))), "0.333333333333333333"},
		{text(parse("1.23456").round(4)), "1.2346"},
		{text(parse("-1.23455").round(4)), "-1.2346"},
		{text(parse("-1.23454").round(4)), "-1.2345"},
		{text(parse("0.5").round(0)), "1"},
		{text(parse("1").round(3)), "1.000"},
		{text(parse("123456789012345678901.5").round(0)), "123456789012345678902"},
		{text(parse("5.5").mod(parse("-2"))), "1.5"},
		{text(parse("-5.5").mod(parse("2"))), "-1.5"},
		{parse("1.5").quoTrunc(parse("-0.4")).String(), "-3"},
		{text(dec{c: math.MinInt64}), "-9223372036854775808"},
		{text(dec{c: 5, scale: 3}), "0.005"},
		{text(decFromUint(math.MaxUint64)), "18446744073709551615"},
	}
	for i, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%d: got %s, want %s", i, tc.got, tc.want)
		}
	}
	for _, bad := range []string{"", "-", ".", "1.2.3", "1e5", "abc", "--1"} {
		if _, ok := parseDec([]byte(bad)); ok {
			t.Errorf("parseDec(%q) accepted", bad)
		}
	}
	if parse("1.50").cmp(parse("1.5")) != 0 || parse("-1").cmp(parse("0.1")) >= 0 || parse("100000000000000000000").cmp(parse("2")) <= 0 {
		t.Error("cmp")
	}
	if f := parse("0.1").float(); f != 0.1 {
		t.Errorf("float %v", f)
	}
}

func TestAppendDouble(t *testing.T) {
	// Expectations are what MariaDB 10.11 prints.
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0"},
		{math.Copysign(0, -1), "0"},
		{sum(0.1, 0.2), "0.30000000000000004"},
		{1e20, "1e20"},
		{-1e20, "-1e20"},
		{1.5e-7, "0.00000015"},
		{1e15, "1e15"},
		{1e14, "100000000000000"},
		{1.5e15, "1.5e15"},
		{123456789012345678, "1.2345678901234568e17"},
		{1e-15, "0.000000000000001"},
		{1e-16, "1e-16"},
		{1.5e-15, "0.0000000000000015"},
		{100000, "100000"},
		{2.0 / 3, "0.6666666666666666"},
		{1e300, "1e300"},
		{math.MaxFloat64, "1.7976931348623157e308"},
		{5e-324, "5e-324"},
		{123456789.12345678, "123456789.12345678"},
		{1.2345678901234567e14, "123456789012345.67"},
		{-1.2345678901234567e-14, "-0.000000000000012345678901234567"},
		{1.5, "1.5"},
		{-42, "-42"},
	}
	for _, tc := range tests {
		if got := string(appendDouble(nil, tc.f)); got != tc.want {
			t.Errorf("%v: got %s, want %s", tc.f, got, tc.want)
		}
	}
}

// sum adds at run time (constant folding would be exact).
func sum(a, b float64) float64 { return a + b }

func TestParseFloatPrefix(t *testing.T) {
	tests := map[string]float64{"12abc": 12, "abc": 0, " -1.5e3x": -1500, "1e": 1, ".5": 0.5, "": 0, "+": 0, "1e999": math.MaxFloat64}
	for in, want := range tests {
		if got := parseFloatPrefix([]byte(in)); got != want {
			t.Errorf("%q: %v, want %v", in, got, want)
		}
	}
}
