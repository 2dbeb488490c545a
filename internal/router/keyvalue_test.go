package router

import (
	"strings"
	"testing"

	"github.com/switchyard-db/switchyard/internal/shard"
)

// testSchema gives the key columns of testdata/shard.yaml MariaDB types,
// parsed once as the proxy's column cache holds them.
func testSchema(t *shard.Table) ([]shard.Column, bool) {
	cols, ok := testColumns[t.Name()]
	return cols, ok
}

var testColumns = map[string][]shard.Column{
	"t_user":  {{Name: "id", Type: shard.ParseColumnType("int(11)", "NULL")}, {Name: "name", Type: shard.ParseColumnType("varchar(40)", "utf8mb4_general_ci")}},
	"t_order": {{Name: "id", Type: shard.ParseColumnType("bigint(20)", "NULL")}, {Name: "user_id", Type: shard.ParseColumnType("int(11)", "NULL")}},
	"t_event": {{Name: "id", Type: shard.ParseColumnType("int(11)", "NULL")}, {Name: "created", Type: shard.ParseColumnType("datetime", "NULL")}},
}

// physical names the tables a plan reaches ("t_user_0001,t_user_0002"), or
// "refused NNNN" / "error".
func physical(p *flatPlan) string {
	if p == nil {
		return "default"
	}
	if p.Err != nil {
		return "refused " + strings.Fields(p.Err.Error())[1]
	}
	var names []string
	for _, s := range p.Steps {
		i := strings.Index(s.SQL, "`t_")
		j := strings.Index(s.SQL[i+1:], "`")
		names = append(names, s.SQL[i+1:i+1+j])
	}
	if p.Scatter != nil && len(names) > 1 {
		return "scatter " + strings.Join(names, ",")
	}
	return strings.Join(names, ",")
}

// TestKeyLiteralsByValue: a key literal routes by the value MariaDB
// compares with (conditions) or stores (INSERT), not by its text. t_user
// is hashed on INT id over t_user_0000..0003 (id % 4); t_event is by
// month of a DATETIME (2024-01..2024-12). The expected values were
// checked on MariaDB 10.11 (see internal/shard/types_test.go).
func TestKeyLiteralsByValue(t *testing.T) {
	rules := loadRules(t)
	all := "scatter t_user_0000,t_user_0001,t_user_0002,t_user_0003"
	cases := []struct{ sql, want string }{
		{"SELECT * FROM t_user WHERE id = '-19'", "t_user_0001"}, // uint64(-19) % 4 = 1
		{"SELECT * FROM t_user WHERE id = ' 10'", "t_user_0002"},
		{"SELECT * FROM t_user WHERE id = '32 '", "t_user_0000"},
		{"SELECT * FROM t_user WHERE id IN (TRUE, ' 227')", "scatter t_user_0001,t_user_0003"},
		{"SELECT * FROM t_user WHERE id = 0x0a", "t_user_0002"},
		{"SELECT * FROM t_user WHERE id = X'0a'", "t_user_0000"}, // a string: compares as 0
		{"SELECT * FROM t_user WHERE id = b'1011'", "t_user_0003"},
		{"SELECT * FROM t_user WHERE id = '010'", "t_user_0002"},
		{"SELECT * FROM t_user WHERE id = 10.0", "t_user_0002"},
		{"SELECT * FROM t_user WHERE id = 10e0", "t_user_0002"},
		{"SELECT * FROM t_user WHERE id = -10.0", "t_user_0002"},
		{"SELECT * FROM t_user WHERE id = '1e1'", "t_user_0002"},
		{"SELECT * FROM t_user WHERE id = 'abc'", "t_user_0000"},
		{"SELECT * FROM t_user WHERE id = 10.5", "t_user_0000"},       // matches nothing: any table answers
		{"SELECT * FROM t_user WHERE id IN (10.5, 3)", "t_user_0003"}, // 10.5 matches nothing
		{"SELECT * FROM t_user WHERE id = '1e999'", all},
		{"SELECT * FROM t_user WHERE id > 10.5 AND id < 11.5", all}, // hash: no pruning
		{"UPDATE t_user SET name = 'x' WHERE id = '32 '", "t_user_0000"},
		{"DELETE FROM t_user WHERE id IN (TRUE, ' 228')", "t_user_0001,t_user_0000"},
		{"INSERT INTO t_user (id, name) VALUES ('-16115', 'a')", "t_user_0001"}, // -16115 as uint64 % 4
		{"INSERT INTO t_user (id, name) VALUES (1e1, 'a')", "t_user_0002"},
		{"INSERT INTO t_user (id, name) VALUES (0x0b, 'a')", "t_user_0003"},
		{"INSERT INTO t_user (id, name) VALUES (18.5, 'a')", "t_user_0003"},  // 19
		{"INSERT INTO t_user (id, name) VALUES (2.5e0, 'a')", "t_user_0002"}, // 2
		{"INSERT INTO t_user (id, name) VALUES ('33.5e0', 'a')", "t_user_0002"},
		{"INSERT INTO t_order (id, user_id) VALUES (1, ' 14')", "t_order_0002"},
		{"SELECT * FROM t_order WHERE user_id = ' 14'", "t_order_0002"},
		// A string key compared with a number matches many strings.
		{"SELECT * FROM t_user u JOIN t_order o ON o.user_id = u.id WHERE u.id = ' 5'", "t_user_0001"},
		// Dates: integers are dates, not unix timestamps.
		{"SELECT * FROM t_event WHERE created = 20240301", "t_event_202403"},
		{"SELECT * FROM t_event WHERE created = '2024-3-1 10:00'", "t_event_202403"},
		{"SELECT * FROM t_event WHERE created <= 20240301", "scatter t_event_202401,t_event_202402,t_event_202403"},
		{"SELECT * FROM t_event WHERE created < '2024-03-01'", "scatter t_event_202401,t_event_202402"},
		{"SELECT * FROM t_event WHERE created BETWEEN 20241130 AND 20250105", "scatter t_event_202411,t_event_202412"},
		{"SELECT * FROM t_event WHERE created = '2022-06-15'", "t_event_202401"}, // outside every month: empty set
		{"SELECT * FROM t_event WHERE created IN ('2022-06-15', 20240505)", "t_event_202405"},
		{"UPDATE t_event SET id = 1 WHERE created = '2022-06-15'", "t_event_202401"},
		{"INSERT INTO t_event (id, created) VALUES (1, 20240301120000)", "t_event_202403"},
		{"INSERT INTO t_event (id, created) VALUES (1, '2022-06-15')", "refused 1526"},
		{"INSERT INTO t_event (id, created) VALUES (1, '2024-02-30')", "refused 1235"},
	}
	for _, c := range cases {
		_, p := flat(AnalyzeShardedWith(c.sql, rules, "shop", Sources{Schema: testSchema}))
		if got := physical(p); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.sql, got, c.want)
		}
	}
}

// TestUnknownKeyTypePlacesNothing: without the key column's type the proxy
// reads every table and refuses writes that need the key's value.
func TestUnknownKeyTypePlacesNothing(t *testing.T) {
	rules := loadRules(t)
	none := func(*shard.Table) ([]shard.Column, bool) { return nil, false }
	cases := []struct{ sql, want string }{
		{"SELECT * FROM t_user WHERE id = 5", "scatter t_user_0000,t_user_0001,t_user_0002,t_user_0003"},
		{"INSERT INTO t_user (id, name) VALUES (5, 'a')", "refused 1235"},
	}
	for _, c := range cases {
		_, p := flat(AnalyzeShardedWith(c.sql, rules, "shop", Sources{Schema: none}))
		if got := physical(p); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.sql, got, c.want)
		}
	}
}

// TestTemplateKeyParameter: an execution's key parameter is converted like
// a literal; values that cannot be placed exactly are not placed.
func TestTemplateKeyParameter(t *testing.T) {
	rules := loadRules(t)
	sel := PrepareTemplateWith("SELECT * FROM t_user WHERE id = ?", rules, "shop", testSchema)
	ins := PrepareTemplateWith("INSERT INTO t_user (id, name) VALUES (?, ?)", rules, "shop", testSchema)
	if sel == nil || ins == nil {
		t.Fatal("no template")
	}
	cases := []struct {
		tpl  *Template
		v    shard.Value
		want string
	}{
		{sel, shard.String(" 10"), "t_user_0002"},
		{sel, shard.Float(14), "t_user_0002"},
		{sel, shard.Float(14.5), "t_user_0000"},
		{ins, shard.Float(14), "t_user_0002"},
		{ins, shard.Float(14.5), "t_user_0002"}, // 14 (half to even)
		{ins, shard.String("-16115"), "t_user_0001"},
		{sel, shard.String("1e999"), "not placed"},
	}
	for _, c := range cases {
		x, _, err := c.tpl.Place(c.v)
		got := x.Table
		if err != nil {
			got = "not placed"
		}
		if got != c.want {
			t.Errorf("%s with %s: got %s want %s", c.tpl.SQL[c.tpl.Table.All()[0]], c.v, got, c.want)
		}
	}
}
