package shard

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/switchyard-db/switchyard/internal/config"
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

// TestPlacementResolve checks the physical tables resolved for every kind
// of rule.
func TestPlacementResolve(t *testing.T) {
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
	c, err := ParseConfig([]byte(y), "test.yaml")
	if err != nil {
		t.Fatalf("ParseConfig:\n%v", err)
	}
	r, err := Build(c.Namespaces[0])
	if err != nil {
		t.Fatal(err)
	}
	tb := r.Tables()
	if len(tb) != 10 {
		t.Fatalf("%d tables", len(tb))
	}
	nodes := func(t *Table) []string {
		var out []string
		for i, n := range t.All() {
			s := n.Slice + "/" + n.Database + "." + n.Table + "#" + strconv.Itoa(n.Index)
			if t.in != nil {
				s += "@" + t.in.dsOf[i]
			}
			out = append(out, s)
		}
		return out
	}
	tests := []struct {
		t    *Table
		want []string
	}{
		{tb[0], []string{"s0/shop.t_user_0000#0", "s0/shop.t_user_0001#1", "s1/shop.t_user_0002#2", "s1/shop.t_user_0003#3"}},
		{tb[1], []string{"s0/shop.t_order_0000#0", "s0/shop.t_order_0001#1", "s1/shop.t_order_0002#2", "s1/shop.t_order_0003#3"}},
		{tb[2], []string{"s0/shop.t_region#0", "s1/shop.t_region#1", "s2/shop.t_region#2"}},
		{tb[3], []string{"s0/shop.t_event_201512#201512", "s0/shop.t_event_201601#201601", "s1/shop.t_event_201603#201603"}},
		{tb[4], []string{"s0/shop.t_loc_0000#0", "s1/shop.t_loc_0001#1", "s1/shop.t_loc_0002#2", "s2/shop.t_loc_0003#3"}},
		{tb[5], []string{"s2/shop.t_r_0000#0", "s2/shop.t_r_0001#1", "s2/shop.t_r_0002#2"}},
		{tb[6], []string{"s0/ds_0.t_pay_0#0@ds_0", "s0/ds_0.t_pay_1#1@ds_0", "s1/shop_1.t_pay_0#2@ds_1", "s1/shop_1.t_pay_1#3@ds_1"}},
		{tb[7], []string{"s1/shop_1.t_dict#0", "s0/ds_0.t_dict#1"}},
		{tb[8], []string{"s1/shop.T_Y_2020#2020", "s1/shop.T_Y_2021#2021"}},
		{tb[9], []string{"s0/shop.t_null_0000#0", "s1/shop.t_null_0001#1", "s2/shop.t_null_0002#2"}},
	}
	for _, tt := range tests {
		if got := nodes(tt.t); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s.All() = %q\nwant %q", tt.t.Name(), got, tt.want)
		}
	}
	// Defaults.
	if h := tb[0].loc.(*hashLoc); !h.numericFirst {
		t.Errorf("t_user: string_hash defaults to numeric_first")
	}
	if h := tb[9].loc.(*hashLoc); !h.numericFirst {
		t.Errorf("t_null: string_hash without a value defaults to numeric_first")
	}
	if !reflect.DeepEqual(tb[4].Slices(), []string{"s0", "s1", "s2"}) {
		t.Errorf("t_loc slices default to all: %q", tb[4].Slices())
	}
	if got := tb[5].loc.(*explicitRangeLoc).ranges; !reflect.DeepEqual(got, []Range{{minInt64, 0}, {0, 100}, {100, maxInt64}}) {
		t.Errorf("t_r ranges = %+v", got)
	}
	if loc := tb[3].loc.(*dateLoc).loc; loc.String() != DefaultTimezone {
		t.Errorf("t_event location %v, want %s", loc, DefaultTimezone)
	}
	if loc := tb[8].loc.(*dateLoc).loc; loc.String() != "Asia/Shanghai" {
		t.Errorf("T_Y location %v", loc)
	}
	if got := tb[6].Keys(); !reflect.DeepEqual(got, []string{"uid", "oid"}) {
		t.Errorf("t_pay keys = %q", got)
	}
	// Resolving does not modify the decoded configuration.
	if ct := c.Namespaces[0].Databases[0].Tables[4]; ct.Slices != nil {
		t.Errorf("t_loc's config slices were set: %q", ct.Slices)
	}
}

func TestPlacementErrors(t *testing.T) {
	const ds = "    datasources: {ds_0: s0, ds_1: s1}\n" // line 10; tables from line 14
	tests := []struct {
		name  string
		yaml  string
		wants []string // exact lines of the error
	}{
		{"tables_per_slice count", withTables("", `{name: t, type: sharded, key: id, algorithm: hash, slices: [s0, s1], tables_per_slice: [1, 2, 3]}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].tables_per_slice has 3 entries but slices has 2 (one count per slice)`}},
		{"tables_per_slice zero", withTables("", `{name: t, type: sharded, key: id, algorithm: mod, tables_per_slice: 0}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].tables_per_slice must be at least 1, got 0`}},
		{"tables_per_slice entry", withTables("", `{name: t, type: sharded, key: id, algorithm: mod, slices: [s0, s1], tables_per_slice: [2, -1]}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].tables_per_slice[1] must be at least 1, got -1`}},
		{"too many tables", withTables("", `{name: t, type: sharded, key: id, algorithm: hash, slices: [s0, s1], tables_per_slice: 40000}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].tables_per_slice: more than 65536 tables`}},
		{"range needs limit or ranges", withTables("", `{name: t, type: sharded, key: id, algorithm: range}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0]: a range table needs table_row_limit or ranges`}},
		{"range limit and ranges", withTables("", `{name: t, type: sharded, key: id, algorithm: range, table_row_limit: 5, ranges: [[0, 5]]}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0]: table_row_limit and ranges are mutually exclusive`}},
		{"range limit zero", withTables("", `{name: t, type: sharded, key: id, algorithm: range, table_row_limit: 0}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].table_row_limit must be at least 1, got 0`}},
		{"range limit overflow", withTables("", `{name: t, type: sharded, key: id, algorithm: range, slices: [s0], tables_per_slice: 4, table_row_limit: 4611686018427387904}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].table_row_limit 4611686018427387904 × 4 tables overflows a 64-bit key`}},
		{"ranges count", withTables("", `{name: t, type: sharded, key: id, algorithm: range, slices: [s0, s1], ranges: [[0, 5]]}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].ranges has 1 entries but the table has 2 physical tables (tables_per_slice)`}},
		{"ranges not contiguous", withTables("", `{name: t, type: sharded, key: id, algorithm: range, slices: [s0], tables_per_slice: 3, ranges: [[0, 5], [6, 9], [9, 9]]}`),
			[]string{
				`test.yaml:13: namespaces[0].databases[0].tables[0].ranges[1] starts at 6 but ranges[0] ends at 5 (ranges must be contiguous and ascending)`,
				`test.yaml:13: namespaces[0].databases[0].tables[0].ranges[2] [9, 9]: lo must be less than hi`,
			}},
		{"ranges min max misplaced", withTables("", `{name: t, type: sharded, key: id, algorithm: range, slices: [s0], tables_per_slice: 2, ranges: [[0, max], [min, 5]]}`),
			[]string{
				`test.yaml:13: namespaces[0].databases[0].tables[0].ranges[0]: only the last range may end at max`,
				`test.yaml:13: namespaces[0].databases[0].tables[0].ranges[1]: only the first range may start at min`,
			}},
		{"range with date ranges", withTables("", `{name: t, type: sharded, key: id, algorithm: range, slices: [s0], ranges: ["2015-2016"]}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].ranges[0] "2015-2016": a range table takes [lo, hi] pairs, one per physical table`}},
		{"date needs ranges", withTables("", `{name: t, type: sharded, key: c, algorithm: date_day, slices: [s0]}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0]: a date_day table needs ranges, one date range per slice`}},
		{"date ranges count", withTables("", `{name: t, type: sharded, key: c, algorithm: date_year, slices: [s0, s1], ranges: [2015]}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].ranges has 1 entries but slices has 2 (one date range per slice)`}},
		{"date pair", withTables("", `{name: t, type: sharded, key: c, algorithm: date_month, slices: [s0], ranges: [[1, 2]]}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].ranges[0]: a date_month table takes date ranges such as "201512" or "201512-201602", not [lo, hi] pairs`}},
		{"date overlap", withTables("", `{name: t, type: sharded, key: c, algorithm: date_year, slices: [s0, s1], ranges: [2015-2017, 2017-2018]}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].ranges[1] "2017-2018" starts at or before the end of ranges[0] (2017): date ranges must ascend without overlap`}},
		{"date descending", withTables("", `{name: t, type: sharded, key: c, algorithm: date_year, slices: [s0, s1], ranges: [2018, 2015]}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].ranges[1] "2015" starts at or before the end of ranges[0] (2018): date ranges must ascend without overlap`}},
		{"date range invalid", withTables("", `{name: t, type: sharded, key: c, algorithm: date_day, slices: [s0, s1], ranges: ["20160230", "2016-2017"]}`),
			[]string{
				`test.yaml:13: namespaces[0].databases[0].tables[0].ranges[0] "20160230": day 30 in 20160230 is invalid`,
				`test.yaml:13: namespaces[0].databases[0].tables[0].ranges[1] "2016-2017": not a day range such as "20151222" or "20151222-20151224"`,
			}},
		{"date reversed", withTables("", `{name: t, type: sharded, key: c, algorithm: date_month, slices: [s0], ranges: ["201602-201512"]}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].ranges[0] "201602-201512": the range ends before it begins (write 201512-201602)`}},
		{"timezone", withTables("", `{name: t, type: sharded, key: c, algorithm: date_year, slices: [s0], ranges: [2015], timezone: Mars/Olympus}`),
			[]string{`test.yaml:13: namespaces[0].databases[0].tables[0].timezone "Mars/Olympus" is invalid: unknown time zone`}},
		{"linked key missing", withTables("", `{name: p, type: sharded, key: id, algorithm: hash}`, `{name: c, type: linked, parent: p}`),
			[]string{`test.yaml:14: namespaces[0].databases[0].tables[1].key is required for a linked table (its column holding the parent's id)`}},
		{"linked data_nodes on kingshard parent", withTables(ds, `{name: p, type: sharded, key: id, algorithm: hash}`, `{name: c, type: linked, key: id, parent: p, data_nodes: "ds_0.x"}`),
			[]string{`test.yaml:15: namespaces[0].databases[0].tables[1].data_nodes only applies when the parent is an inline table`}},
		{"linked keyed on two-column parent", withTables(ds,
			`{name: p, type: sharded, algorithm: inline, database_strategy: {column: a, expression: "ds_${a % 2}"}, table_strategy: {column: b, expression: "p_${b % 2}"}, data_nodes: "ds_${0..1}.p_${0..1}"}`,
			`{name: c, type: linked, key: a, parent: p}`),
			[]string{`test.yaml:15: namespaces[0].databases[0].tables[1].key does not apply: parent "p" is sharded by two columns (a, b), which the linked table shares`}},
		{"linked names not derivable", withTables(ds,
			`{name: p, type: sharded, algorithm: inline, key: a, table_strategy: {expression: "x_${a % 2}"}, data_nodes: "ds_0.x_${0..1}"}`,
			`{name: c, type: linked, key: a, parent: p}`),
			[]string{`test.yaml:15: namespaces[0].databases[0].tables[1]: data_nodes is required: the parent's physical table "x_0" does not start with "p", so "c" cannot be derived from it`}},
		{"linked data_nodes mismatch", withTables(ds,
			`{name: p, type: sharded, algorithm: inline, key: a, database_strategy: {expression: "ds_${a % 2}"}, data_nodes: "ds_${0..1}.p"}`,
			`{name: c, type: linked, key: a, parent: p, data_nodes: "ds_1.c, ds_0.c"}`),
			[]string{`test.yaml:15: namespaces[0].databases[0].tables[1].data_nodes "ds_1.c, ds_0.c": node 0 is ds_1.c but the parent's is ds_0.p (same data source order required)`}},
		{"linked data_nodes count", withTables(ds,
			`{name: p, type: sharded, algorithm: inline, key: a, database_strategy: {expression: "ds_${a % 2}"}, data_nodes: "ds_${0..1}.p"}`,
			`{name: c, type: linked, key: a, parent: p, data_nodes: "ds_0.c"}`),
			[]string{`test.yaml:15: namespaces[0].databases[0].tables[1].data_nodes "ds_0.c" has 1 nodes but parent "p" has 2`}},
		{"inline needs data_nodes", withTables(ds, `{name: t, type: sharded, algorithm: inline, key: id, table_strategy: {expression: "t_${id % 2}"}}`),
			[]string{`test.yaml:14: namespaces[0].databases[0].tables[0]: an inline table needs data_nodes, e.g. "ds_${0..1}.t_${0..3}"`}},
		{"inline needs a strategy", withTables(ds, `{name: t, type: sharded, algorithm: inline, data_nodes: "ds_0.t"}`),
			[]string{`test.yaml:14: namespaces[0].databases[0].tables[0]: an inline table needs database_strategy, table_strategy or both`}},
		{"data node undefined data source", withTables(ds, `{name: t, type: sharded, algorithm: inline, key: id, database_strategy: {expression: "ds_${id % 3}"}, data_nodes: "ds_${0..2}.t"}`),
			[]string{`test.yaml:14: namespaces[0].databases[0].tables[0].data_nodes "ds_${0..2}.t": data source "ds_2" is not defined in the namespace's datasources`}},
		{"data node syntax", withTables(ds, `{name: t, type: sharded, algorithm: inline, key: id, database_strategy: {expression: "ds_${id % 2}"}, data_nodes: "ds_${0..1}"}`),
			[]string{`test.yaml:14: namespaces[0].databases[0].tables[0].data_nodes "ds_${0..1}": "ds_0" is not datasource.table`}},
		{"data node twice", withTables(ds, `{name: t, type: sharded, algorithm: inline, key: id, table_strategy: {expression: "t_${id % 2}"}, data_nodes: "ds_0.t_${0..1}, ds_0.t_1"}`),
			[]string{`test.yaml:14: namespaces[0].databases[0].tables[0].data_nodes "ds_0.t_${0..1}, ds_0.t_1": ds_0.t_1 is listed twice`}},
		{"data node expression", withTables(ds, `{name: t, type: sharded, algorithm: inline, key: id, table_strategy: {expression: "t_${id % 2}"}, data_nodes: "ds_0.t_${0..}"}`),
			[]string{`test.yaml:14: namespaces[0].databases[0].tables[0].data_nodes "ds_0.t_${0..}": unexpected "}" at column 13`}},
		{"strategy expression error", withTables(ds, `{name: t, type: sharded, algorithm: inline, key: id, table_strategy: {expression: "t_${id.substring(1)}"}, data_nodes: "ds_0.t"}`),
			[]string{`test.yaml:14: namespaces[0].databases[0].tables[0].table_strategy.expression "t_${id.substring(1)}": unsupported method substring() with 1 argument(s) (supported: hashCode(), intdiv(n), Math.abs(x), Math.floorMod(x, n)) at column 8`}},
		{"strategy wrong column", withTables(ds, `{name: t, type: sharded, algorithm: inline, database_strategy: {column: uid, expression: "ds_${user_id % 2}"}, data_nodes: "ds_${0..1}.t"}`),
			[]string{`test.yaml:14: namespaces[0].databases[0].tables[0].database_strategy.expression "ds_${user_id % 2}" uses "user_id", but the strategy's column is "uid"`}},
		{"strategy column missing", withTables(ds, `{name: t, type: sharded, algorithm: inline, database_strategy: {expression: "ds_${uid % 2}"}, data_nodes: "ds_${0..1}.t"}`),
			[]string{`test.yaml:14: namespaces[0].databases[0].tables[0].database_strategy.column is required (or set the table's key)`}},
		{"strategy expression missing", withTables(ds, `{name: t, type: sharded, algorithm: inline, key: id, database_strategy: {column: uid}, data_nodes: "ds_${0..1}.t"}`),
			[]string{`test.yaml:14: namespaces[0].databases[0].tables[0].database_strategy.expression is required`}},
		{"strategy produces missing data source", withTables(ds, `{name: t, type: sharded, algorithm: inline, key: id, database_strategy: {expression: "ds_${id % 4}"}, data_nodes: "ds_${0..1}.t"}`),
			[]string{`test.yaml:14: namespaces[0].databases[0].tables[0].database_strategy.expression "ds_${id % 4}" can produce "ds_2", which is not a data source in data_nodes`}},
		{"strategy produces negative table", withTables(ds, `{name: t, type: sharded, algorithm: inline, key: code, table_strategy: {expression: "t_${code.hashCode() % 2}"}, data_nodes: "ds_0.t_${0..1}"}`),
			[]string{`test.yaml:14: namespaces[0].databases[0].tables[0].table_strategy.expression "t_${code.hashCode() % 2}" can produce "t_-1", which is not a table in data_nodes (negative remainders: wrap the value in Math.abs(...))`}},
		{"strategy with a range", withTables(ds, `{name: t, type: sharded, algorithm: inline, key: id, table_strategy: {expression: "t_${0..1}"}, data_nodes: "ds_0.t_${0..1}"}`),
			[]string{`test.yaml:14: namespaces[0].databases[0].tables[0].table_strategy.expression "t_${0..1}" must name one table, not a range or list`}},
		{"table strategy required", withTables(ds, `{name: t, type: sharded, algorithm: inline, key: id, database_strategy: {expression: "ds_${id % 2}"}, data_nodes: "ds_${0..1}.t_${0..1}"}`),
			[]string{`test.yaml:14: namespaces[0].databases[0].tables[0]: table_strategy is required: data source "ds_0" holds tables "t_0" and "t_1"`}},
		{"database strategy required", withTables(ds, `{name: t, type: sharded, algorithm: inline, key: id, table_strategy: {expression: "t_${id % 2}"}, data_nodes: "ds_${0..1}.t_${0..1}"}`),
			[]string{`test.yaml:14: namespaces[0].databases[0].tables[0]: database_strategy is required: table "t_0" is in data sources "ds_0" and "ds_1"`}},
		{"physical collision", withTables("",
			`{name: t_user, type: sharded, key: id, algorithm: hash, slices: [s0, s1], tables_per_slice: 2}`,
			`{name: t_user_0001, type: global, slices: [s0]}`),
			[]string{`test.yaml:14: namespaces[0].databases[0].tables[1]: physical table shop.t_user_0001 on slice s0 is also a physical table of shop.t_user (namespaces[0].databases[0].tables[0])`}},
		{"physical collision through a data source", withTables("    datasources: {ds_0: {slice: s0, database: shop}}\n",
			`{name: g, type: global, slices: [s0]}`,
			`{name: t, type: sharded, algorithm: inline, key: id, table_strategy: {expression: "g"}, data_nodes: "ds_0.g"}`),
			[]string{`test.yaml:15: namespaces[0].databases[0].tables[1]: physical table shop.g on slice s0 is also a physical table of shop.g (namespaces[0].databases[0].tables[0])`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(tt.yaml), "test.yaml")
			if err == nil {
				t.Fatalf("ParseConfig succeeded (%+v); want errors %q", c, tt.wants)
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

func TestParseDateRange(t *testing.T) {
	tests := []struct {
		alg  config.Algorithm
		text string
		want []int
		err  string
	}{
		{config.AlgDateYear, "2015-2017", []int{2015, 2016, 2017}, ""},
		{config.AlgDateYear, "2015", []int{2015}, ""},
		{config.AlgDateMonth, "201511-201602", []int{201511, 201512, 201601, 201602}, ""},
		{config.AlgDateMonth, "201512", []int{201512}, ""},
		{config.AlgDateDay, "20151230-20160102", []int{20151230, 20151231, 20160101, 20160102}, ""},
		{config.AlgDateDay, "20160228-20160301", []int{20160228, 20160229, 20160301}, ""}, // leap year
		{config.AlgDateDay, "20150228-20150301", []int{20150228, 20150301}, ""},
		{config.AlgDateYear, "15-17", nil, `not a year range such as "2015" or "2015-2017"`},
		{config.AlgDateYear, "2015-", nil, "not a year range"},
		{config.AlgDateYear, "2017-2015", nil, "the range ends before it begins (write 2015-2017)"},
		{config.AlgDateMonth, "201500", nil, "month 00 in 201500 is invalid"},
		{config.AlgDateMonth, "2015-12", nil, "not a month range"},
		{config.AlgDateDay, "20150229", nil, "day 29 in 20150229 is invalid"},
		{config.AlgDateDay, "2015122a", nil, "not a day range"},
		{config.AlgDateDay, "20000101-22000101", nil, "more than 65536 periods"},
		{config.AlgHash, "2015", nil, `"hash" is not a date algorithm`},
	}
	for _, tt := range tests {
		got, err := parseDateRange(tt.alg, tt.text)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseDateRange(%s, %q) error %v, want %q", tt.alg, tt.text, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseDateRange(%s, %q) = %v, %v; want %v", tt.alg, tt.text, got, err, tt.want)
		}
	}
}
