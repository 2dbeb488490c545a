package config

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

// shardHeader is a namespace with three slices; the body starts on line 10.
const shardHeader = `namespaces:
  - name: shop
    users: [{name: app}]
    backend: {user: proxy}
    default_slice: s0
    slices:
      - {name: s0, primary: 127.0.0.1:3310}
      - {name: s1, primary: 127.0.0.1:3320}
      - {name: s2, primary: 127.0.0.1:3330}
`

// withTables returns a config whose database "shop" has the given table
// lines (each one line of YAML); table i is on line 13+i. extra goes
// between the slices and the databases (lines 10..).
func withTables(extra string, tables ...string) string {
	var b strings.Builder
	b.WriteString(shardHeader)
	b.WriteString(extra)
	b.WriteString("    databases:\n      - name: shop\n        tables:\n")
	for _, t := range tables {
		b.WriteString("          - " + t + "\n")
	}
	return b.String()
}

// TestShardingDecode checks that rules decode as written; package shard
// resolves them into physical tables (internal/shard/placement_test.go).
func TestShardingDecode(t *testing.T) {
	y := withTables(`    datasources:
      ds_0: s0
      ds_1: {slice: s1, database: shop_1}
`,
		`{name: t_user, type: sharded, key: id, algorithm: hash, slices: [s0, s1], tables_per_slice: 2}`,
		`{name: t_order, type: linked, parent: t_user, key: user_id}`,
		`{name: t_region, type: global}`,
		`{name: t_event, type: sharded, key: created, algorithm: date_month, slices: [s0, s1], ranges: ["201512-201601", 201603]}`,
		`{name: t_loc, type: sharded, key: id, algorithm: mod, tables_per_slice: [1, 2, 1]}`,
		`{name: t_r, type: sharded, key: id, algorithm: range, slices: [s2], tables_per_slice: 3, ranges: [[min, 0], [0, 100], [100, max]]}`,
		`{name: t_pay, type: sharded, algorithm: inline, database_strategy: {column: uid, expression: "ds_${uid % 2}"}, table_strategy: {column: oid, expression: "t_pay_${oid % 2}"}, data_nodes: "ds_${0..1}.t_pay_${0..1}"}`,
		`{name: t_dict, type: global, datasources: [ds_1, ds_0]}`,
		`{name: T_Y, type: sharded, key: y, algorithm: date_year, slices: [s1], ranges: ["2020-2021"], timezone: Asia/Shanghai}`,
		`{name: t_null, type: sharded, key: id, algorithm: hash, slices: ~, tables_per_slice: ~, string_hash: ~}`,
	)
	c, err := Parse([]byte(y), "test.yaml")
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	ns := c.Namespaces[0]
	if want := []DataSource{{"ds_0", "s0", "ds_0"}, {"ds_1", "s1", "shop_1"}}; !reflect.DeepEqual(ns.DataSources, want) {
		t.Errorf("DataSources = %+v", ns.DataSources)
	}
	if len(ns.Databases) != 1 || ns.Databases[0].Name != "shop" || len(ns.Databases[0].Tables) != 10 {
		t.Fatalf("Databases = %+v", ns.Databases)
	}
	tb := ns.Databases[0].Tables
	if u := tb[0]; u.Type != TableSharded || u.Algorithm != AlgHash || u.Key != "id" || !reflect.DeepEqual(u.Slices, []string{"s0", "s1"}) ||
		!reflect.DeepEqual(u.TablesPerSlice, []int{2}) || !u.SameTablesPerSlice || u.StringHash != "" {
		t.Errorf("t_user: %+v", u)
	}
	if o := tb[1]; o.Type != TableLinked || o.Parent != "t_user" || o.Key != "user_id" {
		t.Errorf("t_order: %+v", o)
	}
	if tb[2].Slices != nil || tb[2].DataSources != nil {
		t.Errorf("t_region: slices %q datasources %q, want both unset", tb[2].Slices, tb[2].DataSources)
	}
	if e := tb[3]; e.Timezone != "" || !reflect.DeepEqual(e.Ranges, []RangeItem{{Text: "201512-201601"}, {Text: "201603"}}) {
		t.Errorf("t_event: tz %q ranges %+v", e.Timezone, e.Ranges)
	}
	if l := tb[4]; l.Slices != nil || !reflect.DeepEqual(l.TablesPerSlice, []int{1, 2, 1}) || l.SameTablesPerSlice {
		t.Errorf("t_loc: %+v", l)
	}
	if want := []RangeItem{{Pair: true, Lo: math.MinInt64, Hi: 0}, {Pair: true, Lo: 0, Hi: 100}, {Pair: true, Lo: 100, Hi: math.MaxInt64}}; !reflect.DeepEqual(tb[5].Ranges, want) || tb[5].TableRowLimit != nil {
		t.Errorf("t_r ranges = %+v", tb[5].Ranges)
	}
	if p := tb[6]; p.Algorithm != AlgInline || *p.DatabaseStrategy != (Strategy{"uid", "ds_${uid % 2}"}) || *p.TableStrategy != (Strategy{"oid", "t_pay_${oid % 2}"}) || p.DataNodes != "ds_${0..1}.t_pay_${0..1}" {
		t.Errorf("t_pay: %+v", p)
	}
	if d := tb[7]; !reflect.DeepEqual(d.DataSources, []string{"ds_1", "ds_0"}) || d.Slices != nil {
		t.Errorf("t_dict: %+v", d)
	}
	if tb[8].Timezone != "Asia/Shanghai" {
		t.Errorf("T_Y timezone %q", tb[8].Timezone)
	}
	if n := tb[9]; n.Slices != nil || n.TablesPerSlice != nil || n.StringHash != "" {
		t.Errorf("keys without values stay unset: %+v", n)
	}
	limit := withTables("", `{name: t, type: sharded, key: id, algorithm: range, table_row_limit: 0}`)
	if c, err := Parse([]byte(limit), "test.yaml"); err != nil || *c.Namespaces[0].Databases[0].Tables[0].TableRowLimit != 0 {
		t.Errorf("table_row_limit: 0 is decoded as set (shard checks it): %v", err)
	}
}

func TestShardingErrors(t *testing.T) {
	const ds = "    datasources: {ds_0: s0, ds_1: s1}\n" // line 10; tables from line 14
	tests := []struct {
		name  string
		yaml  string
		wants []string // exact lines of the error
	}{
		{"type missing", withTables("", `{name: t}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].type is required (sharded, linked or global)`}},
		{"type invalid", withTables("", `{name: t, type: split}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].type "split" is invalid (want sharded, linked or global)`}},
		{"name missing", withTables("", `{type: global}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].name is required`}},
		{"duplicate table ignoring case", withTables("", `{name: t, type: global}`, `{name: T, type: global}`),
			[]string{`test.yaml:14: namespaces[0].databases[0].tables[1].name "T" is already used by namespaces[0].databases[0].tables[0]`}},
		{"algorithm missing", withTables("", `{name: t, type: sharded, key: id}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].algorithm is required for a sharded table (hash, mod, range, date_year, date_month, date_day or inline)`}},
		{"algorithm invalid", withTables("", `{name: t, type: sharded, key: id, algorithm: crc}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].algorithm "crc" is invalid (want hash, mod, range, date_year, date_month, date_day or inline)`}},
		{"key missing", withTables("", `{name: t, type: sharded, algorithm: hash}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].key is required for a sharded table`}},
		{"unknown slice", withTables("", `{name: t, type: sharded, key: id, algorithm: hash, slices: [s0, s9]}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].slices[1] "s9" does not name a slice of this namespace`}},
		{"slice twice", withTables("", `{name: t, type: sharded, key: id, algorithm: hash, slices: [s0, s0]}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].slices[1] "s0" is already listed as slices[0]`}},
		{"no slices", withTables("", `{name: t, type: sharded, key: id, algorithm: hash, slices: []}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].slices: at least one slice is required`}},
		{"tables_per_slice type", withTables("", `{name: t, type: sharded, key: id, algorithm: mod, tables_per_slice: two}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].tables_per_slice: expected an integer, got "two"`}},
		{"string_hash", withTables("", `{name: t, type: sharded, key: id, algorithm: hash, string_hash: md5}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].string_hash "md5" is invalid (want numeric_first or crc32)`}},
		{"key does not apply", withTables("", `{name: t, type: global, key: id, parent: x, tables_per_slice: 2}`),
			[]string{
				`test.yaml:13: namespaces[0].databases[0].tables[0].key does not apply to a global table`,
				`test.yaml:13: namespaces[0].databases[0].tables[0].tables_per_slice does not apply to a global table`,
				`test.yaml:13: namespaces[0].databases[0].tables[0].parent does not apply to a global table`,
			}},
		{"algorithm-specific keys", withTables("", `{name: t, type: sharded, key: id, algorithm: hash, table_row_limit: 10, timezone: UTC}`),
			[]string{
				`test.yaml:13: namespaces[0].databases[0].tables[0].table_row_limit does not apply to algorithm hash`,
				`test.yaml:13: namespaces[0].databases[0].tables[0].timezone does not apply to algorithm hash`,
			}},
		{"ranges bad bound", withTables("", `{name: t, type: sharded, key: id, algorithm: range, slices: [s0], ranges: [[0, top]]}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].ranges[0]: bound "top" must be an integer or "max"`}},
		{"ranges item shape", withTables("", `{name: t, type: sharded, key: id, algorithm: range, slices: [s0], ranges: [[0, 1, 2]]}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].ranges[0]: expected a date range such as "2015-2016" or a pair [lo, hi], got a list`}},
		{"tables_per_slice on date", withTables("", `{name: t, type: sharded, key: c, algorithm: date_year, slices: [s0], ranges: [2015], tables_per_slice: 1}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].tables_per_slice does not apply to algorithm date_year`}},
		{"linked parent missing", withTables("", `{name: c, type: linked, key: id}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].parent is required for a linked table`}},
		{"linked parent unknown", withTables("", `{name: c, type: linked, key: id, parent: nope}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].parent "nope" does not name a table of database "shop"`}},
		{"linked to linked", withTables("",
			`{name: p, type: sharded, key: id, algorithm: hash}`,
			`{name: c, type: linked, key: id, parent: p}`,
			`{name: g, type: linked, key: id, parent: c}`),
			[]string{`test.yaml:15: namespaces[0].databases[0].tables[2].parent "c" is a linked table; link to the sharded table it follows ("p")`}},
		{"linked to global", withTables("", `{name: p, type: global}`, `{name: c, type: linked, key: id, parent: p}`),
			[]string{`test.yaml:14: namespaces[0].databases[0].tables[1].parent "p" is a global table; only sharded tables can be parents`}},
		{"linked to itself", withTables("", `{name: c, type: linked, key: id, parent: C}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].parent "C" is the table itself`}},
		{"inline slices do not apply", withTables(ds, `{name: t, type: sharded, algorithm: inline, key: id, slices: [s0], table_strategy: {expression: "t"}, data_nodes: "ds_0.t"}`),
			[]string{`test.yaml:14: namespaces[0].databases[0].tables[0].slices does not apply to algorithm inline`}},
		{"global slices and datasources", withTables(ds, `{name: g, type: global, slices: [s0], datasources: [ds_0]}`),
			[]string{`test.yaml:14: namespaces[0].databases[0].tables[0]: slices and datasources are mutually exclusive`}},
		{"global unknown datasource", withTables(ds, `{name: g, type: global, datasources: [ds_0, ds_9, ds_0]}`),
			[]string{
				`test.yaml:14: namespaces[0].databases[0].tables[0].datasources[1] "ds_9" is not defined in the namespace's datasources`,
				`test.yaml:14: namespaces[0].databases[0].tables[0].datasources[2] "ds_0" is already listed as datasources[0]`,
			}},
		{"datasource slice", shardHeader + "    datasources:\n      ds_0: s9\n      ds_1: {database: x}\n      ds_2: [s0]\n",
			[]string{
				`test.yaml:11: namespaces[0].datasources.ds_0: slice "s9" does not name a slice of this namespace`,
				`test.yaml:12: namespaces[0].datasources.ds_1: slice is required`,
				`test.yaml:13: namespaces[0].datasources.ds_2: expected a slice name or {slice, database}, got a list`,
			}},
		{"datasource duplicate", shardHeader + "    datasources:\n      ds_0: s0\n      ds_0: s1\n",
			[]string{`test.yaml:12: duplicate data source "ds_0" in namespaces[0].datasources (first set on line 11)`}},
		{"datasources not a mapping", shardHeader + "    datasources: [ds_0]\n",
			[]string{`test.yaml:10: namespaces[0].datasources: expected a mapping of data source names to slices, got a list`}},
		{"database name", shardHeader + "    databases:\n      - tables: []\n      - name: a\n      - name: A\n",
			[]string{
				`test.yaml:11: namespaces[0].databases[0].name is required`,
				`test.yaml:13: namespaces[0].databases[2].name "A" is already used by namespaces[0].databases[1]`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), "test.yaml")
			if err == nil {
				t.Fatalf("Parse succeeded (%+v); want errors %q", c, tt.wants)
			}
			lines := strings.Split(err.Error(), "\n")
			for _, w := range tt.wants {
				found := false
				for _, l := range lines {
					if l == w {
						found = true
					}
				}
				if !found {
					t.Errorf("error:\n%v\nwant the line\n%s", err, w)
				}
			}
			if len(lines) != len(tt.wants) {
				t.Errorf("got %d errors, want %d:\n%v", len(lines), len(tt.wants), err)
			}
		})
	}
}

func TestShardingUnknownKeys(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"table", withTables("", `{name: t, type: global, slice: [s0]}`),
			`test.yaml:13: unknown key "slice" in table (namespaces[0].databases[0].tables[0]); did you mean "slices"?`},
		{"table kingshard key", withTables("", `{name: t, type: sharded, key: id, algorithm: hash, locations: [2, 2]}`),
			`test.yaml:13: unknown key "locations" in table (namespaces[0].databases[0].tables[0])`},
		{"strategy", withTables("", `{name: t, type: sharded, algorithm: inline, table_strategy: {colum: id}}`),
			`test.yaml:13: unknown key "colum" in strategy (namespaces[0].databases[0].tables[0].table_strategy); did you mean "column"?`},
		{"database", shardHeader + "    databases:\n      - {name: a, table: []}\n",
			`test.yaml:11: unknown key "table" in database (namespaces[0].databases[0]); did you mean "tables"?`},
		{"data source", shardHeader + "    datasources:\n      ds_0: {slice: s0, db: x}\n",
			`test.yaml:11: unknown key "db" in data source (namespaces[0].datasources.ds_0)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), "test.yaml")
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			found := false
			for _, l := range strings.Split(err.Error(), "\n") {
				if l == tt.want {
					found = true
				}
			}
			if !found {
				t.Errorf("error:\n%v\nwant the line\n%s", err, tt.want)
			}
		})
	}
}
