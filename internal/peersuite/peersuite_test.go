package peersuite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

const sampleCases = `<?xml version="1.0" encoding="UTF-8"?>
<!-- license header -->
<e2e-test-cases>
    <test-case sql="SELECT 1 FROM dual" db-types="MySQL" smoke="true" scenario-types="db,tbl">
        <assertion />
    </test-case>
    <!-- <test-case sql="SELECT commented FROM out" db-types="MySQL"><assertion /></test-case> -->
    <test-case sql="SELECT * FROM t_order WHERE user_id = ? AND order_id = ?" db-types="MySQL,PostgreSQL" scenario-types="db,tbl,dbtbl_with_readwrite_splitting">
        <assertion parameters="10:int, 1000:int" expected-data-source-name="read_dataset" />
        <assertion parameters="12:int, 1000:int" />
    </test-case>
    <test-case sql="SELECT * -- line comment &#x000D;&#x000A; FROM t_order" db-types="MySQL" scenario-types="db">
        <assertion expected-data-source-name="read_dataset" />
    </test-case>
    <test-case sql="SELECT USER(), DATABASE()" db-types="MySQL" scenario-types="db" />
    <test-case sql="SELECT pg_only" db-types="PostgreSQL" scenario-types="db"><assertion /></test-case>
    <test-case sql="SET @order_id := 1" db-types="MySQL" scenario-types="db" adapters="jdbc"><assertion /></test-case>
    <test-case sql="SELECT everywhere">
        <assertion parameters="init:String" />
    </test-case>
    <test-case sql="CREATE TABLE t_order_details (id INT)" scenario-types="db" skip-batch="true">
        <assertion expected-data-file="create_table.xml" expected-generated-key-data-file="keys.xml">
            <initial-sql sql="DROP TABLE IF EXISTS t_order_details" affected-table="t_order_details" />
            <assertion-sql sql="SHOW TABLES" />
            <destroy-sql sql="DROP TABLE t_order_details" />
        </assertion>
    </test-case>
</e2e-test-cases>
`

func TestParseCases(t *testing.T) {
	cs, err := ParseCases([]byte(sampleCases), DQL, "dql/e2e-dql-select.xml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 8 {
		t.Fatalf("got %d cases, want 8 (the commented one is not live)", len(cs))
	}
	c := cs[1]
	if c.SQL != "SELECT * FROM t_order WHERE user_id = ? AND order_id = ?" || len(c.Assertions) != 2 ||
		c.Assertions[0].Parameters != "10:int, 1000:int" || c.Assertions[0].ExpectedDataSourceName != "read_dataset" ||
		c.Assertions[1].ExpectedDataSourceName != "" || !reflect.DeepEqual(c.DBTypes, []string{"MySQL", "PostgreSQL"}) {
		t.Errorf("case 1: %+v", c)
	}
	if got := cs[2].SQL; got != "SELECT * -- line comment \r\n FROM t_order" {
		t.Errorf("character references must become a real CR LF: %q", got)
	}
	if !cs[0].Smoke || cs[0].File != "dql/e2e-dql-select.xml" || cs[0].Type != DQL {
		t.Errorf("case 0: %+v", cs[0])
	}
	d := cs[7]
	a := d.Assertions[0]
	if !d.SkipBatch || a.ExpectedDataFile != "create_table.xml" || a.ExpectedGeneratedKeyDataFile != "keys.xml" ||
		a.InitialSQL != "DROP TABLE IF EXISTS t_order_details" || a.AffectedTable != "t_order_details" ||
		a.AssertionSQL != "SHOW TABLES" || a.DestroySQL != "DROP TABLE t_order_details" {
		t.Errorf("DDL case: %+v", d)
	}

	var got []string
	for _, c := range Select(cs, "db") {
		got = append(got, c.SQL)
	}
	want := []string{"SELECT 1 FROM dual", cs[1].SQL, cs[2].SQL, "SELECT everywhere", cs[7].SQL}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Select(db):\n got %q\nwant %q", got, want)
	}
	got = nil
	for _, c := range Select(cs, "dbtbl_with_readwrite_splitting") {
		got = append(got, c.SQL)
	}
	if want := []string{cs[1].SQL, "SELECT everywhere"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Select(dbtbl): got %q, want %q", got, want)
	}
	if cs[5].ProxyEligible() || !cs[1].ProxyEligible() {
		t.Error("adapters=jdbc cases do not run through a proxy")
	}
	if _, err := ParseCases([]byte("<e2e-test-cases><test-case"), DQL, "x"); err == nil {
		t.Error("broken XML must fail")
	}
}

func TestParseParameters(t *testing.T) {
	ps, err := ParseParameters("update:String, 1000:int, 10:long, 13:30:30:time, NULL:int, x:varchar, 2021-01-02:Date, 2021-01-02 13:30:30.0:timestamp, 2017-08-08:datetime, 120.00:decimal, true:boolean, 1.5:double, spring:enum#season, null:enum#season, 7:smallint, 3:tinyint, ab:bytes")
	if err != nil {
		t.Fatal(err)
	}
	type pv struct {
		typ string
		val any
		lit string
	}
	want := []pv{
		{"string", "update", "'update'"},
		{"int", int32(1000), "1000"},
		{"long", int64(10), "10"},
		{"time", "13:30:30", "'13:30:30'"},
		{"int", nil, "null"},
		{"varchar", "x", "'x'"},
		{"date", "2021-01-02", "'2021-01-02'"},
		{"timestamp", "2021-01-02 13:30:30.000", "'2021-01-02 13:30:30.000'"},
		{"datetime", "2017-08-08 00:00:00.000", "'2017-08-08 00:00:00.000'"},
		{"decimal", "120.00", "120.00"},
		{"boolean", true, "true"},
		{"double", 1.5, "1.5"},
		{"enum#season", "spring", "'spring'"},
		{"enum#season", "null", "'null'"},
		{"smallint", int16(7), "7"},
		{"tinyint", int8(3), "3"},
		{"bytes", []byte("ab"), "'ab'"},
	}
	if len(ps) != len(want) {
		t.Fatalf("got %d parameters, want %d", len(ps), len(want))
	}
	args := Args(ps)
	for i, w := range want {
		if ps[i].Type != w.typ || !reflect.DeepEqual(args[i], w.val) || ps[i].Literal() != w.lit {
			t.Errorf("parameter %d: type %q value %#v literal %s; want %q %#v %s", i, ps[i].Type, args[i], ps[i].Literal(), w.typ, w.val, w.lit)
		}
	}
	if ps, err := ParseParameters("  "); err != nil || ps != nil {
		t.Errorf("empty: %v %v", ps, err)
	}
	for _, bad := range []string{"10", "10:int, 11", "x:int", "1:nosuchtype", "99999999999:int", "2021-13-01:date"} {
		if _, err := ParseParameters(bad); err == nil {
			t.Errorf("ParseParameters(%q) must fail", bad)
		}
	}
}

func TestLiteralSQL(t *testing.T) {
	ps, _ := ParseParameters("10:int, 1000:int")
	got, err := LiteralSQL("SELECT * FROM t_order WHERE user_id = ? AND order_id = ?", ps)
	if err != nil || got != "SELECT * FROM t_order WHERE user_id = 10 AND order_id = 1000" {
		t.Errorf("got %q, %v", got, err)
	}
	ps, _ = ParseParameters("init:String")
	got, _ = LiteralSQL("SELECT * FROM t_order WHERE status LIKE CONCAT('%%', ?, '%%')", ps)
	if want := "SELECT * FROM t_order WHERE status LIKE CONCAT('%%', 'init', '%%')"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	got, _ = LiteralSQL("SELECT '%%' , 'a%%b', ?", ps)
	if want := "SELECT '%%' , 'a%b', 'init'"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// Without parameters nothing changes.
	if got, _ := LiteralSQL("SELECT 'a%%b'", nil); got != "SELECT 'a%%b'" {
		t.Errorf("got %q", got)
	}
	if _, err := LiteralSQL("SELECT ?, ?", ps); err == nil {
		t.Error("too few parameters must fail")
	}
	if _, err := LiteralSQL("SELECT 1", ps); err == nil {
		t.Error("too many parameters must fail")
	}
}

const sampleDataset = `<dataset update-count="2">
    <metadata data-nodes="db_${0..1}.t_order" table-name="t_order">
        <column name="order_id" type="numeric" />
        <column name="status" type="varchar" ignore-assert-data="true" />
        <column name="creation_date" type="datetime" />
        <index name="PRIMARY" unique="true" />
    </metadata>
    <metadata data-nodes="db_0.t_user">
        <column name="user_id" type="numeric" />
        <column name="name" type="varchar" />
    </metadata>
    <row data-node="db_0.t_order" values="1000, init, 2017-08-08" />
    <row data-node="db_1.t_order" values="1001, it's, null" updated="true" />
    <row data-node="db_0.t_order" values="1002, a{E2E_DATA_DELIMITER}b, 2017-08-08" />
    <row data-node="db_0.t_user" values="10, NULL" />
</dataset>`

func TestParseDataset(t *testing.T) {
	ds, err := ParseDataset([]byte(sampleDataset))
	if err != nil {
		t.Fatal(err)
	}
	if ds.UpdateCount != 2 || len(ds.Metadata) != 2 || len(ds.Rows) != 4 {
		t.Fatalf("%+v", ds)
	}
	m := ds.Metadata[0]
	if m.TableName != "t_order" || len(m.Columns) != 3 || !m.Columns[1].IgnoreAssertData || m.Columns[0].Type != "numeric" ||
		!reflect.DeepEqual(m.Indexes, []Index{{"PRIMARY", true}}) {
		t.Errorf("metadata: %+v", m)
	}
	if !reflect.DeepEqual(ds.Rows[2].Values, []string{"1002", "a, b", "2017-08-08"}) || !ds.Rows[1].Updated {
		t.Errorf("rows: %+v", ds.Rows)
	}
	md, err := ds.MetadataFor("db_1.t_order")
	if err != nil || md.TableName != "t_order" {
		t.Errorf("MetadataFor: %v %v", md, err)
	}
	if _, err := ds.MetadataFor("db_2.t_order"); err == nil {
		t.Error("db_2.t_order is not listed")
	}
	ins, err := ds.InsertStatements(func(db string) string { return "x_" + db })
	if err != nil {
		t.Fatal(err)
	}
	want := []NodeInsert{
		{Node: "db_0.t_order", Database: "x_db_0", Table: "t_order", Rows: 2,
			SQL: "INSERT INTO `x_db_0`.`t_order` (`order_id`, `status`, `creation_date`) VALUES (1000, 'init', '2017-08-08'), (1002, 'a, b', '2017-08-08')"},
		{Node: "db_1.t_order", Database: "x_db_1", Table: "t_order", Rows: 1,
			SQL: "INSERT INTO `x_db_1`.`t_order` (`order_id`, `status`, `creation_date`) VALUES (1001, 'it\\'s', NULL)"},
		{Node: "db_0.t_user", Database: "x_db_0", Table: "t_user", Rows: 1,
			SQL: "INSERT INTO `x_db_0`.`t_user` (`user_id`, `name`) VALUES (10, NULL)"},
	}
	if !reflect.DeepEqual(ins, want) {
		t.Errorf("InsertStatements:\n got %+v\nwant %+v", ins, want)
	}
	if _, err := SeedLiteral("abc", "numeric"); err == nil {
		t.Error("a non-number in a numeric column must fail")
	}
	bad := strings.Replace(sampleDataset, `values="10, NULL"`, `values="10"`, 1)
	ds, _ = ParseDataset([]byte(bad))
	if _, err := ds.InsertStatements(nil); err == nil {
		t.Error("a row with too few values must fail")
	}
}

func TestExpandDataNodes(t *testing.T) {
	n, err := ExpandDataNodes("write_ds_${0..9}.t_order_${0..9},read_ds_${0..9}.t_order_${0..9}")
	if err != nil || len(n) != 200 || n[0] != "write_ds_0.t_order_0" || n[1] != "write_ds_0.t_order_1" || n[199] != "read_ds_9.t_order_9" {
		t.Errorf("got %d nodes %v, %v", len(n), n[:2], err)
	}
	if _, err := ExpandDataNodes("t_order"); err == nil {
		t.Error("a node without a database must fail")
	}
}

func TestSplitStatements(t *testing.T) {
	script := `-- header comment
SET character_set_database='utf8';
/* block; comment */
CREATE TABLE db_0.t (id INT, s VARCHAR(10) DEFAULT 'a;b', c VARCHAR(3) DEFAULT "x;""y") ; # trailing
CREATE INDEX i ON db_0.t (id);

`
	got := SplitStatements(script)
	want := []string{
		"SET character_set_database='utf8'",
		`CREATE TABLE db_0.t (id INT, s VARCHAR(10) DEFAULT 'a;b', c VARCHAR(3) DEFAULT "x;""y")`,
		"CREATE INDEX i ON db_0.t (id)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestStatementDatabases(t *testing.T) {
	known := map[string]bool{"db_0": true, "db_1": true, "expected_dataset": true}
	cases := []struct {
		stmt string
		want []string
	}{
		{"DROP DATABASE IF EXISTS db_0", []string{"db_0"}},
		{"CREATE DATABASE IF NOT EXISTS `db_1`", []string{"db_1"}},
		{"CREATE TABLE db_0.t_order (order_id BIGINT)", []string{"db_0"}},
		{"CREATE INDEX order_index ON db_1.t_order (order_id)", []string{"db_1"}},
		{"USE expected_dataset", []string{"expected_dataset"}},
		{"SET character_set_server='utf8'", nil},
		{"INSERT INTO other.t VALUES ('db_0.x')", nil},
		{"SELECT t.a FROM db_0.t t JOIN db_1.u", []string{"db_0", "db_1"}},
	}
	for _, c := range cases {
		if got := StatementDatabases(c.stmt, known); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %v, want %v", c.stmt, got, c.want)
		}
	}
	ren := map[string]string{"expected_dataset": "syref_db_expected_dataset", "db_0": "x0"}
	for in, want := range map[string]string{
		"DROP DATABASE IF EXISTS expected_dataset":                        "DROP DATABASE IF EXISTS syref_db_expected_dataset",
		"CREATE TABLE expected_dataset.t_order (id INT)":                  "CREATE TABLE syref_db_expected_dataset.t_order (id INT)",
		"CREATE INDEX order_index ON expected_dataset.t_order (order_id)": "CREATE INDEX order_index ON syref_db_expected_dataset.t_order (order_id)",
		"INSERT INTO db_0.t SELECT * FROM db_1.t WHERE s = 'db_0.t'":      "INSERT INTO x0.t SELECT * FROM db_1.t WHERE s = 'db_0.t'",
		"USE db_0": "USE x0",
	} {
		if got := RenameDatabases(in, ren); got != want {
			t.Errorf("RenameDatabases(%q) = %q, want %q", in, got, want)
		}
	}
	db, tb, ok := CreatedTable("CREATE TABLE db_0.t_single (ID BIGINT PRIMARY KEY)")
	if !ok || db != "db_0" || tb != "t_single" {
		t.Errorf("CreatedTable: %s %s %v", db, tb, ok)
	}
	if _, _, ok := CreatedTable("CREATE INDEX i ON db_0.t (x)"); ok {
		t.Error("an index is not a table")
	}
}

func TestPlanInit(t *testing.T) {
	place := map[string]Place{
		"write_ds_0": {Slice: "s0", Database: "write_ds_0"},
		"write_ds_1": {Slice: "s1", Database: "write_ds_1"},
		"read_ds_0":  {Slice: "s0", Database: "write_ds_0", Replica: true},
	}
	stmts := []string{
		"SET character_set_server='utf8'",
		"DROP DATABASE IF EXISTS write_ds_0",
		"DROP DATABASE IF EXISTS read_ds_0",
		"CREATE TABLE write_ds_1.t_order_0 (id INT)",
		"CREATE TABLE read_ds_0.t_order_0 (id INT)",
	}
	plan, err := PlanInit(stmts, place, []string{"s0", "s1", "s2"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"s0": {"SET character_set_server='utf8'", "DROP DATABASE IF EXISTS write_ds_0"},
		"s1": {"SET character_set_server='utf8'", "CREATE TABLE write_ds_1.t_order_0 (id INT)"},
		"s2": {"SET character_set_server='utf8'"},
	}
	if !reflect.DeepEqual(plan.Slices, want) || len(plan.Skipped) != 2 {
		t.Errorf("plan %+v", plan)
	}
	if _, err := PlanInit([]string{"CREATE TABLE write_ds_0.a (id INT) SELECT * FROM write_ds_1.b"}, place, nil); err == nil {
		t.Error("a statement over two slices must fail")
	}
	if _, err := PlanInit([]string{"CREATE TABLE nowhere.a (id INT)"}, place, nil); err == nil {
		t.Error("a database without a place must fail")
	}
}

func TestSingleTables(t *testing.T) {
	stmts := []string{
		"CREATE TABLE db_0.t_order (id INT)",
		"CREATE TABLE db_0.t_user (id INT)",
		"CREATE TABLE db_1.t_order (id INT)",
		"CREATE TABLE db_1.t_merchant (id INT)",
		"CREATE TABLE read_0.t_user (id INT)",
		"CREATE INDEX i ON db_0.t_user (id)",
	}
	ruled := map[string]bool{"db_0.t_order": true, "db_1.t_order": true}
	dsOf := map[string]string{"db_0": "ds_0", "db_1": "ds_1", "read_0": "ds_0"}
	got, err := SingleTables(stmts, ruled, dsOf)
	if err != nil || !reflect.DeepEqual(got, map[string]string{"t_user": "ds_0", "t_merchant": "ds_1"}) {
		t.Errorf("got %v, %v", got, err)
	}
	dsOf["read_0"] = "ds_1"
	if _, err := SingleTables(stmts, ruled, dsOf); err == nil {
		t.Error("a single table in two data sources must fail")
	}
}

func TestMentionsTable(t *testing.T) {
	for sql, want := range map[string]bool{
		"SELECT * FROM t_product":                  true,
		"SELECT * FROM T_PRODUCT p":                true,
		"SELECT * FROM t_product_detail":           false,
		"SELECT * FROM t_order o JOIN t_product p": true,
		"SELECT x_t_product FROM t":                false,
		"SELECT t_product.id FROM t":               true,
	} {
		if got := MentionsTable(sql, "t_product"); got != want {
			t.Errorf("%q: got %v", sql, got)
		}
	}
}

func TestReferenceDatabase(t *testing.T) {
	one := []string{"expected_dataset"}
	if r, _ := ReferenceDatabase(one, "read_dataset"); r != "expected_dataset" {
		t.Errorf("one reference: %s", r)
	}
	two := []string{"write_dataset", "read_dataset"}
	if r, _ := ReferenceDatabase(two, "read_dataset"); r != "read_dataset" {
		t.Errorf("named: %s", r)
	}
	if r, _ := ReferenceDatabase(two, ""); r != "write_dataset" {
		t.Errorf("default: %s", r)
	}
	if _, err := ReferenceDatabase(two, "nope"); err == nil {
		t.Error("unknown name must fail")
	}
	if _, err := ReferenceDatabase(nil, ""); err == nil {
		t.Error("no reference must fail")
	}
}

func res(labels []string, types []string, rows ...[]string) *Result {
	r := &Result{}
	for i, l := range labels {
		r.Columns = append(r.Columns, ResultColumn{Label: l, Type: types[i]})
	}
	for _, row := range rows {
		var cells []Cell
		for _, v := range row {
			if v == "NULL" {
				cells = append(cells, Cell{Null: true})
			} else {
				cells = append(cells, Cell{Text: v})
			}
		}
		r.Rows = append(r.Rows, cells)
	}
	return r
}

func TestCompare(t *testing.T) {
	cols := []string{"order_id", "user_id", "amount", "avg", "status"}
	types := []string{"BIGINT", "INT", "DECIMAL", "DOUBLE", "VARCHAR"}
	a := []string{"1000", "10", "19.50", "0.1", "init"}
	b := []string{"1001", "10", "20", "2.5", "NULL"}
	c := []string{"1100", "11", "3", "1e+20", "init"}
	cases := []struct {
		name     string
		sql      string
		got      *Result
		want     *Result
		equal    bool
		ordered  bool
		diffPart string
	}{
		{"same", "SELECT * FROM t", res(cols, types, a, b), res(cols, types, a, b), true, false, ""},
		{"multiset", "SELECT * FROM t", res(cols, types, b, a), res(cols, types, a, b), true, false, ""},
		{"ordered", "SELECT * FROM t ORDER BY order_id", res(cols, types, b, a), res(cols, types, a, b), false, true, "row 1 (ordered)"},
		{"ties", "SELECT * FROM t ORDER BY user_id DESC", res(cols, types, b, a, c), res(cols, types, a, b, c), true, true, ""},
		{"ties by position", "SELECT * FROM t ORDER BY 2 LIMIT 5", res(cols, types, b, a), res(cols, types, a, b), true, true, ""},
		{"ties by qualified name", "SELECT * FROM t o ORDER BY o.user_id", res(cols, types, b, a), res(cols, types, a, b), true, true, ""},
		{"expression keys are strict", "SELECT * FROM t ORDER BY user_id + 1", res(cols, types, b, a), res(cols, types, a, b), false, true, "row 1"},
		{"decimal scale", "SELECT * FROM t", res(cols, types, []string{"1000", "10", "19.5000", "0.1", "init"}), res(cols, types, a), true, false, ""},
		{"double tolerance", "SELECT * FROM t", res(cols, types, []string{"1100", "11", "3", "1.0000000000000001e+20", "init"}), res(cols, types, c), true, false, ""},
		{"decimal differs", "SELECT * FROM t", res(cols, types, []string{"1000", "10", "19.6", "0.1", "init"}), res(cols, types, a), false, false, "missing (1000, 10, 19.50"},
		{"null vs text", "SELECT * FROM t", res(cols, types, []string{"1001", "10", "20", "2.5", "null"}), res(cols, types, b), false, false, "rows differ"},
		{"text is exact", "SELECT * FROM t", res(cols, types, []string{"1000", "10", "19.50", "0.1", "Init"}), res(cols, types, a), false, false, "rows differ"},
		{"row count", "SELECT * FROM t", res(cols, types, a), res(cols, types, a, b), false, false, "row count: got 1, want 2"},
		{"labels are case-sensitive", "SELECT * FROM t", res([]string{"ORDER_ID", "user_id", "amount", "avg", "status"}, types, a), res(cols, types, a), false, false, "label"},
		{"column count", "SELECT * FROM t", res(cols[:4], types[:4]), res(cols, types), false, false, "column count"},
		{"duplicates count", "SELECT * FROM t", res(cols, types, a, a), res(cols, types, a, b), false, false, "rows differ"},
		{"order by in a subquery does not order", "SELECT * FROM (SELECT * FROM t ORDER BY order_id) x", res(cols, types, b, a), res(cols, types, a, b), true, false, ""},
		{"order by in a string", "SELECT * FROM t WHERE status = 'ORDER BY order_id'", res(cols, types, b, a), res(cols, types, a, b), true, false, ""},
	}
	for _, c := range cases {
		got := Compare(c.sql, c.got, c.want)
		if got.Equal != c.equal || got.Ordered != c.ordered || !strings.Contains(got.Diff, c.diffPart) {
			t.Errorf("%s: got %+v, want equal=%v ordered=%v diff containing %q", c.name, got, c.equal, c.ordered, c.diffPart)
		}
	}
}

func TestOrderBy(t *testing.T) {
	cases := []struct {
		sql   string
		items []string
		ok    bool
	}{
		{"SELECT * FROM t", nil, false},
		{"SELECT * FROM t ORDER BY a", []string{"a"}, true},
		{"select * from t order  by a desc, o.b ASC limit 2", []string{"a", "o.b"}, true},
		{"SELECT * FROM t ORDER BY a FOR UPDATE", []string{"a"}, true},
		{"SELECT GROUP_CONCAT(x ORDER BY y) FROM t", nil, false},
		{"SELECT * FROM t ORDER BY IF(a > 1, a, b), c", []string{"IF(a > 1, a, b)", "c"}, true},
		{"(SELECT a FROM t ORDER BY a) UNION (SELECT a FROM u) ORDER BY 1", []string{"1"}, true},
		{"SELECT * FROM t -- ORDER BY a", nil, false},
		{"SELECT t.order_by FROM t", nil, false},
	}
	for _, c := range cases {
		items, ok := OrderBy(c.sql)
		if ok != c.ok || !reflect.DeepEqual(items, c.items) {
			t.Errorf("%q: got %q %v, want %q %v", c.sql, items, ok, c.items, c.ok)
		}
	}
	cols := []ResultColumn{{Label: "a"}, {Label: "b"}, {Label: "a"}}
	if k, ok := ResolveOrderKeys([]string{"x.a", "`b`", "2"}, cols); !ok || !reflect.DeepEqual(k, []int{0, 2, 1, 1}) {
		t.Errorf("ResolveOrderKeys: %v %v", k, ok)
	}
	for _, bad := range [][]string{{"c"}, {"4"}, {"a + 1"}, {"COUNT(*)"}} {
		if _, ok := ResolveOrderKeys(bad, cols); ok {
			t.Errorf("ResolveOrderKeys(%q) must fail", bad)
		}
	}
}

func TestClassifyError(t *testing.T) {
	o, msg := ClassifyError(fmt.Errorf("wrapped: %w", &mysql.MySQLError{Number: 1235, SQLState: [5]byte{'4', '2', '0', '0', '0'}, Message: "Switchyard does not support x"}))
	if o != CleanError || msg != "ERROR 1235 (42000): Switchyard does not support x" {
		t.Errorf("got %v %q", o, msg)
	}
	for _, err := range []error{context.DeadlineExceeded, mysql.ErrInvalidConn, io.EOF, errors.New("strange")} {
		if o, _ := ClassifyError(err); o != Other {
			t.Errorf("%v: got %v, want other", err, o)
		}
	}
	var tl Tally
	tl.Add(CaseResult{Outcome: Pass})
	tl.Add(CaseResult{Outcome: CleanError, Detail: "e1"})
	tl.Add(CaseResult{Outcome: CleanError, Detail: "e1"})
	tl.Add(CaseResult{Outcome: Other, Detail: "e2"})
	tl.Add(CaseResult{Outcome: Wrong, Detail: "diff"})
	if tl.Total() != 5 || tl.Counts[CleanError] != 2 || len(tl.Messages) != 1 || tl.OtherMessages["e2"] != 1 {
		t.Errorf("tally %+v", tl)
	}
	top := TopMessages(tl.Messages)
	if top[0] != (MessageCount{"e1", 2}) {
		t.Errorf("top %v", top)
	}
	md := Markdown([]SummaryRow{{Scenario: "db", Type: DQL, Mode: string(Text), Tally: tl}})
	if !strings.Contains(md, "| db | DQL | text | 1 | 1 | 2 | 1 | 0 | 5 |") {
		t.Errorf("markdown:\n%s", md)
	}
}

// ---- against the suite itself, when present ----

func suiteDir(t *testing.T) string {
	t.Helper()
	dir, tried, ok := Locate(filepath.Join("..", ".."))
	if !ok {
		t.Skipf("ShardingSphere peer suite not found (tried %v)", tried)
	}
	return dir
}

// The counts of the suite's README, section 9.
func TestSuiteCaseCounts(t *testing.T) {
	dir := suiteDir(t)
	type counts struct{ cases, assertions, noAssertion, proxy int }
	want := map[string]map[string]counts{
		DQL: {"db": {126, 129, 3, 126}, "tbl": {107, 110, 3, 107}, "dbtbl_with_readwrite_splitting": {104, 108, 2, 104}},
		DML: {"db": {33, 48, 0, 33}, "tbl": {29, 44, 0, 29}, "dbtbl_with_readwrite_splitting": {28, 43, 0, 28}},
		DDL: {"db": {22, 22, 0, 22}, "tbl": {22, 22, 0, 22}, "dbtbl_with_readwrite_splitting": {18, 18, 0, 18}},
		DAL: {"db": {7, 7, 0, 6}, "tbl": {7, 7, 0, 6}, "dbtbl_with_readwrite_splitting": {4, 4, 0, 2}},
	}
	for typ, byScenario := range want {
		cs, err := LoadCases(dir, typ)
		if err != nil {
			t.Fatal(err)
		}
		for sc, w := range byScenario {
			var got counts
			for _, c := range cs {
				if !c.RunsOn(sc, "MySQL") {
					continue
				}
				got.cases++
				got.assertions += len(c.Assertions)
				if len(c.Assertions) == 0 {
					got.noAssertion++
				}
				if c.ProxyEligible() {
					got.proxy++
				}
				for _, a := range c.Assertions {
					if _, err := ParseParameters(a.Parameters); err != nil {
						t.Errorf("%s: %v", c.File, err)
					}
				}
			}
			if got != w {
				t.Errorf("%s %s: got %+v, want %+v", typ, sc, got, w)
			}
			sel := 0
			for _, c := range Select(cs, sc) {
				sel += len(c.Assertions)
			}
			if typ == DQL && sel != w.assertions {
				t.Errorf("%s %s: Select has %d assertions, want %d", typ, sc, sel, w.assertions)
			}
		}
	}
}

// Every scenario's datasets parse; the reference rows are the union of the
// physical rows (README 6.2), per reference database; init scripts place.
func TestSuiteDatasets(t *testing.T) {
	dir := suiteDir(t)
	wantRows := map[string]int{"db": 370, "tbl": 80, "dbtbl_with_readwrite_splitting": 1080}
	for _, name := range Scenarios {
		sc, err := OpenScenario(dir, name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sc.ProxyRuleFile(); err != nil {
			t.Error(err)
		}
		actual, err := LoadDataset(sc.ActualDatasetFile())
		if err != nil {
			t.Fatal(err)
		}
		expected, err := LoadDataset(sc.ExpectedDatasetFile())
		if err != nil {
			t.Fatal(err)
		}
		if len(actual.Rows) != wantRows[name] {
			t.Errorf("%s: %d actual rows, want %d", name, len(actual.Rows), wantRows[name])
		}
		ins, err := actual.InsertStatements(nil)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, i := range ins {
			n += i.Rows
		}
		if n != len(actual.Rows) {
			t.Errorf("%s: inserts hold %d rows, want %d", name, n, len(actual.Rows))
		}
		if _, err := expected.InsertStatements(nil); err != nil {
			t.Fatal(err)
		}
		// Logical rows of t_order: physical rows (by side) vs reference.
		side := func(db string) string {
			switch {
			case strings.HasPrefix(db, "read_"):
				return "read_dataset"
			case strings.HasPrefix(db, "write_"):
				return "write_dataset"
			}
			return "expected_dataset"
		}
		logical := func(table string) string {
			if i := strings.LastIndexByte(table, '_'); i > 0 && strings.Trim(table[i+1:], "0123456789") == "" {
				return table[:i]
			}
			return table
		}
		phys := map[string]int{}
		for _, r := range actual.Rows {
			db, tb := SplitNode(r.DataNode)
			if logical(tb) != "t_order" && logical(tb) != "t_order_item" {
				continue
			}
			phys[side(db)+"|"+logical(tb)+"|"+strings.Join(r.Values, ",")]++
		}
		ref := map[string]int{}
		for _, r := range expected.Rows {
			db, tb := SplitNode(r.DataNode)
			if tb != "t_order" && tb != "t_order_item" {
				continue
			}
			ref[db+"|"+tb+"|"+strings.Join(r.Values, ",")]++
		}
		if !reflect.DeepEqual(phys, ref) {
			t.Errorf("%s: reference t_order/t_order_item rows are not the union of the physical rows (%d vs %d)", name, len(phys), len(ref))
		}
		dbs, err := LoadDatabases(sc.ActualDatabasesFile())
		if err != nil || len(dbs) == 0 {
			t.Fatalf("%s: databases %v %v", name, dbs, err)
		}
		place := map[string]Place{}
		for i, db := range dbs {
			place[db] = Place{Slice: fmt.Sprintf("s%d", i%3), Database: db}
		}
		stmts, err := LoadScript(sc.ActualInitSQL())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := PlanInit(stmts, place, []string{"s0", "s1", "s2"}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		refs, err := LoadDatabases(sc.ExpectedDatabasesFile())
		if err != nil || len(refs) == 0 {
			t.Errorf("%s: reference databases %v %v", name, refs, err)
		}
	}
	// Expected-file lookup prefers the mysql/ copy.
	p, err := ExpectedFile(dir, DML, "tbl", "standalone", "mysql", "batch_insert_with_auto_generate_key_column.xml")
	if err != nil || !strings.Contains(p, filepath.Join("tbl", "mysql")) {
		t.Errorf("ExpectedFile: %s %v", p, err)
	}
	if p, err := ExpectedFile(dir, DML, "db", "standalone", "mysql", "update.xml"); err != nil || !strings.HasSuffix(p, filepath.Join("dataset", "db", "update.xml")) {
		t.Errorf("ExpectedFile: %s %v", p, err)
	}
	if _, err := ExpectedFile(dir, DML, "db", "standalone", "mysql", "nope.xml"); err == nil {
		t.Error("a missing file must fail")
	}
}

func TestLocateEnv(t *testing.T) {
	root := t.TempDir()
	suite := filepath.Join(root, SuiteDir)
	if err := os.MkdirAll(filepath.Join(suite, "cases"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvVar, root)
	if d, _, ok := Locate("/nonexistent"); !ok || d != suite {
		t.Errorf("root: %s %v", d, ok)
	}
	t.Setenv(EnvVar, suite)
	if d, _, ok := Locate("/nonexistent"); !ok || d != suite {
		t.Errorf("suite: %s %v", d, ok)
	}
	t.Setenv(EnvVar, filepath.Join(root, "missing"))
	if _, tried, ok := Locate("/nonexistent"); ok || len(tried) != 3 {
		t.Errorf("missing: %v %v", tried, ok)
	}
}

func TestStatementKind(t *testing.T) {
	for sql, want := range map[string]string{
		"INSERT INTO t VALUES (1)":                "INSERT",
		"  update t set a = 1":                    "UPDATE",
		"/* c */ DELETE FROM t":                   "DELETE",
		"-- c\nREPLACE INTO t VALUES (1)":         "REPLACE",
		"/* SHARDINGSPHERE_HINT: x=1 */ INSERT I": "INSERT",
		"": "",
	} {
		if got := StatementKind(sql); got != want {
			t.Errorf("%q: got %q, want %q", sql, got, want)
		}
	}
}

func TestCheckNode(t *testing.T) {
	md := &Metadata{Columns: []Column{{Name: "order_id", Type: "numeric"}, {Name: "status", Type: "varchar"}, {Name: "merchant_id", Type: "numeric"}, {Name: "price", Type: "decimal"}, {Name: "creation_date", Type: "datetime"}}}
	cols := []string{"order_id", "STATUS", "merchant_id", "price", "creation_date"}
	types := []string{"BIGINT", "VARCHAR", "INT", "DECIMAL", "DATETIME"}
	expected := []Row{
		{Values: []string{"1000", "update", "null", "13999", "2017-08-08 00:00:00.0"}},
		{Values: []string{"1001", "init", "2", "NOT_VERIFY", "NOT_VERIFY"}},
	}
	ok := res(cols, types, []string{"1000", "update", "NULL", "13999.00", "2017-08-08 00:00:00"}, []string{"1001", "init", "2", "1", "2030-01-01 10:00:00"})
	if err := CheckNode("db_0.t_order", md, expected, ok); err != nil {
		t.Errorf("good rows: %v", err)
	}
	for name, c := range map[string]struct {
		r    *Result
		part string
	}{
		"value":        {res(cols, types, []string{"1000", "init", "NULL", "13999", "2017-08-08"}, []string{"1001", "init", "2", "1", "x"}), "column status"},
		"null":         {res(cols, types, []string{"1000", "update", "3", "13999", "2017-08-08"}, []string{"1001", "init", "2", "1", "x"}), "column merchant_id"},
		"order":        {res(cols, types, []string{"1001", "init", "2", "1", "x"}, []string{"1000", "update", "NULL", "13999", "2017-08-08"}), "row 1"},
		"row count":    {res(cols, types, []string{"1000", "update", "NULL", "13999", "2017-08-08"}), "1 rows, want 2"},
		"column label": {res([]string{"order_id", "state", "merchant_id", "price", "creation_date"}, types), "column 2"},
		"column count": {res(cols[:4], types[:4]), "4 columns, want 5"},
	} {
		err := CheckNode("db_0.t_order", md, expected, c.r)
		if err == nil || !strings.Contains(err.Error(), c.part) {
			t.Errorf("%s: got %v, want an error containing %q", name, err, c.part)
		}
	}
	// An empty node must be empty.
	if err := CheckNode("n", md, nil, res(cols, types, []string{"1", "a", "NULL", "1", "2017-08-08"})); err == nil {
		t.Error("a row in a node that should be empty must fail")
	}
	if err := CheckNode("n", md, nil, res(cols, types)); err != nil {
		t.Error(err)
	}
}

func TestMergeBatch(t *testing.T) {
	mk := func(rows ...Row) *Dataset { return &Dataset{UpdateCount: 1, Rows: rows} }
	r := func(node, vals string, upd bool) Row {
		return Row{DataNode: node, Values: SplitValues(vals), Updated: upd}
	}
	a1 := r("db_0.t", "1000, init", false)
	a2 := r("db_1.t", "1001, init", false)
	a3 := r("db_0.t", "900, init", false)
	ins, err := MergeBatch("INSERT", []*Dataset{mk(a1, a2), mk(a1, a3)})
	if err != nil || !reflect.DeepEqual(ins.Rows, []Row{a3, a1, a2}) {
		t.Errorf("INSERT: %+v %v", ins, err)
	}
	del, _ := MergeBatch("DELETE", []*Dataset{mk(a1, a2, a3), mk(a2, a3), mk(a3, a2)})
	if !reflect.DeepEqual(del.Rows, []Row{a3, a2}) {
		t.Errorf("DELETE: %+v", del.Rows)
	}
	u1 := r("db_0.t", "1000, update", true)
	u2 := r("db_1.t", "1001, update", true)
	upd, _ := MergeBatch("UPDATE", []*Dataset{mk(u1, a2), mk(a1, u2)})
	if !reflect.DeepEqual(upd.Rows, []Row{u1, u2}) {
		t.Errorf("UPDATE: %+v", upd.Rows)
	}
	if _, err := MergeBatch("SELECT", []*Dataset{mk()}); err == nil {
		t.Error("SELECT batches cannot merge")
	}
	if _, err := MergeBatch("INSERT", nil); err == nil {
		t.Error("nothing to merge must fail")
	}
	ds, _ := ParseDataset([]byte(sampleDataset))
	nodes, md, err := ds.Nodes()
	if err != nil || !reflect.DeepEqual(nodes, []string{"db_0.t_order", "db_1.t_order", "db_0.t_user"}) || md["db_1.t_order"].TableName != "t_order" {
		t.Errorf("Nodes: %v %v", nodes, err)
	}
	if by := ds.RowsByNode(); len(by["db_0.t_order"]) != 2 || len(by["db_1.t_order"]) != 1 {
		t.Errorf("RowsByNode: %v", by)
	}
}

func TestInsertTarget(t *testing.T) {
	for sql, want := range map[string]string{
		"INSERT INTO t_order_item VALUES (?, ?)":                         "t_order_item",
		"INSERT INTO t_order_item(item_id, order_id) values (1, 2)":      "t_order_item",
		"insert ignore into `db`.`t_order` SET a = 1":                    "t_order",
		"/* SHARDINGSPHERE_HINT: x=1 */INSERT INTO t_product values (1)": "t_product",
		"REPLACE t_user (id) VALUES (1)":                                 "t_user",
		"INSERT LOW_PRIORITY INTO db.t_x SELECT * FROM y":                "t_x",
		"UPDATE t_order SET a = 1":                                       "",
	} {
		if got := InsertTarget(sql); got != want {
			t.Errorf("%s: got %q, want %q", sql, got, want)
		}
	}
}

func TestMapGeneratedKeys(t *testing.T) {
	ds, err := ParseDataset([]byte(`<dataset update-count="2">
    <metadata data-nodes="db_${0..1}.t_item">
        <column name="item_id" type="numeric" />
        <column name="order_id" type="numeric" />
    </metadata>
    <row data-node="db_0.t_item" values="100001, 1000" />
    <row data-node="db_0.t_item" values="2, 2" />
    <row data-node="db_1.t_item" values="1, 1" />
    <row data-node="db_1.t_item" values="110001, 1100" />
</dataset>`))
	if err != nil {
		t.Fatal(err)
	}
	gk, err := ParseDataset([]byte(`<dataset><metadata><column name="GENERATED_KEY" type="numeric" /></metadata><row values="1" /><row values="2" /></dataset>`))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := gk.GeneratedKeys()
	if err != nil || !reflect.DeepEqual(keys, []string{"1", "2"}) {
		t.Fatalf("keys %v %v", keys, err)
	}
	seed := func(node, v string) bool { return v == "100001" || v == "110001" }
	got, err := MapGeneratedKeys(ds, "item_id", keys, 200000, seed, true)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, r := range got.Rows {
		rows = append(rows, r.DataNode+":"+strings.Join(r.Values, ","))
	}
	// Keys 1 and 2 become 200000 and 200001; each node's rows re-sorted.
	want := []string{"db_0.t_item:100001,1000", "db_0.t_item:200001,2", "db_1.t_item:110001,1100", "db_1.t_item:200000,1"}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows %v, want %v", rows, want)
	}
	if ds.Rows[2].Values[0] != "1" {
		t.Error("the original dataset was changed")
	}
	// Without sorting the positions stay.
	got, _ = MapGeneratedKeys(ds, "item_id", keys, 7, seed, false)
	if got.Rows[2].Values[0] != "7" || got.Rows[1].Values[0] != "8" {
		t.Errorf("unsorted: %+v", got.Rows)
	}
	// A key the seed holds, or one no row holds, is an error.
	if _, err := MapGeneratedKeys(ds, "item_id", []string{"1"}, 7, func(string, string) bool { return true }, false); err == nil {
		t.Error("a key only in seed rows must fail")
	}
	if _, err := MapGeneratedKeys(ds, "item_id", []string{"3"}, 7, seed, false); err == nil {
		t.Error("a key in no row must fail")
	}
}

func TestReport(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("| item | value |\n| --- | --- |\n| commit | `a6bd45f1aa07e9d714d8c9b9c7a173e082a5ca47` (x) |\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c := SuiteCommit(dir); c != "a6bd45f1aa07e9d714d8c9b9c7a173e082a5ca47" {
		t.Errorf("commit %q", c)
	}
	var dql, dml Tally
	dql.Add(CaseResult{Outcome: Pass})
	dql.Add(CaseResult{Outcome: CleanError, Detail: "ERROR 1235 (42000): no | pipes"})
	dml.Add(CaseResult{Outcome: CleanError, Detail: "ERROR 1235 (42000): no | pipes"})
	dml.Add(CaseResult{Outcome: CleanError, Detail: "ERROR 1136 (21S01): count"})
	dml.Add(CaseResult{Outcome: Skipped})
	md := Report(Run{Suite: dir, Slices: 3, Rows: []SummaryRow{
		{Scenario: "db", Type: DQL, Mode: "text", Tally: dql},
		{Scenario: "tbl", Type: DML, Mode: "prepared", Tally: dml},
	}, Notes: []string{"A note."}, Problems: []string{"p1\nmore"}, TopErrors: 1})
	for _, want := range []string{
		"### ShardingSphere SQL end-to-end cases\n",
		"at a6bd45f1aa07)",
		"onto 3 slices",
		"\n\nA note.\n\n",
		"| db | DQL | text | 1 | 0 | 1 | 0 | 0 | 2 |\n",
		"| **total** | | | **1** | **0** | **3** | **0** | **1** | **5** |\n",
		"Clean errors (2 messages, the 1 most frequent):",
		"| 2 | ERROR 1235 (42000): no \\| pipes | db, tbl: DML prepared; DQL text |\n",
		"- p1 more\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "1136") {
		t.Errorf("only the most frequent error should be listed:\n%s", md)
	}
}
