package convert

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/peersuite"
	"github.com/switchyard-db/switchyard/internal/shard"
)

// ssDataSources writes n data sources ds_0..ds_(n-1) on one server.
func ssDataSources(prefix string, n int, host string) string {
	var b strings.Builder
	b.WriteString("dataSources:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  %s%d:\n    url: jdbc:mysql://%s/db_%d?useSSL=false\n    username: test_user\n    password: Test@9876\n    maxPoolSize: 8\n", prefix, i, host, i)
	}
	return b.String()
}

// ssDB is the shape of the suite's `db` scenario: ten data sources, tables
// split by database with the E2E fixture algorithm.
var ssDB = "databaseName: db\n" + ssDataSources("ds_", 10, "mysql.db.host:3306") + `rules:
- !SINGLE
  tables:
    - "*.*"
- !SHARDING
  tables:
    t_order:
      actualDataNodes: ds_${0..9}.t_order
      databaseStrategy:
        standard:
          shardingColumn: user_id
          shardingAlgorithmName: e2e_standard_fixture
    t_order_item:
      actualDataNodes: ds_${0..9}.t_order_item
      databaseStrategy:
        standard:
          shardingColumn: user_id
          shardingAlgorithmName: e2e_standard_fixture
      auditStrategy:
        auditorNames: [auditor_constant]
  keyGenerateStrategies:
    t_order_item_item_id:
      keyGenerateType: column
      keyGeneratorName: auto_increment
      logicTable: t_order_item
      keyGenerateColumn: item_id
  bindingTables:
    - ref_0:t_order,t_order_item
  shardingAlgorithms:
    e2e_standard_fixture:
      type: E2E.SHARDING.STANDARD.FIXTURE
  keyGenerators:
    auto_increment:
      type: E2E.AUTO_INCREMENT.FIXTURE
- !BROADCAST
  tables:
    - t_country
`

func parseNS(t *testing.T, yaml []byte) (*config.Namespace, *shard.Rules) {
	t.Helper()
	cfg, err := config.Parse(yaml, "converted.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, yaml)
	}
	ns := cfg.Namespaces[0]
	rules, err := shard.Build(ns)
	if err != nil {
		t.Fatal(err)
	}
	return ns, rules
}

func TestShardingSphereDefaultSlices(t *testing.T) {
	res, err := ShardingSphere([]byte(ssDB), ShardingSphereOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ns, _ := parseNS(t, res.YAML)
	// Every data source stays on its server: one slice.
	if len(ns.Slices) != 1 || ns.Slices[0].Name != "s0" || ns.Slices[0].Primary != "mysql.db.host:3306" || ns.DefaultSlice != "s0" {
		t.Errorf("slices %+v default %s", ns.Slices, ns.DefaultSlice)
	}
	for i, d := range ns.DataSources {
		if d.Name != "ds_"+strconv.Itoa(i) || d.Slice != "s0" || d.Database != "db_"+strconv.Itoa(i) {
			t.Errorf("data source %d: %+v", i, d)
		}
	}
	if ns.Users[0].Name != "test_user" || ns.Users[0].RWSplit || ns.Backend.User != "test_user" || ns.Backend.Password != "Test@9876" {
		t.Errorf("users %+v backend %+v", ns.Users, ns.Backend)
	}
	for _, w := range []string{"E2E.AUTO_INCREMENT.FIXTURE", "auditor", "--single TABLE=DATASOURCE", "client users"} {
		if !strings.Contains(strings.Join(res.Warnings, "\n"), w) {
			t.Errorf("no warning mentions %q: %q", w, res.Warnings)
		}
	}
	for _, w := range res.Warnings {
		if !strings.Contains(string(res.YAML), "# WARNING: "+w+"\n") {
			t.Errorf("warning %q is not in the YAML", w)
		}
	}
}

func TestShardingSphereRoundRobin(t *testing.T) {
	res, err := ShardingSphere([]byte(ssDB), ShardingSphereOptions{
		Slices:       []string{"s0=10.0.0.1:3306", "s1=10.0.0.2:3306", "s2"},
		SingleTables: map[string]string{"t_user": "ds_0", "t_merchant": "ds_1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ns, rules := parseNS(t, res.YAML)
	if got := ns.Slices[2].Primary; got != "mysql.db.host:3306" {
		t.Errorf("s2 takes the data sources' address when no other slice has it: %s", got)
	}
	for i, d := range ns.DataSources {
		if want := fmt.Sprintf("s%d", i%3); d.Slice != want {
			t.Errorf("%s on %s, want %s (round-robin)", d.Name, d.Slice, want)
		}
	}
	order, _ := rules.Table("db", "t_order")
	item, _ := rules.Table("db", "t_order_item")
	if order.Kind() != shard.Sharded || item.Kind() != shard.Linked || item.Parent() != order {
		t.Fatalf("t_order %v, t_order_item %v", order.Kind(), item.Kind())
	}
	// The fixture: user_id % 10 names the data source.
	for u := int64(10); u < 30; u++ {
		for _, tb := range []*shard.Table{order, item} {
			got, err := tb.Locate(shard.Int(u))
			if err != nil {
				t.Fatal(err)
			}
			want := shard.Target{Slice: fmt.Sprintf("s%d", u%10%3), Database: fmt.Sprintf("db_%d", u%10), Table: tb.Name(), Index: int(u % 10)}
			if got != want {
				t.Errorf("%s user %d: got %+v, want %+v", tb.Name(), u, got, want)
			}
		}
	}
	country, _ := rules.Table("db", "t_country")
	if country.Kind() != shard.Global || len(country.All()) != 10 {
		t.Errorf("t_country: %v %d copies", country.Kind(), len(country.All()))
	}
	user, _ := rules.Table("db", "t_user")
	if all := user.All(); len(all) != 1 || all[0] != (shard.Target{Slice: "s0", Database: "db_0", Table: "t_user"}) {
		t.Errorf("t_user: %+v", all)
	}
	merchant, _ := rules.Table("db", "t_merchant")
	if all := merchant.All(); len(all) != 1 || all[0].Slice != "s1" || all[0].Database != "db_1" {
		t.Errorf("t_merchant: %+v", all)
	}
	if !strings.Contains(res.Rules, "    datasources:\n") || !strings.HasPrefix(res.Rules, "    default_slice: \"s0\"\n") {
		t.Errorf("Rules is not a namespace body:\n%s", res.Rules)
	}
	// Placeholder addresses when slices share the data sources' server.
	res, err = ShardingSphere([]byte(ssDB), ShardingSphereOptions{Slices: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	ns, _ = parseNS(t, res.YAML)
	if ns.Slices[0].Primary != "mysql.db.host:3306" || !strings.Contains(strings.Join(res.Warnings, "\n"), "slice b: its data sources are on mysql.db.host:3306, which slice a already uses") {
		t.Errorf("slices %+v warnings %q", ns.Slices, res.Warnings)
	}
}

func TestShardingSphereInlineAndDefaults(t *testing.T) {
	src := "databaseName: shop\n" + ssDataSources("ds_", 2, "127.0.0.1:3306") + `rules:
- !SHARDING
  tables:
    t_order:
      actualDataNodes: ds_${0..1}.t_order_${0..3}
      tableStrategy:
        standard:
          shardingColumn: order_id
          shardingAlgorithmName: t_order_inline
    t_order_item:
      actualDataNodes: ds_$->{0..1}.t_order_item_$->{0..3}
      tableStrategy:
        standard:
          shardingColumn: order_id
          shardingAlgorithmName: t_order_item_inline
    t_plain:
      actualDataNodes: ds_${0..1}.t_plain
    t_spread:
      tableStrategy:
        none:
  bindingTables:
    - t_order,t_order_item
  defaultDatabaseStrategy:
    standard:
      shardingColumn: user_id
      shardingAlgorithmName: database_inline
  shardingAlgorithms:
    database_inline:
      type: INLINE
      props:
        algorithm-expression: ds_${user_id % 2}
    t_order_inline:
      type: INLINE
      props:
        algorithm-expression: t_order_${order_id % 4}
        allow-range-query-with-inline-sharding: true
    t_order_item_inline:
      type: INLINE
      props:
        algorithm-expression: t_order_item_${order_id % 4}
`
	res, err := ShardingSphere([]byte(src), ShardingSphereOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, rules := parseNS(t, res.YAML)
	order, _ := rules.Table("shop", "t_order")
	item, _ := rules.Table("shop", "t_order_item")
	plain, _ := rules.Table("shop", "t_plain")
	if !reflect.DeepEqual(order.Keys(), []string{"user_id", "order_id"}) || item.Parent() != order || plain.Key() != "user_id" {
		t.Fatalf("keys %v, parent %v, plain %v", order.Keys(), item.Parent(), plain.Keys())
	}
	spread, _ := rules.Table("shop", "t_spread")
	if x, err := spread.Locate(shard.Int(3)); err != nil || x.Database != "db_1" || x.Table != "t_spread" || len(spread.All()) != 2 {
		t.Errorf("t_spread (no actualDataNodes: every data source): %+v %v", x, err)
	}
	got, err := item.LocateKeys(shard.Int(3), shard.Int(6))
	if err != nil || got.Database != "db_1" || got.Table != "t_order_item_2" {
		t.Errorf("t_order_item (3, 6): %+v %v", got, err)
	}
	if !strings.Contains(strings.Join(res.Warnings, "\n"), "allows range queries") {
		t.Errorf("warnings %q", res.Warnings)
	}
}

func TestShardingSphereReadWriteSplitting(t *testing.T) {
	src := "databaseName: rw\n" + ssDataSources("write_ds_", 2, "primary:3306") + strings.ReplaceAll(strings.ReplaceAll(ssDataSources("read_ds_", 2, "replica:3306"), "dataSources:\n", ""), "/db_", "/read_db_") + `rules:
- !SHARDING
  tables:
    t_order:
      actualDataNodes: readwrite_ds_${0..1}.t_order
      databaseStrategy:
        standard:
          shardingColumn: user_id
          shardingAlgorithmName: db
  shardingAlgorithms:
    db:
      type: INLINE
      props:
        algorithm-expression: readwrite_ds_${user_id % 2}
- !READWRITE_SPLITTING
  dataSourceGroups:
    readwrite_ds_0:
      writeDataSourceName: write_ds_0
      readDataSourceNames: [read_ds_0]
      loadBalancerName: rr
    readwrite_ds_1:
      writeDataSourceName: write_ds_1
      readDataSourceNames: [read_ds_1]
      loadBalancerName: rr
  loadBalancers:
    rr:
      type: ROUND_ROBIN
`
	res, err := ShardingSphere([]byte(src), ShardingSphereOptions{SingleTables: map[string]string{"t_user": "write_ds_1"}})
	if err != nil {
		t.Fatal(err)
	}
	ns, rules := parseNS(t, res.YAML)
	if !res.ReadWriteSplitting || !ns.Users[0].RWSplit {
		t.Error("read/write splitting users need rw_split")
	}
	if len(ns.Slices) != 1 || ns.Slices[0].Primary != "primary:3306" || len(ns.Slices[0].Replicas) != 1 || ns.Slices[0].Replicas[0].Addr != "replica:3306" {
		t.Errorf("slices: %+v", ns.Slices)
	}
	want := []SSDataSource{
		{Name: "readwrite_ds_0", Slice: "s0", Database: "db_0", Write: "write_ds_0", Addr: "primary:3306", Reads: []SSReadSource{{"read_ds_0", "read_db_0", "replica:3306"}}},
		{Name: "readwrite_ds_1", Slice: "s0", Database: "db_1", Write: "write_ds_1", Addr: "primary:3306", Reads: []SSReadSource{{"read_ds_1", "read_db_1", "replica:3306"}}},
	}
	if !reflect.DeepEqual(res.DataSources, want) {
		t.Errorf("data sources:\n got %+v\nwant %+v", res.DataSources, want)
	}
	if !strings.Contains(strings.Join(res.Warnings, "\n"), "read data source read_ds_0 (database read_db_0)") {
		t.Errorf("warnings %q", res.Warnings)
	}
	user, _ := rules.Table("rw", "t_user")
	if all := user.All(); len(all) != 1 || all[0].Database != "db_1" {
		t.Errorf("t_user: %+v", all)
	}
}

func TestShardingSphereErrors(t *testing.T) {
	base := "databaseName: e\n" + ssDataSources("ds_", 2, "h:3306")
	sharding := func(table string) string {
		return base + "rules:\n- !SHARDING\n  tables:\n" + table
	}
	cases := []struct {
		name, src, want string
		unconvertible   string
	}{
		{"hint", sharding(`    t_product:
      actualDataNodes: ds_0.t_product_${0..9}
      tableStrategy:
        hint:
          shardingAlgorithmName: h
  shardingAlgorithms:
    h:
      type: HINT_INLINE
      props:
        algorithm-expression: t_product_${value}
`), "hint strategy", "t_product"},
		{"class based", sharding(`    t_a:
      actualDataNodes: ds_${0..1}.t_a
      databaseStrategy:
        standard:
          shardingColumn: id
          shardingAlgorithmName: c
  shardingAlgorithms:
    c:
      type: CLASS_BASED
`), "type CLASS_BASED", "t_a"},
		{"complex", sharding(`    t_a:
      actualDataNodes: ds_${0..1}.t_a
      databaseStrategy:
        complex:
          shardingColumns: a,b
          shardingAlgorithmName: c
  shardingAlgorithms:
    c:
      type: COMPLEX_INLINE
`), "complex", "t_a"},
		{"fixture on 2 targets", sharding(`    t_a:
      actualDataNodes: ds_${0..1}.t_a
      databaseStrategy:
        standard:
          shardingColumn: id
          shardingAlgorithmName: f
  shardingAlgorithms:
    f:
      type: E2E.SHARDING.STANDARD.FIXTURE
`), "exactly 10 targets", "t_a"},
		{"no strategy", sharding("    t_a:\n      actualDataNodes: ds_${0..1}.t_a\n"), "no sharding strategy", "t_a"},
		{"binding child of an unconvertible parent", sharding(`    t_a:
      actualDataNodes: ds_${0..1}.t_a
    t_b:
      actualDataNodes: ds_${0..1}.t_b
      databaseStrategy:
        standard:
          shardingColumn: id
          shardingAlgorithmName: i
  bindingTables:
    - t_a,t_b
  shardingAlgorithms:
    i:
      type: INLINE
      props:
        algorithm-expression: ds_${id % 2}
`), "binding parent t_a", "t_b"},
		{"auto tables", base + "rules:\n- !SHARDING\n  autoTables:\n    t_auto:\n      actualDataSources: ds_0,ds_1\n", "autoTables", "t_auto"},
		{"unknown rule", base + "rules:\n- !ENCRYPT\n  tables: {}\n", "!ENCRYPT", ""},
		{"no database name", ssDataSources("ds_", 1, "h:1") + "rules: []\n", "databaseName is missing", ""},
		{"bad url", "databaseName: e\ndataSources:\n  ds_0:\n    url: jdbc:postgresql://h/db\n    username: u\n", "only single-host", ""},
		{"two hosts", "databaseName: e\ndataSources:\n  ds_0:\n    url: jdbc:mysql://h1,h2/db\n    username: u\n", "several hosts", ""},
		{"no database in url", "databaseName: e\ndataSources:\n  ds_0:\n    url: jdbc:mysql://h:3306/\n    username: u\n", "names no database", ""},
		{"different credentials", "databaseName: e\ndataSources:\n  ds_0:\n    url: jdbc:mysql://h/a\n    username: u\n  ds_1:\n    url: jdbc:mysql://h/b\n    username: v\n", "different credentials", ""},
		{"unknown data source in nodes", sharding(`    t_a:
      actualDataNodes: ds_${0..2}.t_a
      databaseStrategy:
        standard:
          shardingColumn: id
          shardingAlgorithmName: i
  shardingAlgorithms:
    i:
      type: INLINE
      props:
        algorithm-expression: ds_${id % 3}
`), "not a logical data source", ""},
		{"expression Switchyard rejects", sharding(`    t_a:
      actualDataNodes: ds_${0..1}.t_a
      databaseStrategy:
        standard:
          shardingColumn: id
          shardingAlgorithmName: i
  shardingAlgorithms:
    i:
      type: INLINE
      props:
        algorithm-expression: ds_${id.padLeft(2, '0')}
`), "does not validate", ""},
		{"single table data source", base + "rules:\n- !SINGLE\n  tables: [nowhere.t_x]\n", "data source nowhere is not defined", ""},
		{"UUID key generator", sharding(ssKeyGenTable("keyGenerateStrategy: {column: id, keyGeneratorName: u}")) + "  keyGenerators:\n    u:\n      type: UUID\n", "which makes strings", "t_a"},
		{"unknown key generator type", sharding(ssKeyGenTable("keyGenerateStrategy: {column: id, keyGeneratorName: u}")) + "  keyGenerators:\n    u:\n      type: MY_GENERATOR\n", "of type MY_GENERATOR", "t_a"},
		{"database sequence", sharding(ssKeyGenTable("")) + "  keyGenerateStrategies:\n    k:\n      keyGenerateType: sequence\n      logicTable: t_a\n      keyGenerateSequence: seq_a\n", "database sequence", "t_a"},
		{"undefined key generator", sharding(ssKeyGenTable("keyGenerateStrategy: {column: id, keyGeneratorName: nope}")), `key generator "nope" is not defined`, ""},
		{"key generation of a table without rule", sharding(ssKeyGenTable("")) + "  keyGenerateStrategies:\n    k:\n      keyGenerateType: column\n      logicTable: t_other\n      keyGenerateColumn: id\n      keyGeneratorName: s\n  keyGenerators:\n    s:\n      type: SNOWFLAKE\n", "table t_other has no sharding rule", ""},
	}
	for _, c := range cases {
		_, err := ShardingSphere([]byte(c.src), ShardingSphereOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
			continue
		}
		var ue *UnconvertibleError
		if c.unconvertible == "" {
			continue
		}
		if !errors.As(err, &ue) || ue.Tables[c.unconvertible] == "" {
			t.Errorf("%s: want an UnconvertibleError naming %s, got %v", c.name, c.unconvertible, err)
			continue
		}
		// --skip-unconvertible leaves the table out.
		res, err := ShardingSphere([]byte(c.src), ShardingSphereOptions{SkipUnconvertible: true})
		if err != nil {
			t.Errorf("%s with SkipUnconvertible: %v", c.name, err)
			continue
		}
		if res.Skipped[c.unconvertible] == "" || strings.Contains(res.Rules, `"`+c.unconvertible+`"`) {
			t.Errorf("%s: skipped %v, rules:\n%s", c.name, res.Skipped, res.Rules)
		}
	}
}

func TestShardingSphereCommandLine(t *testing.T) {
	file, opts, err := ShardingSphereCommandLine([]string{"--slices", "s0,s1=h:1", "f.yaml", "--single=t_user=ds_0,t_x=ds_1", "--skip-unconvertible"})
	if err != nil || file != "f.yaml" || !reflect.DeepEqual(opts.Slices, []string{"s0", "s1=h:1"}) ||
		!reflect.DeepEqual(opts.SingleTables, map[string]string{"t_user": "ds_0", "t_x": "ds_1"}) || !opts.SkipUnconvertible {
		t.Errorf("got %q %+v %v", file, opts, err)
	}
	for _, bad := range [][]string{{}, {"a", "b"}, {"f", "--slices"}, {"f", "--single", "t_user"}, {"f", "--nope"}, {"f", "--skip-unconvertible=1"}} {
		if _, _, err := ShardingSphereCommandLine(bad); err == nil {
			t.Errorf("%q must fail", bad)
		}
	}
	_, opts, _ = ShardingSphereCommandLine([]string{"f", "--slices", "s0,s0"})
	if _, err := ShardingSphere([]byte(ssDB), opts); err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Errorf("duplicate slice: %v", err)
	}
}

// ---- the suite's own rule files, when the suite is present ----

func ssSuite(t *testing.T) string {
	t.Helper()
	dir, tried, ok := peersuite.Locate(filepath.Join("..", ".."))
	if !ok {
		t.Skipf("ShardingSphere peer suite not found (tried %v)", tried)
	}
	return dir
}

// Every seed row of the suite's actual dataset is where Switchyard's
// converted rules place it: sharded rows by their key values, broadcast
// tables on every data source, single tables on theirs.
func TestShardingSphereSuitePlacement(t *testing.T) {
	suite := ssSuite(t)
	slices := []string{"s0", "s1", "s2"}
	for _, name := range peersuite.Scenarios {
		t.Run(name, func(t *testing.T) {
			sc, err := peersuite.OpenScenario(suite, name)
			if err != nil {
				t.Fatal(err)
			}
			file, err := sc.ProxyRuleFile()
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			_, strictErr := ShardingSphere(data, ShardingSphereOptions{Slices: slices})
			var ue *UnconvertibleError
			if name == "tbl" {
				if !errors.As(strictErr, &ue) || len(ue.Tables) != 1 || !strings.Contains(ue.Tables["t_product"], "HINT_INLINE") {
					t.Errorf("tbl: want t_product (hint) unconvertible, got %v", strictErr)
				}
			} else if strictErr != nil {
				t.Fatal(strictErr)
			}
			opts := ShardingSphereOptions{Slices: slices, SkipUnconvertible: true}
			switch name {
			case "db":
				opts.SingleTables = map[string]string{"t_user": "ds_0", "t_product": "ds_0", "t_single": "ds_0", "t_merchant": "ds_1", "t_product_detail": "ds_1"}
			case "dbtbl_with_readwrite_splitting":
				opts.SingleTables = map[string]string{"t_user": "write_ds_0", "t_product": "write_ds_0", "t_merchant": "write_ds_1", "t_product_detail": "write_ds_1"}
			}
			res, err := ShardingSphere(data, opts)
			if err != nil {
				t.Fatal(err)
			}
			ns, rules := parseNS(t, res.YAML)
			if res.Database != name || ns.Databases[0].Name != name {
				t.Errorf("logical database %q", res.Database)
			}
			// Physical database -> (slice, database on it).
			where := map[string]shard.Target{}
			for _, d := range res.DataSources {
				where[d.Database] = shard.Target{Slice: d.Slice, Database: d.Database}
				for _, r := range d.Reads {
					where[r.Database] = shard.Target{Slice: d.Slice, Database: d.Database}
				}
			}
			actual, err := peersuite.LoadDataset(sc.ActualDatasetFile())
			if err != nil {
				t.Fatal(err)
			}
			checked := 0
			for _, row := range actual.Rows {
				db, table := peersuite.SplitNode(row.DataNode)
				loc, ok := where[db]
				if !ok {
					t.Fatalf("%s: database %s is no data source", row.DataNode, db)
				}
				md, err := actual.MetadataFor(row.DataNode)
				if err != nil {
					t.Fatal(err)
				}
				want := shard.Target{Slice: loc.Slice, Database: loc.Database, Table: table}
				logical := table
				if i := strings.LastIndexByte(table, '_'); i > 0 && strings.Trim(table[i+1:], "0123456789") == "" && name != "db" {
					logical = table[:i]
				}
				tb, ok := rules.Table(name, logical)
				if !ok {
					if _, skipped := res.Skipped[logical]; skipped {
						continue
					}
					t.Fatalf("%s: no rule for %s", row.DataNode, logical)
				}
				switch tb.Kind() {
				case shard.Global:
					found := false
					for _, x := range tb.All() {
						found = found || (x.Slice == want.Slice && x.Database == want.Database && x.Table == want.Table)
					}
					if !found {
						t.Errorf("%s: %s has no copy at %+v (%+v)", row.DataNode, logical, want, tb.All())
					}
				default:
					var vals []shard.Value
					for _, k := range tb.Keys() {
						idx := -1
						for i, c := range md.Columns {
							if strings.EqualFold(c.Name, k) {
								idx = i
							}
						}
						if idx < 0 {
							t.Fatalf("%s: no column %s", row.DataNode, k)
						}
						n, err := strconv.ParseInt(row.Values[idx], 10, 64)
						if err != nil {
							t.Fatal(err)
						}
						vals = append(vals, shard.Int(n))
					}
					got, err := tb.LocateKeys(vals...)
					if err != nil {
						t.Fatalf("%s: %v", row.DataNode, err)
					}
					if got.Slice != want.Slice || got.Database != want.Database || got.Table != want.Table {
						t.Errorf("%s %v: Switchyard places it at %+v, want %+v", row.DataNode, row.Values, got, want)
					}
				}
				checked++
			}
			if checked < len(actual.Rows)/2 {
				t.Errorf("only %d of %d rows checked", checked, len(actual.Rows))
			}
			t.Logf("%s: %d rows placed as in ShardingSphere", name, checked)
		})
	}
}

// ssKeyGenTable is a sharded t_a (by id over ds_0, ds_1) with an extra
// line in its rule, and its algorithm.
func ssKeyGenTable(extra string) string {
	out := `    t_a:
      actualDataNodes: ds_${0..1}.t_a
      databaseStrategy:
        standard:
          shardingColumn: id
          shardingAlgorithmName: i
`
	if extra != "" {
		out += "      " + extra + "\n"
	}
	return out + `  shardingAlgorithms:
    i:
      type: INLINE
      props:
        algorithm-expression: ds_${id % 2}
`
}

func TestShardingSphereKeyGenerators(t *testing.T) {
	base := "databaseName: e\n" + ssDataSources("ds_", 2, "h:3306") + "rules:\n- !SHARDING\n  tables:\n"
	gens := `  keyGenerators:
    snow:
      type: SNOWFLAKE
      props:
        worker-id: 3
    inc:
      type: INCREMENT
    fixture:
      type: E2E.AUTO_INCREMENT.FIXTURE
`
	child := `    t_b:
      actualDataNodes: ds_${0..1}.t_b
      databaseStrategy:
        standard:
          shardingColumn: id
          shardingAlgorithmName: i
`
	cases := []struct {
		name, rules string
		want        map[string]config.Sequence // table -> sequence
		warn        string
	}{
		{"table strategy, snowflake", ssKeyGenTable("keyGenerateStrategy: {column: order_id, keyGeneratorName: snow}") + gens,
			map[string]config.Sequence{"t_a": {Column: "order_id", Type: config.SequenceSnowflake, Block: 1000, Start: 1}}, "counts from 2020-01-01"},
		{"increment", ssKeyGenTable("keyGenerateStrategy: {column: order_id, keyGeneratorName: inc}") + gens,
			map[string]config.Sequence{"t_a": {Column: "order_id", Type: config.SequenceTable, Block: 1000, Start: 1}}, "set sequence.start above its largest order_id"},
		{"keyGenerateStrategies, E2E fixture, binding child", ssKeyGenTable("") + `  keyGenerateStrategies:
    t_b_item_id:
      keyGenerateType: column
      keyGeneratorName: fixture
      logicTable: t_b
      keyGenerateColumn: item_id
  bindingTables:
    - t_a,t_b
` + gens, map[string]config.Sequence{"t_b": {Column: "item_id", Type: config.SequenceTable, Block: 1, Start: 1}}, "counts from 1 again for every statement"},
		{"default strategy", ssKeyGenTable("") + "  defaultKeyGenerateStrategy: {column: id, keyGeneratorName: snow}\n" + gens,
			map[string]config.Sequence{"t_a": {Column: "id", Type: config.SequenceSnowflake, Block: 1000, Start: 1}}, "worker-id"},
		{"default generator for a table's column", ssKeyGenTable("keyGenerateStrategy: {column: other}") + "  defaultKeyGenerateStrategy: {column: id, keyGeneratorName: inc}\n" + gens,
			map[string]config.Sequence{"t_a": {Column: "other", Type: config.SequenceTable, Block: 1000, Start: 1}}, ""},
	}
	for _, c := range cases {
		src := base + c.rules
		if strings.Contains(c.rules, "t_b") {
			src = base + child + c.rules
		}
		res, err := ShardingSphere([]byte(src), ShardingSphereOptions{})
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if c.warn != "" && !strings.Contains(strings.Join(res.Warnings, "\n"), c.warn) {
			t.Errorf("%s: no warning mentions %q: %q", c.name, c.warn, res.Warnings)
		}
		ns, rules := parseNS(t, res.YAML)
		seqs := map[string]config.Sequence{}
		for _, tb := range ns.Databases[0].Tables {
			if tb.Sequence != nil {
				seqs[tb.Name] = *tb.Sequence
			}
		}
		if !reflect.DeepEqual(seqs, c.want) {
			t.Errorf("%s: sequences %+v, want %+v\n%s", c.name, seqs, c.want, res.YAML)
		}
		for name, q := range c.want {
			tb, ok := rules.Table("e", name)
			if !ok || tb.Sequence() == nil || tb.Sequence().Column != q.Column {
				t.Errorf("%s: %s has no sequence in the built rules", c.name, name)
			}
		}
	}
}
