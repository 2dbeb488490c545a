package shard

import (
	"testing"
)

const benchBody = `    datasources: {ds_0: s0, ds_1: s1}
    databases:
      - name: shop
        tables:
          - {name: t_user, type: sharded, key: id, algorithm: hash, slices: [s0, s1], tables_per_slice: 8}
          - {name: t_m, type: sharded, key: id, algorithm: mod, slices: [s0, s1], tables_per_slice: 8}
          - {name: t_r, type: sharded, key: id, algorithm: range, slices: [s0, s1], tables_per_slice: 8, table_row_limit: 1000000}
          - {name: t_ev, type: sharded, key: ctime, algorithm: date_month, slices: [s0, s1], ranges: ["202001-202112", "202201-202312"], timezone: UTC}
          - name: t_order
            type: sharded
            algorithm: inline
            key: order_id
            database_strategy: {expression: "ds_${order_id % 2}"}
            table_strategy: {expression: "t_order_${order_id % 16}"}
            data_nodes: "ds_${0..1}.t_order_${0..15}"
`

func TestLocateAllocs(t *testing.T) {
	r := rulesFor(t, benchBody)
	tests := []struct {
		table string
		v     Value
	}{
		{"t_user", Int(123456789)},
		{"t_user", String("abc-123")},
		{"t_user", String("123456789")},
		{"t_m", Int(123456789)},
		{"t_r", Int(1234567)},
		{"t_ev", String("2021-06-30 12:00:00")},
		{"t_order", Int(123456789)},
	}
	for _, tt := range tests {
		tb := table(t, r, tt.table)
		if _, err := tb.Locate(tt.v); err != nil {
			t.Fatalf("%s.Locate(%s): %v", tt.table, tt.v, err)
		}
		allocs := testing.AllocsPerRun(200, func() { _, _ = tb.Locate(tt.v) })
		if allocs != 0 {
			t.Errorf("%s.Locate(%s) allocates %.0f times", tt.table, tt.v, allocs)
		}
	}
	tb, _ := r.Table("shop", "t_user")
	if allocs := testing.AllocsPerRun(200, func() { _, _ = r.Table("shop", "t_user") }); allocs != 0 || tb == nil {
		t.Errorf("Rules.Table allocates %.0f times", allocs)
	}
}

func BenchmarkLocateHash(b *testing.B) {
	r := rulesFor(b, benchBody)
	tb, _ := r.Table("shop", "t_user")
	b.ReportAllocs()
	var sink Target
	for i := 0; b.Loop(); i++ {
		sink, _ = tb.Locate(Int(int64(i)))
	}
	_ = sink
}

func BenchmarkLocateHashString(b *testing.B) {
	r := rulesFor(b, benchBody)
	tb, _ := r.Table("shop", "t_user")
	v := String("user-000123456")
	b.ReportAllocs()
	for b.Loop() {
		_, _ = tb.Locate(v)
	}
}

func BenchmarkLocateMod(b *testing.B) {
	r := rulesFor(b, benchBody)
	tb, _ := r.Table("shop", "t_m")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_, _ = tb.Locate(Int(int64(i)))
	}
}

func BenchmarkLocateDateMonth(b *testing.B) {
	r := rulesFor(b, benchBody)
	tb, _ := r.Table("shop", "t_ev")
	v := String("2021-06-30 12:00:00")
	b.ReportAllocs()
	for b.Loop() {
		_, _ = tb.Locate(v)
	}
}

func BenchmarkLocateInline(b *testing.B) {
	r := rulesFor(b, benchBody)
	tb, _ := r.Table("shop", "t_order")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_, _ = tb.Locate(Int(int64(i)))
	}
}

func BenchmarkRulesTable(b *testing.B) {
	r := rulesFor(b, benchBody)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = r.Table("shop", "t_user")
	}
}
