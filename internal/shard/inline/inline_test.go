package inline

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// Java's String.hashCode, written out the way the JDK documents it
// (s[0]*31^(n-1) + ... + s[n-1] over UTF-16 code units, int arithmetic),
// for ASCII strings.
func javaHashASCII(s string) int32 {
	var h int32
	for i := 0; i < len(s); i++ {
		h = h*31 + int32(s[i])
	}
	return h
}

func TestJavaStringHash(t *testing.T) {
	tests := []struct {
		s    string
		want int32
	}{
		{"", 0},
		{"a", 97},
		{"abc", 96354}, // documented JDK value
		{"Aa", 2112},   // the classic collision pair
		{"BB", 2112},
		{"polygenelubricants", math.MinInt32}, // famous MIN_VALUE hash
		{"order-2024-000017", javaHashASCII("order-2024-000017")},
		{"é", 0xE9},                         // one UTF-16 unit
		{"😀", 31*0xD83D + 0xDE00},           // U+1F600 is a surrogate pair
		{"中文", 31*0x4E2D + 0x6587},          // BMP characters
		{"x😀", (31*120+0xD83D)*31 + 0xDE00}, // mixed
	}
	for _, tt := range tests {
		if got := JavaStringHash(tt.s); got != tt.want {
			t.Errorf("JavaStringHash(%q) = %d, want %d", tt.s, got, tt.want)
		}
	}
}

func TestEval(t *testing.T) {
	longHash := func(v int64) int64 { u := uint64(v); return int64(int32(u ^ u>>32)) }
	tests := []struct {
		tmpl string
		arg  Arg
		want string
	}{
		{"ds_${user_id % 2}", IntArg(7), "ds_1"},
		{"ds_${user_id % 2}", IntArg(8), "ds_0"},
		{"ds_${user_id % 2}", IntArg(-7), "ds_-1"}, // Java remainder keeps the dividend's sign
		{"ds_$->{user_id % 2}", IntArg(3), "ds_1"},
		{"t_order_${order_id % 4}", IntArg(1_000_000_000_003), "t_order_3"},
		{"t_order_${order_id}", IntArg(42), "t_order_42"},
		{"t_order_${order_id}", StrArg("x9"), "t_order_x9"},
		{"t_${(id / 4) % 8}", IntArg(37), "t_1"}, // 37/4 = 9, 9%8 = 1
		{"t_${(id / 4) % 8}", IntArg(-37), "t_-1"},
		{"t_${id.intdiv(4) % 8}", IntArg(37), "t_1"},
		{"t_${code.hashCode() % 4}", StrArg("abc"), "t_2"}, // 96354 % 4
		{"t_${code.hashCode() % 4}", StrArg("Aa"), "t_0"},  // 2112 % 4
		{"t_${code.hashCode() % 3}", StrArg("polygenelubricants"), "t_-2"},
		{"t_${Math.abs(code.hashCode()) % 3}", StrArg("polygenelubricants"), "t_-2"}, // abs(MIN_VALUE) is MIN_VALUE in Java
		{"t_${Math.abs(code.hashCode() % 3)}", StrArg("polygenelubricants"), "t_2"},
		{"t_${Math.abs(code.hashCode()) % 16}", StrArg("order-2024-000017"), "t_" + itoa(absMod(int64(javaHashASCII("order-2024-000017")), 16))},
		{"t_${id.hashCode() % 7}", IntArg(-1), "t_-1"},                                        // Integer.hashCode(-1) = -1
		{"t_${id.hashCode()}", IntArg(5_000_000_000), "t_" + itoa(longHash(5_000_000_000))},   // Long.hashCode
		{"t_${id.hashCode()}", IntArg(-5_000_000_000), "t_" + itoa(longHash(-5_000_000_000))}, // Long.hashCode
		{"t_${Math.floorMod(id, 4)}", IntArg(-7), "t_1"},
		{"t_${Math.floorMod(id, -4)}", IntArg(7), "t_-1"},
		{"${id * 2}", IntArg(2_000_000_000), "-294967296"}, // Integer overflow wraps
		{"${id * 2}", IntArg(3_000_000_000), "6000000000"}, // Long does not
		{"${id * 2L}", IntArg(2_000_000_000), "-294967296"},
		{"${'t_' + (id % 2)}", IntArg(5), "t_1"},
		{"${id + '_x'}", IntArg(7), "7_x"},
		{"${id % 2 + 1}", IntArg(7), "2"},
		{"${-id % 3}", IntArg(7), "-1"},
		{"${- -id}", IntArg(7), "7"},
		{"a${id % 2}b${id % 3}c", IntArg(5), "a1b2c"},
		{"plain", IntArg(5), "plain"},
		{"${ id  %  10 }", IntArg(123), "3"},
		{`${"q" + 'r'}`, IntArg(0), "qr"},
		{`${'it\'s'}`, IntArg(0), "it's"},
		{"${-2147483648 - 1}", IntArg(0), "2147483647"}, // int literal arithmetic wraps
	}
	for _, tt := range tests {
		tpl, err := Parse(tt.tmpl)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.tmpl, err)
			continue
		}
		got, err := tpl.EvalString(tt.arg)
		if err != nil {
			t.Errorf("Eval(%q, %+v): %v", tt.tmpl, tt.arg, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Eval(%q, %+v) = %q, want %q", tt.tmpl, tt.arg, got, tt.want)
		}
	}
}

func itoa(v int64) string {
	if v < 0 {
		return "-" + itoa(-v)
	}
	if v < 10 {
		return string(rune('0' + v))
	}
	return itoa(v/10) + string(rune('0'+v%10))
}

// absMod is Java's Math.abs(h) % n for an int h that is not MIN_VALUE.
func absMod(h, n int64) int64 {
	if h < 0 {
		h = -h
	}
	return h % n
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		tmpl string
		want string
	}{
		{"ds_${user_id %}", `unexpected "}" at column 15`},
		{"ds_${user_id", `unexpected end of expression (missing "}"?) at column 13`},
		{"ds_${}", `empty ${} segment at column 6`},
		{"t_${id.padLeft(2, '0')}", `unsupported method padLeft() with 2 argument(s) (supported: hashCode(), intdiv(n), Math.abs(x), Math.floorMod(x, n)) at column 8`},
		{"t_${id.size}", `unsupported property "size"`},
		{"t_${foo(1)}", `unsupported function foo()`},
		{"t_${Math.max(a, b)}", `unsupported function Math.max with 2 argument(s)`},
		{"t_${Math}", `Math must be followed by .abs(x) or .floorMod(x, n)`},
		{"t_${1.5}", `decimal numbers are not supported at column 5`},
		{"t_${'abc}", `unterminated string at column 5`},
		{"t_${id / 0}", `division by zero at column 8`},
		{"t_${id % 0}", `division by zero`},
		{"t_${id.intdiv(0)}", `division by zero`},
		{"t_${(id % 2}", `missing ")"`},
		{"t_${[1, 2}", `missing "]"`},
		{"t_${[]}", `empty list`},
		{"t_${id ? 1 : 2}", `unexpected '?'`},
		{"t_${id.collect{it}}", `unsupported property "collect"`},
		{"t_${99999999999999999999}", `number too large`},
		{"t_${a b}", `unexpected "b"`},
		{"t_${" + strings.Repeat("(", 100) + "1" + strings.Repeat(")", 100) + "}", "nested too deeply"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.tmpl)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want error %q", tt.tmpl, tt.want)
			continue
		}
		var ie *Error
		if !errors.As(err, &ie) || ie.Expr != tt.tmpl {
			t.Errorf("Parse(%q) error %T %v does not carry the expression", tt.tmpl, err, err)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error %q, want it to contain %q", tt.tmpl, err, tt.want)
		}
	}
}

func TestEvalErrors(t *testing.T) {
	tests := []struct {
		tmpl string
		arg  Arg
		want string
	}{
		{"t_${id % 4}", StrArg("abc"), `arithmetic needs numbers, got the string "abc" at column 8`},
		{"t_${-id}", StrArg("abc"), `cannot negate the string "abc"`},
		{"t_${Math.abs(id)}", StrArg("abc"), `Math.abs needs a number`},
		{"t_${id % (id - 5)}", IntArg(5), `division by zero`},
		{"t_${0..3}", IntArg(5), `expression produces a list, not one name`},
	}
	for _, tt := range tests {
		tpl, err := Parse(tt.tmpl)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.tmpl, err)
		}
		_, err = tpl.Eval(nil, tt.arg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Eval(%q, %+v) error %v, want %q", tt.tmpl, tt.arg, err, tt.want)
		}
	}
}

func TestExpand(t *testing.T) {
	tests := []struct {
		src  string
		want []string
	}{
		{"ds_${0..1}.t_order_${0..3}", []string{
			"ds_0.t_order_0", "ds_0.t_order_1", "ds_0.t_order_2", "ds_0.t_order_3",
			"ds_1.t_order_0", "ds_1.t_order_1", "ds_1.t_order_2", "ds_1.t_order_3",
		}},
		{"ds_$->{0..1}.t_$->{[0, 2]}", []string{"ds_0.t_0", "ds_0.t_2", "ds_1.t_0", "ds_1.t_2"}},
		{"${['online', 'offline']}_table${1..3}", []string{
			"online_table1", "online_table2", "online_table3",
			"offline_table1", "offline_table2", "offline_table3",
		}},
		{"t${3..1}", []string{"t3", "t2", "t1"}},
		{"t${0..<3}", []string{"t0", "t1", "t2"}},
		{"t${-1..1}", []string{"t-1", "t0", "t1"}},
		{"t${2 * 2}", []string{"t4"}},
		{"db0.t_order${0..1},db1.t_order${2..4}", []string{"db0.t_order0", "db0.t_order1", "db1.t_order2", "db1.t_order3", "db1.t_order4"}},
		{"ds.${['a,b', 'c']} , ds.d", []string{"ds.a,b", "ds.c", "ds.d"}},
		{"plain.table", []string{"plain.table"}},
	}
	for _, tt := range tests {
		got, err := ExpandList(tt.src)
		if err != nil {
			t.Errorf("ExpandList(%q): %v", tt.src, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ExpandList(%q) = %q, want %q", tt.src, got, tt.want)
		}
	}
	bad := []struct{ src, want string }{
		{"ds_${id % 2}.t", `"id" is not defined here (data nodes take no column)`},
		{"t_${0..100000}", "more than 65536 values"},
		{"t_${0..300}_${0..300}", "expands to more than 65536 names"},
		{"t_${[1, [2]]}", "nested lists are not supported"},
		{"t_${0..<0}", "expands to nothing"},
		{"a.b,,c.d", "empty item"},
		{"a.${0..1", "unterminated ${} segment"},
		{"t_${'a'..'b'}", "range bounds must be numbers"},
	}
	for _, tt := range bad {
		_, err := ExpandList(tt.src)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ExpandList(%q) error %v, want %q", tt.src, err, tt.want)
		}
	}
}

func TestOutputs(t *testing.T) {
	tests := []struct {
		tmpl string
		want []string // nil: unbounded
	}{
		{"ds_${user_id % 2}", []string{"ds_0", "ds_1"}},
		{"ds_$->{user_id % 2}", []string{"ds_0", "ds_1"}},
		{"t_${id.hashCode() % 4}", []string{"t_-3", "t_-2", "t_-1", "t_0", "t_1", "t_2", "t_3"}},
		{"t_${Math.abs(id.hashCode()) % 4}", []string{"t_0", "t_1", "t_2", "t_3"}},
		{"t_${Math.abs(id.hashCode() % 4)}", []string{"t_0", "t_1", "t_2", "t_3"}},
		{"t_${Math.floorMod(id.hashCode(), 3)}", []string{"t_0", "t_1", "t_2"}},
		{"t_${(id / 4) % 3}", []string{"t_0", "t_1", "t_2"}},
		{"t_${id.intdiv(4) % 3}", []string{"t_0", "t_1", "t_2"}},
		{"t_${id % 4 + 1}", []string{"t_1", "t_2", "t_3", "t_4"}},
		{"t_${id % 4 * 2}", []string{"t_0", "t_1", "t_2", "t_3", "t_4", "t_5", "t_6"}},
		{"t_${3 - id % 2}", []string{"t_2", "t_3"}},
		{"t_${-(id % 2)}", []string{"t_-1", "t_0"}},
		{"${id % 2}_${id % 3}", []string{"0_0", "0_1", "0_2", "1_0", "1_1", "1_2"}},
		{"${'t_' + id % 2}", []string{"t_0", "t_1"}},
		{"t_${id}", nil},
		{"t_${id / 4}", nil},
		{"t_${id.hashCode()}", nil},
		{"t_${id % 100000}", nil}, // more than max
		{"t_${id * 2}", nil},
		{"t_fixed", []string{"t_fixed"}},
	}
	for _, tt := range tests {
		tpl, err := Parse(tt.tmpl)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.tmpl, err)
		}
		got, err := tpl.Outputs(4096)
		if tt.want == nil {
			if !errors.Is(err, ErrUnbounded) {
				t.Errorf("Outputs(%q) = %q, %v; want ErrUnbounded", tt.tmpl, got, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Outputs(%q) = %q, %v; want %q", tt.tmpl, got, err, tt.want)
		}
	}
}

func TestTemplateInfo(t *testing.T) {
	tpl, err := Parse("${a % 2}_${b}_${a}_${Math.abs(c.hashCode())}")
	if err != nil {
		t.Fatal(err)
	}
	if got := tpl.Columns(); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Errorf("Columns = %q", got)
	}
	if tpl.Multi() || tpl.Literal() {
		t.Errorf("Multi/Literal wrong")
	}
	if tpl.String() != "${a % 2}_${b}_${a}_${Math.abs(c.hashCode())}" {
		t.Errorf("String = %q", tpl.String())
	}
	m, _ := Parse("ds_${0..1}")
	if !m.Multi() {
		t.Errorf("ds_${0..1} not Multi")
	}
	l, _ := Parse("t_order")
	if !l.Literal() {
		t.Errorf("t_order not Literal")
	}
}

func TestEvalNoAllocs(t *testing.T) {
	tpl, err := Parse("t_order_${order_id % 16}")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = tpl.Eval(buf[:0], IntArg(12345))
	})
	if allocs != 0 {
		t.Errorf("Eval allocates %.0f times per run", allocs)
	}
}
