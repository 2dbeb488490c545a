package shard

import (
	"strconv"
	"testing"
	"time"
)

// FuzzLocate throws arbitrary keys at every algorithm: no panics, and a
// successful Locate always returns one of All.
func FuzzLocate(f *testing.F) {
	for _, s := range []string{"2016-03-04", "2016-03-04 10:11:12.123456", "2016-02-30", "42", "abc", "", "9999-12-31T23:59:59"} {
		f.Add(s, int64(len(s)))
	}
	f.Add("x", int64(-1<<63))
	f.Add("y", int64(1<<63-1))
	r := rulesFor(f, benchBody+`          - {name: t_x, type: sharded, key: id, algorithm: range, slices: [s0, s1], ranges: [[min, 0], [0, max]]}
          - {name: t_d, type: sharded, key: c, algorithm: date_day, slices: [s0, s1], ranges: ["20151231-20160101", "20160102-20160103"], timezone: Asia/Shanghai}
`)
	f.Fuzz(func(t *testing.T, s string, n int64) {
		vals := []Value{String(s), Int(n), Uint(uint64(n)), Time(time.Unix(n%(1<<40), 0))}
		for _, tb := range r.Tables() {
			in := make(map[Target]bool)
			for _, tg := range tb.All() {
				in[tg] = true
			}
			for _, v := range vals {
				if tg, err := tb.Locate(v); err == nil && !in[tg] {
					t.Fatalf("%s.Locate(%s) = %+v, not in All", tb.Name(), v, tg)
				}
				_, _ = tb.LocateRange(Inclusive(v), Exclusive(vals[1]))
				_, _ = tb.LocateRange(Exclusive(v), Unbounded)
			}
			_, _ = tb.LocateIn(vals)
		}
	})
}

// FuzzConvert throws arbitrary literals at the value conversions of every
// column type: no panics; an integer column's stored value lies in its
// range and equals what an exact comparison names; a canonical integer
// string converts to that integer; an equality never names a value that
// the column cannot hold; a formatted date-time reads back.
func FuzzConvert(f *testing.F) {
	for _, s := range []string{" 10", "32 ", "-19", "1e1", "1.6e1", "0x0a", "", "abc", "10abc", "-0", ".5", "1e400", "2023-3-1 12:3", "20230301", "99991231235959", "9223372036854775808"} {
		f.Add(s, int64(len(s)), float64(len(s))/3)
	}
	types := []ColumnType{
		IntType(8, false), IntType(32, false), IntType(64, false), IntType(64, true),
		ParseColumnType("varchar(20)", "utf8mb4_general_ci"), ParseColumnType("char(5)", "latin1_swedish_ci"),
		ParseColumnType("varbinary(8)", "NULL"), ParseColumnType("datetime(6)", "NULL"), ParseColumnType("date", "NULL"),
		ParseColumnType("decimal(10,2)", "NULL"), Unknown, Legacy,
	}
	f.Fuzz(func(t *testing.T, s string, n int64, fl float64) {
		vals := []Value{String(s), Bytes([]byte(s)), Decimal(s), Hex([]byte(s)), Int(n), Uint(uint64(n)), Float(fl)}
		for _, ct := range types {
			for _, v := range vals {
				st, sok := ct.Stored(v)
				eq, none, eok := ct.Equal(v)
				_, _ = ct.RangeBound(Inclusive(v), true)
				_, _ = ct.RangeBound(Exclusive(v), false)
				if ct.Class != TypeInt {
					continue
				}
				if sok {
					r, _ := st.numeric()
					if r.Num().Cmp(ct.Min) < 0 || r.Num().Cmp(ct.Max) > 0 {
						t.Fatalf("%s stores %s %q as %s, outside its range", ct.Text, v.Kind(), s, st)
					}
				}
				if eok && !none {
					r, _ := eq.numeric()
					if r.Num().Cmp(ct.Min) < 0 || r.Num().Cmp(ct.Max) > 0 {
						t.Fatalf("%s = %s %q names %s, outside its range", ct.Text, v.Kind(), s, eq)
					}
					if v.Kind() == IntValue && eq != Int(n) && !(eq.Kind() == UintValue && int64(eq.Uint64()) == n) {
						t.Fatalf("%s = %d names %s", ct.Text, n, eq)
					}
				}
			}
			if ct.Class == TypeInt && ct.Text == "bigint" {
				if k, err := strconv.ParseInt(s, 10, 64); err == nil {
					if got, none, ok := ct.Equal(String(s)); !ok || none || got != Int(k) {
						t.Fatalf("bigint = %q: %s %v %v", s, got, none, ok)
					}
				}
			}
		}
		tm := time.Unix(n%(1<<37), 0).UTC()
		if y := tm.Year(); y >= 1000 && y <= 9999 {
			for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02", "20060102150405", "2006/1/2 15:04"} {
				text := tm.Format(layout)
				got, ok := parseMariaDateTime(text)
				if !ok || got.Year() != tm.Year() || got.YearDay() != tm.YearDay() {
					t.Fatalf("%q reads as %v %v", text, got, ok)
				}
			}
		}
	})
}
