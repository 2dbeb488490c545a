package shard

import (
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/config"
)

// rulesFor parses a namespace whose body (slices, datasources, databases)
// is given, indented by 4 spaces, and builds its rules.
func rulesFor(t testing.TB, body string) *Rules {
	t.Helper()
	y := `namespaces:
  - name: shop
    users: [{name: app}]
    backend: {user: proxy}
    default_slice: s0
    slices:
      - {name: s0, primary: 127.0.0.1:3310}
      - {name: s1, primary: 127.0.0.1:3320}
      - {name: s2, primary: 127.0.0.1:3330}
` + body
	c, err := config.Parse([]byte(y), "test.yaml")
	if err != nil {
		t.Fatalf("config.Parse:\n%v\n%s", err, y)
	}
	r, err := Build(c.Namespaces[0])
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return r
}

func table(t testing.TB, r *Rules, name string) *Table {
	t.Helper()
	tb, ok := r.Table("shop", name)
	if !ok {
		t.Fatalf("table shop.%s has no rule", name)
	}
	return tb
}

// placement is the expected outcome of Locate: a target or an error.
type placement struct {
	slice, table string
	index        int
	err          error // sentinel
}

func at(slice, table string, index int) placement {
	return placement{slice: slice, table: table, index: index}
}

func fails(err error) placement { return placement{err: err} }

func checkLocate(t *testing.T, tb *Table, v Value, want placement) {
	t.Helper()
	got, err := tb.Locate(v)
	if want.err != nil {
		if !errors.Is(err, want.err) {
			t.Errorf("%s.Locate(%s) = %+v, %v; want error %v", tb.Name(), v, got, err, want.err)
		}
		return
	}
	if err != nil {
		t.Errorf("%s.Locate(%s): %v", tb.Name(), v, err)
		return
	}
	if got.Slice != want.slice || got.Table != want.table || got.Index != want.index {
		t.Errorf("%s.Locate(%s) = %+v; want %s/%s index %d", tb.Name(), v, got, want.slice, want.table, want.index)
	}
}

// kingshard/Gaea numbering: tables are numbered 0..N-1 consecutively over
// the slices in order, counts[i] on slices[i]; physical name <t>_%04d.
func kingshardPlacement(name string, slices []string, counts []int, index int) placement {
	first := 0
	for i, n := range counts {
		if index < first+n {
			return at(slices[i], fmt.Sprintf("%s_%04d", name, index), index)
		}
		first += n
	}
	panic("index out of range")
}

// gaeaHashIndex is Gaea's HashValue(v) % n, written from its documented
// behaviour: integers as uint64, strings ParseUint-able as that number,
// other strings crc32.ChecksumIEEE.
func gaeaHashIndex(v any, n uint64) int {
	switch x := v.(type) {
	case int64:
		return int(uint64(x) % n)
	case uint64:
		return int(x % n)
	case string:
		if u, err := strconv.ParseUint(x, 10, 64); err == nil {
			return int(u % n)
		}
		return int(uint64(crc32.ChecksumIEEE([]byte(x))) % n)
	}
	panic("type")
}

func TestHashPlacement(t *testing.T) {
	r := rulesFor(t, `    databases:
      - name: shop
        tables:
          - {name: t_user, type: sharded, key: id, algorithm: hash, slices: [s0, s1], tables_per_slice: 2}
          - {name: t_loc, type: sharded, key: id, algorithm: hash, slices: [s0, s1], tables_per_slice: [2, 3]}
          - {name: t_ks, type: sharded, key: code, algorithm: hash, slices: [s1, s2], tables_per_slice: 2, string_hash: crc32}
`)
	user := table(t, r, "t_user")
	slices, counts := []string{"s0", "s1"}, []int{2, 2}
	// The crc32 of "abc" is the well-known check value 0x352441C2.
	if crc32.ChecksumIEEE([]byte("abc")) != 0x352441C2 {
		t.Fatal("crc32 sanity")
	}
	tests := []struct {
		v    Value
		want placement
	}{
		{Int(0), at("s0", "t_user_0000", 0)},
		{Int(1), at("s0", "t_user_0001", 1)},
		{Int(2), at("s1", "t_user_0002", 2)},
		{Int(3), at("s1", "t_user_0003", 3)},
		{Int(5), kingshardPlacement("t_user", slices, counts, 5%4)},
		{Int(-1), kingshardPlacement("t_user", slices, counts, int(uint64(math.MaxUint64)%4))}, // uint64 wrap: index 3
		{Int(-6), kingshardPlacement("t_user", slices, counts, gaeaHashIndex(int64(-6), 4))},
		{Int(math.MinInt64), kingshardPlacement("t_user", slices, counts, gaeaHashIndex(int64(math.MinInt64), 4))},
		{Uint(math.MaxUint64), kingshardPlacement("t_user", slices, counts, int(uint64(math.MaxUint64)%4))},
		{String("abc"), kingshardPlacement("t_user", slices, counts, int(0x352441C2%4))},
		{String("42"), kingshardPlacement("t_user", slices, counts, 42%4)}, // Gaea: ParseUint first
		{String("0042"), kingshardPlacement("t_user", slices, counts, 42%4)},
		{String("18446744073709551615"), kingshardPlacement("t_user", slices, counts, int(uint64(math.MaxUint64)%4))},
		{String("18446744073709551616"), kingshardPlacement("t_user", slices, counts, int(crc32.ChecksumIEEE([]byte("18446744073709551616"))%4))},
		{String("-5"), kingshardPlacement("t_user", slices, counts, int(crc32.ChecksumIEEE([]byte("-5"))%4))},
		{String("+5"), kingshardPlacement("t_user", slices, counts, int(crc32.ChecksumIEEE([]byte("+5"))%4))},
		{String(""), kingshardPlacement("t_user", slices, counts, int(crc32.ChecksumIEEE(nil)%4))},
		{String("用户"), kingshardPlacement("t_user", slices, counts, int(crc32.ChecksumIEEE([]byte("用户"))%4))},
		{Bytes([]byte("abc")), kingshardPlacement("t_user", slices, counts, int(0x352441C2%4))},
		{Time(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)), fails(ErrBadValue)},
		{Value{}, fails(ErrBadValue)},
	}
	for _, tt := range tests {
		checkLocate(t, user, tt.v, tt.want)
	}
	for i := int64(0); i < 50; i++ {
		checkLocate(t, user, Int(i*7919), kingshardPlacement("t_user", slices, counts, gaeaHashIndex(i*7919, 4)))
		s := fmt.Sprintf("user-%d", i)
		checkLocate(t, user, String(s), kingshardPlacement("t_user", slices, counts, gaeaHashIndex(s, 4)))
	}

	// kingshard's locations: [2, 3] -> 0,1 on s0 and 2,3,4 on s1.
	loc := table(t, r, "t_loc")
	for v := int64(0); v < 12; v++ {
		checkLocate(t, loc, Int(v), kingshardPlacement("t_loc", slices, []int{2, 3}, int(v%5)))
	}
	checkLocate(t, loc, Int(4), at("s1", "t_loc_0004", 4))
	checkLocate(t, loc, Int(7), at("s1", "t_loc_0002", 2))

	// string_hash: crc32 (kingshard) hashes numeric strings too.
	ks := table(t, r, "t_ks")
	checkLocate(t, ks, String("42"), kingshardPlacement("t_ks", []string{"s1", "s2"}, []int{2, 2}, int(crc32.ChecksumIEEE([]byte("42"))%4)))
	checkLocate(t, ks, Int(42), kingshardPlacement("t_ks", []string{"s1", "s2"}, []int{2, 2}, 42%4))

	if got, want := names(user.All()), []string{"s0/shop.t_user_0000", "s0/shop.t_user_0001", "s1/shop.t_user_0002", "s1/shop.t_user_0003"}; !reflect.DeepEqual(got, want) {
		t.Errorf("All = %q, want %q", got, want)
	}
	if got := user.Slices(); !reflect.DeepEqual(got, []string{"s0", "s1"}) {
		t.Errorf("Slices = %q", got)
	}
	if user.Kind() != Sharded || user.Algorithm() != config.AlgHash || user.Key() != "id" || !user.IsKey("ID") || user.IsKey("name") {
		t.Errorf("metadata: kind %v alg %q key %q", user.Kind(), user.Algorithm(), user.Key())
	}
	// Hash ranges cannot be pruned.
	got, err := user.LocateRange(Inclusive(Int(1)), Inclusive(Int(2)))
	if err != nil || len(got) != 4 {
		t.Errorf("LocateRange on hash = %v, %v; want all 4", names(got), err)
	}
}

func names(ts []Target) []string {
	var out []string
	for _, tg := range ts {
		out = append(out, tg.Slice+"/"+tg.Database+"."+tg.Table)
	}
	return out
}

func TestModPlacement(t *testing.T) {
	r := rulesFor(t, `    databases:
      - name: shop
        tables:
          - {name: t_m, type: sharded, key: id, algorithm: mod, slices: [s0, s1], tables_per_slice: 2}
`)
	m := table(t, r, "t_m")
	sl, c := []string{"s0", "s1"}, []int{2, 2}
	abs := func(v int64) int64 {
		if v < 0 {
			return -v
		}
		return v
	}
	tests := []struct {
		v    Value
		want placement
	}{
		{Int(5), kingshardPlacement("t_m", sl, c, 5%4)},
		{Int(-5), kingshardPlacement("t_m", sl, c, int(abs(-5)%4))}, // Gaea: |v| % n
		{Int(-6), kingshardPlacement("t_m", sl, c, int(abs(-6)%4))},
		{String("6"), kingshardPlacement("t_m", sl, c, 6%4)},
		{String("-7"), kingshardPlacement("t_m", sl, c, 7%4)},
		{Uint(math.MaxUint64), kingshardPlacement("t_m", sl, c, 1)}, // int64(-1) -> |−1| % 4
		{String("abc"), fails(ErrBadValue)},
		{String("1.5"), fails(ErrBadValue)},
		{Int(math.MinInt64), fails(ErrNoTarget)},
		{Time(time.Now()), fails(ErrBadValue)},
	}
	for _, tt := range tests {
		checkLocate(t, m, tt.v, tt.want)
	}
	for v := int64(0); v < 20; v++ {
		checkLocate(t, m, Int(v), kingshardPlacement("t_m", sl, c, int(v%4)))
	}
}

func TestRangePlacement(t *testing.T) {
	r := rulesFor(t, `    databases:
      - name: shop
        tables:
          - {name: t_r, type: sharded, key: id, algorithm: range, slices: [s0, s1], tables_per_slice: 2, table_row_limit: 100}
          - name: t_x
            type: sharded
            key: id
            algorithm: range
            slices: [s0, s1]
            tables_per_slice: [1, 3]
            ranges: [[min, 0], [0, 1000], [1000, 5000], [5000, max]]
`)
	rt := table(t, r, "t_r")
	sl, c := []string{"s0", "s1"}, []int{2, 2}
	// kingshard/Gaea: table i holds [i*limit, (i+1)*limit), nothing else.
	for _, v := range []int64{0, 1, 99, 100, 150, 199, 200, 299, 300, 399} {
		checkLocate(t, rt, Int(v), kingshardPlacement("t_r", sl, c, int(v/100)))
	}
	checkLocate(t, rt, Int(400), fails(ErrNoTarget))
	checkLocate(t, rt, Int(-1), fails(ErrNoTarget))
	checkLocate(t, rt, String("150"), kingshardPlacement("t_r", sl, c, 1))
	checkLocate(t, rt, String("x"), fails(ErrBadValue))

	x := table(t, r, "t_x")
	xs, xc := []string{"s0", "s1"}, []int{1, 3}
	for _, tt := range []struct {
		v   int64
		idx int
	}{{math.MinInt64, 0}, {-10, 0}, {-1, 0}, {0, 1}, {999, 1}, {1000, 2}, {4999, 2}, {5000, 3}, {math.MaxInt64, 3}} {
		checkLocate(t, x, Int(tt.v), kingshardPlacement("t_x", xs, xc, tt.idx))
	}

	prune := []struct {
		tb     *Table
		lo, hi Bound
		want   []int // indexes
	}{
		{rt, Inclusive(Int(100)), Inclusive(Int(250)), []int{1, 2}},
		{rt, Exclusive(Int(99)), Exclusive(Int(200)), []int{1}},
		{rt, Inclusive(Int(99)), Inclusive(Int(200)), []int{0, 1, 2}},
		{rt, Inclusive(Int(-50)), Inclusive(Int(50)), []int{0}},
		{rt, Inclusive(Int(350)), Unbounded, []int{3}},
		{rt, Unbounded, Exclusive(Int(100)), []int{0}},
		{rt, Unbounded, Unbounded, []int{0, 1, 2, 3}},
		{rt, Inclusive(Int(500)), Inclusive(Int(600)), nil},
		{rt, Inclusive(Int(-500)), Inclusive(Int(-1)), nil},
		{rt, Inclusive(Int(50)), Inclusive(Int(10)), nil},
		{rt, Exclusive(Int(math.MaxInt64)), Unbounded, nil},
		{rt, Inclusive(String("120")), Inclusive(String("130")), []int{1}},
		{x, Inclusive(Int(500)), Inclusive(Int(1500)), []int{1, 2}},
		{x, Unbounded, Exclusive(Int(0)), []int{0}},
		{x, Inclusive(Int(0)), Unbounded, []int{1, 2, 3}},
		{x, Exclusive(Int(999)), Exclusive(Int(5000)), []int{2}},
		{x, Inclusive(Int(7000)), Inclusive(Int(8000)), []int{3}},
	}
	for _, tt := range prune {
		got, err := tt.tb.LocateRange(tt.lo, tt.hi)
		if err != nil {
			t.Errorf("%s.LocateRange(%+v, %+v): %v", tt.tb.Name(), tt.lo, tt.hi, err)
			continue
		}
		var idx []int
		for _, g := range got {
			idx = append(idx, g.Index)
		}
		if !reflect.DeepEqual(idx, tt.want) {
			t.Errorf("%s.LocateRange(%+v, %+v) = %v, want %v", tt.tb.Name(), tt.lo, tt.hi, idx, tt.want)
		}
	}
	if _, err := rt.LocateRange(Inclusive(String("abc")), Unbounded); !errors.Is(err, ErrBadValue) {
		t.Errorf("LocateRange with a bad bound: %v", err)
	}
}

func TestDatePlacement(t *testing.T) {
	r := rulesFor(t, `    databases:
      - name: shop
        tables:
          - {name: t_y, type: sharded, key: ctime, algorithm: date_year, slices: [s0, s1], ranges: [2015-2016, 2017-2018], timezone: Asia/Shanghai}
          - {name: t_yu, type: sharded, key: ctime, algorithm: date_year, slices: [s0, s1], ranges: [2015-2016, 2017-2018], timezone: UTC}
          - {name: t_m, type: sharded, key: ctime, algorithm: date_month, slices: [s0, s1], ranges: ["201512-201602", "201609-201610"], timezone: UTC}
          - {name: t_d, type: sharded, key: ctime, algorithm: date_day, slices: [s0, s1], ranges: ["20151230-20160101", 20160102], timezone: UTC}
          - {name: t_single, type: sharded, key: ctime, algorithm: date_year, slices: [s0, s1], ranges: [2015, 2017-2018]}
`)
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	newYear2017 := time.Date(2017, 1, 1, 0, 0, 0, 0, shanghai).Unix() // 2016-12-31 16:00 UTC
	y, yu, m, d := table(t, r, "t_y"), table(t, r, "t_yu"), table(t, r, "t_m"), table(t, r, "t_d")
	tests := []struct {
		tb   *Table
		v    Value
		want placement
	}{
		{y, String("2015-02-22 13:23:45"), at("s0", "t_y_2015", 2015)},
		{y, String("2016-03-22"), at("s0", "t_y_2016", 2016)},
		{y, String("2016-12-31 23:59:59"), at("s0", "t_y_2016", 2016)},
		{y, String("2017-01-01 00:00:00"), at("s1", "t_y_2017", 2017)},
		{y, String("2018-06-01T08:00:00"), at("s1", "t_y_2018", 2018)},
		{y, String("2018-06-01 08:00:00.123456"), at("s1", "t_y_2018", 2018)},
		{y, String("2019-01-01"), fails(ErrNoTarget)},
		{y, String("2014-12-31"), fails(ErrNoTarget)},
		{y, Int(1457410310), at("s0", "t_y_2016", 2016)}, // kingshard's doc example: 2016-03-08 in its zone
		{y, Int(newYear2017), at("s1", "t_y_2017", 2017)},
		{y, Int(newYear2017 - 1), at("s0", "t_y_2016", 2016)},
		{yu, Int(newYear2017), at("s0", "t_yu_2016", 2016)}, // the same instant is still 2016 in UTC
		{y, Uint(uint64(newYear2017)), at("s1", "t_y_2017", 2017)},
		{y, Time(time.Date(2018, 6, 1, 0, 0, 0, 0, time.UTC)), at("s1", "t_y_2018", 2018)},
		{y, Time(time.Date(2016, 12, 31, 23, 0, 0, 0, shanghai)), at("s0", "t_y_2016", 2016)}, // wall clock, not UTC
		{y, String("2016-3-04"), fails(ErrBadValue)},
		{y, String("2016-03-4"), fails(ErrBadValue)},
		{y, String("20160304"), fails(ErrBadValue)},
		{y, String("1457410310"), fails(ErrBadValue)},
		{y, String("2016-02-30"), fails(ErrBadValue)},
		{y, String("2016-03-04 24:00:00"), fails(ErrBadValue)},
		{y, String("2016-03-04 10:00"), fails(ErrBadValue)},
		{y, String("2016-03-04 10:00:00."), fails(ErrBadValue)},
		{m, String("2015-12-31 23:59:59"), at("s0", "t_m_201512", 201512)},
		{m, String("2016-01-01"), at("s0", "t_m_201601", 201601)},
		{m, String("2016-02-29"), at("s0", "t_m_201602", 201602)},
		{m, String("2016-03-01"), fails(ErrNoTarget)}, // gap between the slices' ranges
		{m, String("2016-09-01"), at("s1", "t_m_201609", 201609)},
		{m, String("2016-10-31 23:59:59"), at("s1", "t_m_201610", 201610)},
		{m, String("2016-11-01"), fails(ErrNoTarget)},
		{m, Int(time.Date(2016, 1, 31, 23, 59, 59, 0, time.UTC).Unix()), at("s0", "t_m_201601", 201601)},
		{m, Int(time.Date(2016, 2, 1, 0, 0, 0, 0, time.UTC).Unix()), at("s0", "t_m_201602", 201602)},
		{d, String("2015-12-30"), at("s0", "t_d_20151230", 20151230)},
		{d, String("2015-12-31 12:00:00"), at("s0", "t_d_20151231", 20151231)},
		{d, String("2016-01-01 23:59:59"), at("s0", "t_d_20160101", 20160101)},
		{d, String("2016-01-02"), at("s1", "t_d_20160102", 20160102)},
		{d, String("2016-01-03"), fails(ErrNoTarget)},
		{table(t, r, "t_single"), String("2015-06-01"), at("s0", "t_single_2015", 2015)},
		{table(t, r, "t_single"), String("2016-06-01"), fails(ErrNoTarget)},
	}
	for _, tt := range tests {
		checkLocate(t, tt.tb, tt.v, tt.want)
	}

	prune := []struct {
		tb     *Table
		lo, hi Bound
		want   []int
	}{
		{m, Inclusive(String("2016-01-15")), Inclusive(String("2016-09-15")), []int{201601, 201602, 201609}},
		{m, Inclusive(String("2015-12-01")), Exclusive(String("2016-01-01")), []int{201512}},
		{m, Inclusive(String("2015-12-01")), Exclusive(String("2016-01-01 00:00:01")), []int{201512, 201601}},
		{m, Inclusive(String("2015-12-01")), Inclusive(String("2016-01-01")), []int{201512, 201601}},
		{m, Inclusive(String("2016-03-01")), Inclusive(String("2016-08-31")), nil},
		{m, Exclusive(String("2016-02-29 23:59:59")), Unbounded, []int{201602, 201609, 201610}},
		{m, Unbounded, Exclusive(String("2015-12-01")), nil},
		{m, Unbounded, Unbounded, []int{201512, 201601, 201602, 201609, 201610}},
		{m, Inclusive(Int(time.Date(2016, 10, 1, 0, 0, 0, 0, time.UTC).Unix())), Unbounded, []int{201610}},
		{m, Unbounded, Exclusive(Int(time.Date(2016, 2, 1, 0, 0, 0, 0, time.UTC).Unix())), []int{201512, 201601}},
		{y, Inclusive(Time(time.Date(2016, 5, 1, 0, 0, 0, 0, time.UTC))), Exclusive(Time(time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC))), []int{2016, 2017}},
		{d, Inclusive(String("2015-12-31")), Inclusive(String("2016-01-02")), []int{20151231, 20160101, 20160102}},
		{y, Inclusive(String("2017-01-01")), Inclusive(String("2016-01-01")), nil},
	}
	for _, tt := range prune {
		got, err := tt.tb.LocateRange(tt.lo, tt.hi)
		if err != nil {
			t.Errorf("%s.LocateRange: %v", tt.tb.Name(), err)
			continue
		}
		var idx []int
		for _, g := range got {
			idx = append(idx, g.Index)
		}
		if !reflect.DeepEqual(idx, tt.want) {
			t.Errorf("%s.LocateRange(%v, %v) = %v, want %v", tt.tb.Name(), tt.lo.Value, tt.hi.Value, idx, tt.want)
		}
	}
	if _, err := m.LocateRange(Inclusive(String("soon")), Unbounded); !errors.Is(err, ErrBadValue) {
		t.Errorf("LocateRange with a bad date: %v", err)
	}
}

func TestDefaultTimezoneIsLocal(t *testing.T) {
	r := rulesFor(t, `    databases:
      - name: shop
        tables:
          - {name: t_y, type: sharded, key: ctime, algorithm: date_day, slices: [s0, s1], ranges: ["19691231-19700101", "19700102-19700103"]}
`)
	ts := int64(12 * 3600) // 1970-01-01 12:00 UTC: Dec 31, Jan 1 or Jan 2 depending on the zone
	y, mo, d := time.Unix(ts, 0).In(time.Local).Date()
	want := y*10000 + int(mo)*100 + d
	got, err := table(t, r, "t_y").Locate(Int(ts))
	if err != nil || got.Index != want {
		t.Errorf("Locate(%d) = %+v, %v; want period %d (time.Local = %s)", ts, got, err, want, time.Local)
	}
}

const inlineBody = `    datasources:
      ds_0: s0
      ds_1: {slice: s1, database: shop_1}
    databases:
      - name: shop
        tables:
          - name: t_order
            type: sharded
            algorithm: inline
            database_strategy: {column: user_id, expression: "ds_${user_id % 2}"}
            table_strategy: {column: order_id, expression: "t_order_$->{order_id % 4}"}
            data_nodes: "ds_${0..1}.t_order_${0..3}"
          - {name: t_order_item, type: linked, parent: t_order}
          - name: t_order_log
            type: linked
            parent: t_order
            data_nodes: "ds_0.log_${0..3}, ds_1.log_${0..3}"
          - name: t_pay
            type: sharded
            algorithm: inline
            key: order_id
            database_strategy: {expression: "ds_${order_id % 2}"}
            table_strategy: {expression: "t_pay_${order_id % 4}"}
            data_nodes: "ds_${0..1}.t_pay_${0..3}"
          - {name: t_pay_detail, type: linked, parent: t_pay, key: pay_order_id}
          - name: t_code
            type: sharded
            algorithm: inline
            table_strategy: {column: code, expression: "t_code_${Math.abs(code.hashCode()) % 4}"}
            data_nodes: "ds_0.t_code_${0..1},ds_1.t_code_${2..3}"
          - name: t_account
            type: sharded
            algorithm: inline
            database_strategy: {column: uid, expression: "ds_${uid % 2}"}
            data_nodes: "ds_${0..1}.t_account"
          - name: t_raw
            type: sharded
            algorithm: inline
            table_strategy: {column: id, expression: "t_raw_${id}"}
            data_nodes: "ds_0.t_raw_${0..3}"
          - {name: t_dict, type: global, datasources: [ds_0, ds_1]}
`

func TestInlinePlacement(t *testing.T) {
	r := rulesFor(t, inlineBody)
	order := table(t, r, "t_order")
	if !reflect.DeepEqual(order.Keys(), []string{"user_id", "order_id"}) {
		t.Fatalf("Keys = %q", order.Keys())
	}
	wantAll := []string{
		"s0/ds_0.t_order_0", "s0/ds_0.t_order_1", "s0/ds_0.t_order_2", "s0/ds_0.t_order_3",
		"s1/shop_1.t_order_0", "s1/shop_1.t_order_1", "s1/shop_1.t_order_2", "s1/shop_1.t_order_3",
	}
	if got := names(order.All()); !reflect.DeepEqual(got, wantAll) {
		t.Errorf("All = %q", got)
	}
	// user_id 3 -> ds_(3%2)=ds_1 -> slice s1, database shop_1; order_id 6 -> t_order_(6%4)=t_order_2.
	got, err := order.LocateKeys(Int(3), Int(6))
	if err != nil || got != (Target{Slice: "s1", Database: "shop_1", Table: "t_order_2", Index: 6}) {
		t.Errorf("LocateKeys(3, 6) = %+v, %v", got, err)
	}
	for uid := int64(0); uid < 6; uid++ {
		for oid := int64(0); oid < 9; oid++ {
			got, err := order.LocateKeys(Int(uid), Int(oid))
			ds := fmt.Sprintf("ds_%d", uid%2)
			tbl := fmt.Sprintf("t_order_%d", oid%4)
			if err != nil || got.Table != tbl || (ds == "ds_0") != (got.Slice == "s0") || got.Index != int(uid%2)*4+int(oid%4) {
				t.Errorf("LocateKeys(%d, %d) = %+v, %v; want %s.%s", uid, oid, got, err, ds, tbl)
			}
		}
	}
	if _, err := order.Locate(Int(3)); !errors.Is(err, ErrKeyCount) {
		t.Errorf("Locate on a two-key table: %v", err)
	}
	if _, err := order.LocateKeys(Int(3)); !errors.Is(err, ErrKeyCount) {
		t.Errorf("LocateKeys with one value: %v", err)
	}
	if _, err := order.LocateKeys(Int(-3), Int(1)); !errors.Is(err, ErrNoTarget) {
		t.Errorf("negative user_id (ds_-1): %v", err)
	}
	if _, err := order.LocateKeys(Time(time.Now()), Int(1)); !errors.Is(err, ErrBadValue) {
		t.Errorf("date-time into an inline expression: %v", err)
	}
	if _, err := order.LocateKeys(String("x"), Int(1)); !errors.Is(err, ErrBadValue) || !strings.Contains(err.Error(), "arithmetic needs numbers") {
		t.Errorf("string %% 2: %v", err)
	}
	// One column known: the database column picks a data source, the
	// table column a table name in every data source.
	byUser, err := order.LocateColumn("USER_ID", Int(4))
	if err != nil || !reflect.DeepEqual(names(byUser), wantAll[:4]) {
		t.Errorf("LocateColumn(user_id, 4) = %q, %v", names(byUser), err)
	}
	byOrder, err := order.LocateColumn("order_id", Int(5))
	if err != nil || !reflect.DeepEqual(names(byOrder), []string{"s0/ds_0.t_order_1", "s1/shop_1.t_order_1"}) {
		t.Errorf("LocateColumn(order_id, 5) = %q, %v", names(byOrder), err)
	}
	if other, _ := order.LocateColumn("status", Int(1)); len(other) != 8 {
		t.Errorf("LocateColumn on a non-key column = %d targets", len(other))
	}
	if all, _ := order.LocateRange(Inclusive(Int(1)), Inclusive(Int(2))); len(all) != 8 {
		t.Errorf("LocateRange on inline = %d targets, want all", len(all))
	}

	// Binding table: same columns, physical names derived from the parent's.
	item := table(t, r, "t_order_item")
	if item.Kind() != Linked || item.Parent() != order || !reflect.DeepEqual(item.Keys(), order.Keys()) {
		t.Errorf("t_order_item: kind %v keys %q", item.Kind(), item.Keys())
	}
	got, err = item.LocateKeys(Int(3), Int(6))
	if err != nil || got != (Target{Slice: "s1", Database: "shop_1", Table: "t_order_item_2", Index: 6}) {
		t.Errorf("item.LocateKeys(3, 6) = %+v, %v", got, err)
	}
	byOrder, _ = item.LocateColumn("order_id", Int(5))
	if !reflect.DeepEqual(names(byOrder), []string{"s0/ds_0.t_order_item_1", "s1/shop_1.t_order_item_1"}) {
		t.Errorf("item.LocateColumn = %q", names(byOrder))
	}
	logT := table(t, r, "t_order_log")
	got, _ = logT.LocateKeys(Int(3), Int(6))
	if got.Table != "log_2" || got.Database != "shop_1" {
		t.Errorf("t_order_log.LocateKeys(3, 6) = %+v", got)
	}

	// One column for both strategies.
	pay := table(t, r, "t_pay")
	if !reflect.DeepEqual(pay.Keys(), []string{"order_id"}) {
		t.Errorf("t_pay keys %q", pay.Keys())
	}
	checkLocate(t, pay, Int(7), at("s1", "t_pay_3", 7))  // ds_1, t_pay_3: position 4+3
	checkLocate(t, pay, Int(10), at("s0", "t_pay_2", 2)) // ds_0, t_pay_2
	checkLocate(t, pay, String("7"), fails(ErrBadValue)) // Groovy: a String has no %
	checkLocate(t, table(t, r, "t_pay_detail"), Int(7), at("s1", "t_pay_detail_3", 7))
	ins, err := pay.LocateIn([]Value{Int(7), Int(3), Int(11), Int(10), Int(7)})
	if err != nil || !reflect.DeepEqual(names(ins), []string{"s0/ds_0.t_pay_2", "s1/shop_1.t_pay_3"}) {
		t.Errorf("LocateIn = %q, %v", names(ins), err)
	}

	// Table strategy only, Java String.hashCode.
	code := table(t, r, "t_code")
	hash := func(s string) int { // Math.abs(s.hashCode()) % 4 with the JDK formula
		var h int32
		for _, c := range s {
			h = 31*h + int32(c)
		}
		if h < 0 {
			h = -h
		}
		return int(h % 4)
	}
	for _, s := range []string{"abc", "Aa", "order-17", "zz", "x"} {
		n := hash(s)
		slice := "s0"
		if n >= 2 {
			slice = "s1"
		}
		checkLocate(t, code, String(s), at(slice, fmt.Sprintf("t_code_%d", n), n))
	}
	checkLocate(t, code, Int(-7), at("s1", "t_code_3", 3)) // Integer.hashCode(-7) = -7, abs 7, 7%4 = 3 (position 3)

	// Database strategy only: one table per data source.
	acct := table(t, r, "t_account")
	checkLocate(t, acct, Int(5), at("s1", "t_account", 1))
	checkLocate(t, acct, Int(8), at("s0", "t_account", 0))

	// Unbounded expression: names outside data_nodes fail at run time.
	raw := table(t, r, "t_raw")
	checkLocate(t, raw, Int(2), at("s0", "t_raw_2", 2))
	checkLocate(t, raw, Int(9), fails(ErrNoTarget))

	dict := table(t, r, "t_dict")
	if got := names(dict.All()); !reflect.DeepEqual(got, []string{"s0/ds_0.t_dict", "s1/shop_1.t_dict"}) {
		t.Errorf("global on data sources: %q", got)
	}
}

func TestLinkedGlobalDefault(t *testing.T) {
	r := rulesFor(t, `    databases:
      - name: shop
        tables:
          - {name: t_user,  type: sharded, key: id, algorithm: hash, slices: [s0, s1], tables_per_slice: 2}
          - {name: t_order, type: linked, parent: t_user, key: user_id}
          - {name: t_region, type: global}
          - {name: t_city, type: global, slices: [s1, s2]}
          - {name: t_event, type: sharded, key: created, algorithm: date_month, slices: [s0, s1], ranges: ["201601-201606", "201607-201612"], timezone: UTC}
          - {name: t_event_detail, type: linked, parent: t_event, key: event_created}
`)
	user, order := table(t, r, "t_user"), table(t, r, "t_order")
	if order.Kind() != Linked || order.Key() != "user_id" || order.Parent() != user || order.Algorithm() != config.AlgHash {
		t.Errorf("t_order metadata: %v %q", order.Kind(), order.Key())
	}
	for v := int64(-3); v < 10; v++ {
		u, err1 := user.Locate(Int(v))
		o, err2 := order.Locate(Int(v))
		if err1 != nil || err2 != nil || u.Slice != o.Slice || u.Index != o.Index || o.Table != fmt.Sprintf("t_order_%04d", u.Index) {
			t.Errorf("linked %d: user %+v order %+v (%v %v)", v, u, o, err1, err2)
		}
	}
	checkLocate(t, order, Int(3), at("s1", "t_order_0003", 3))
	detail := table(t, r, "t_event_detail")
	checkLocate(t, detail, String("2016-08-15"), at("s1", "t_event_detail_201608", 201608))
	if got, _ := detail.LocateRange(Inclusive(String("2016-05-01")), Exclusive(String("2016-07-01"))); !reflect.DeepEqual(names(got), []string{"s0/shop.t_event_detail_201605", "s0/shop.t_event_detail_201606"}) {
		t.Errorf("linked LocateRange = %q", names(got))
	}

	region := table(t, r, "t_region")
	if got := names(region.All()); !reflect.DeepEqual(got, []string{"s0/shop.t_region", "s1/shop.t_region", "s2/shop.t_region"}) {
		t.Errorf("global All = %q", got)
	}
	if _, err := region.Locate(Int(1)); !errors.Is(err, ErrNotKeyed) {
		t.Errorf("global Locate: %v", err)
	}
	if _, err := region.LocateIn([]Value{Int(1)}); !errors.Is(err, ErrNotKeyed) {
		t.Errorf("global LocateIn: %v", err)
	}
	if got, _ := region.LocateColumn("id", Int(1)); len(got) != 3 {
		t.Errorf("global LocateColumn: %d", len(got))
	}
	if got, _ := region.LocateRange(Unbounded, Unbounded); len(got) != 3 {
		t.Errorf("global LocateRange: %d", len(got))
	}
	if region.Kind() != Global || region.Key() != "" || region.Keys() != nil {
		t.Errorf("global metadata")
	}
	city := table(t, r, "t_city")
	if got := city.Slices(); !reflect.DeepEqual(got, []string{"s1", "s2"}) {
		t.Errorf("global slices = %q", got)
	}

	// Tables without a rule live on the default slice, under their name.
	for _, tt := range []struct{ db, name string }{{"shop", "t_unknown"}, {"other", "t_user"}, {"", "x"}} {
		tb, ok := r.Table(tt.db, tt.name)
		if ok || tb.Kind() != Default {
			t.Errorf("Table(%q, %q) = %v, %v; want a default table", tt.db, tt.name, tb.Kind(), ok)
		}
		want := Target{Slice: "s0", Database: tt.db, Table: tt.name}
		for _, v := range []Value{Int(1), String("x"), {}} {
			if got, err := tb.Locate(v); err != nil || got != want {
				t.Errorf("default Locate = %+v, %v; want %+v", got, err, want)
			}
		}
		if got := tb.All(); len(got) != 1 || got[0] != want {
			t.Errorf("default All = %+v", got)
		}
		if got, _ := tb.LocateKeys(); got != want {
			t.Errorf("default LocateKeys = %+v", got)
		}
		if got, _ := tb.LocateIn([]Value{Int(1), Int(2)}); len(got) != 1 {
			t.Errorf("default LocateIn = %+v", got)
		}
	}
	// Lookups ignore case.
	if tb, ok := r.Table("SHOP", "T_User"); !ok || tb != user {
		t.Errorf("case-insensitive lookup failed")
	}
	if r.DefaultSlice() != "s0" || !r.HasRules() || len(r.Tables()) != 6 || r.Tables()[1] != order {
		t.Errorf("Rules metadata: %q %v %d", r.DefaultSlice(), r.HasRules(), len(r.Tables()))
	}
}

func TestLocateIn(t *testing.T) {
	r := rulesFor(t, `    databases:
      - name: shop
        tables:
          - {name: t_user, type: sharded, key: id, algorithm: hash, slices: [s0, s1], tables_per_slice: 2}
`)
	u := table(t, r, "t_user")
	got, err := u.LocateIn([]Value{Int(5), Int(1), Int(3), Int(9), String("7")})
	// 5%4=1, 1, 3, 9%4=1, "7"->7%4=3: tables 1 and 3, in All order.
	if err != nil || !reflect.DeepEqual(names(got), []string{"s0/shop.t_user_0001", "s1/shop.t_user_0003"}) {
		t.Errorf("LocateIn = %q, %v", names(got), err)
	}
	got, err = u.LocateIn([]Value{Int(2)})
	if err != nil || len(got) != 1 || got[0].Index != 2 {
		t.Errorf("LocateIn one = %+v, %v", got, err)
	}
	if got, err := u.LocateIn(nil); err != nil || len(got) != 0 {
		t.Errorf("LocateIn empty = %+v, %v", got, err)
	}
	if _, err := u.LocateIn([]Value{Int(1), Time(time.Now())}); !errors.Is(err, ErrBadValue) {
		t.Errorf("LocateIn bad value: %v", err)
	}
	var e *Error
	if _, err := u.LocateIn([]Value{Int(1), Time(time.Now())}); !errors.As(err, &e) || e.Table != "shop.t_user" || !strings.HasPrefix(err.Error(), "shard: shop.t_user: date-time") {
		t.Errorf("error text: %v", err)
	}
	// Many values: every table once.
	var vals []Value
	for i := int64(0); i < 100; i++ {
		vals = append(vals, Int(i))
	}
	if got, _ := u.LocateIn(vals); len(got) != 4 {
		t.Errorf("LocateIn(0..99) = %d targets", len(got))
	}
}

// TestBuildHandMade builds rules from namespaces made in code, not parsed
// from YAML: Build resolves their placement itself.
func TestBuildHandMade(t *testing.T) {
	ns := &config.Namespace{Name: "x", DefaultSlice: "s0", Slices: []*config.Slice{{Name: "s0"}, {Name: "s1"}}, Databases: []*config.Database{{
		Name: "shop",
		Tables: []*config.Table{
			{Name: "t", Type: config.TableSharded, Key: "id", Algorithm: config.AlgHash},
			{Name: "c", Type: config.TableLinked, Key: "tid", Parent: "t"},
		},
	}}}
	r, err := Build(ns)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := r.Table("shop", "c")
	if got := c.All(); len(got) != 2 || got[1] != (Target{Slice: "s1", Database: "shop", Table: "c_0001", Index: 1}) || c.Parent() == nil {
		t.Errorf("c = %+v", got)
	}
	ns.Databases[0].Tables[1].Parent = "nope"
	if _, err := Build(ns); err == nil || err.Error() != `databases[0].tables[1].parent "nope" does not name a sharded table of database "shop"` {
		t.Errorf("Build with an unknown parent: %v", err)
	}
	empty, err := Build(&config.Namespace{DefaultSlice: "s0"})
	if err != nil || empty.HasRules() {
		t.Errorf("empty namespace: %v", err)
	}
}

func TestValueString(t *testing.T) {
	tests := []struct {
		v    Value
		want string
		kind ValueKind
	}{
		{Int(-5), "-5", IntValue},
		{Uint(math.MaxUint64), "18446744073709551615", UintValue},
		{String("a'b"), `"a'b"`, StringValue},
		{Time(time.Date(2016, 3, 4, 5, 6, 7, 500, time.UTC)), "2016-03-04 05:06:07.0000005", TimeValue},
		{Value{}, "<no value>", NoValue},
	}
	for _, tt := range tests {
		if tt.v.String() != tt.want || tt.v.Kind() != tt.kind {
			t.Errorf("%#v: String %q Kind %v", tt.v, tt.v.String(), tt.v.Kind())
		}
	}
}
