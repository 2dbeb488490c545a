package shard

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/placement.golden")

// TestPlacementGolden records, for a configuration using every rule type,
// each table's physical tables and where sample keys go, so that any change
// of placement shows up in review (testdata/placement.golden; go test
// -update rewrites it).
func TestPlacementGolden(t *testing.T) {
	r := rulesFor(t, strings.Replace(inlineBody, "        tables:\n", `        tables:
          - {name: t_user, type: sharded, key: id, algorithm: hash, slices: [s0, s1, s2], tables_per_slice: [1, 2, 1]}
          - {name: t_user_ext, type: linked, parent: t_user, key: user_id}
          - {name: t_mod, type: sharded, key: id, algorithm: mod, slices: [s1, s2], tables_per_slice: 2}
          - {name: t_range, type: sharded, key: id, algorithm: range, slices: [s0, s1], tables_per_slice: 2, table_row_limit: 100}
          - {name: t_year, type: sharded, key: ctime, algorithm: date_year, slices: [s0, s1], ranges: [2015-2016, 2017], timezone: UTC}
          - {name: t_day, type: sharded, key: ctime, algorithm: date_day, slices: [s1, s2], ranges: ["20151231-20160101", "20160102"], timezone: Asia/Shanghai}
          - {name: t_region, type: global}
`, 1))
	samples := []Value{Int(0), Int(1), Int(7), Int(-1), Int(199), Int(1451606400), String("42"), String("abc"),
		String("2015-12-31 23:59:59"), String("2016-01-02")}
	var b strings.Builder
	for _, tb := range r.Tables() {
		fmt.Fprintf(&b, "%s.%s %s", tb.Database(), tb.Name(), tb.Kind())
		if tb.Algorithm() != "" {
			fmt.Fprintf(&b, " %s", tb.Algorithm())
		}
		if len(tb.Keys()) > 0 {
			fmt.Fprintf(&b, " keys=%s", strings.Join(tb.Keys(), ","))
		}
		b.WriteString("\n  all:")
		for _, tg := range tb.All() {
			fmt.Fprintf(&b, " %s/%s.%s#%d", tg.Slice, tg.Database, tg.Table, tg.Index)
		}
		b.WriteString("\n")
		if tb.Kind() == Global {
			continue
		}
		for _, v := range samples {
			var tg Target
			var err error
			if len(tb.Keys()) == 2 {
				tg, err = tb.LocateKeys(v, v)
			} else {
				tg, err = tb.Locate(v)
			}
			if err != nil {
				fmt.Fprintf(&b, "  %s -> error: %v\n", v, err)
			} else {
				fmt.Fprintf(&b, "  %s -> %s/%s.%s#%d\n", v, tg.Slice, tg.Database, tg.Table, tg.Index)
			}
		}
	}
	golden := filepath.Join("testdata", "placement.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if b.String() != string(want) {
		t.Errorf("placement differs from %s (go test -update rewrites it):\n%s", golden, b.String())
	}
}
