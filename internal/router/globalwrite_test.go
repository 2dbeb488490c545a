package router

import (
	"strings"
	"testing"

	"github.com/switchyard-db/switchyard/internal/shard"
)

// TestGlobalWritesSameOnEveryCopy: values that would differ between the
// copies of a global table are evaluated once (the plan's Eval), or the
// write is refused with 1235 naming the construct.
func TestGlobalWritesSameOnEveryCopy(t *testing.T) {
	rules := loadRules(t)
	schema := func(tb *shard.Table) ([]shard.Column, bool) {
		if tb.Name() != "t_region" {
			return testSchema(tb)
		}
		return []shard.Column{
			shard.ParseColumn("id", "int(11)", "NULL", "NULL", "auto_increment"),
			shard.ParseColumn("name", "varchar(40)", "utf8mb4_general_ci", "NULL", ""),
			shard.ParseColumn("ts", "timestamp(6)", "NULL", "current_timestamp(6)", "on update current_timestamp(6)"),
		}, true
	}
	cases := []struct {
		sql  string
		eval string // the SELECT evaluated once; "" for none
		step string // the first copy's statement after substitution (v0, v1, ...)
		err  string // a part of the refusal
	}{
		{sql: "INSERT INTO t_region (id, name) VALUES (1, UUID())", eval: "SELECT QUOTE(UUID()), QUOTE(NOW(6))",
			step: "INSERT INTO `t_region` (`id`,`name`,`ts`) VALUES (1,v0,TIMESTAMPv1)"},
		{sql: "INSERT INTO t_region (id, name, ts) VALUES (1, @@hostname, NOW()), (2, CONCAT('a', RAND()), NOW())", eval: "SELECT QUOTE(@@`hostname`), QUOTE(NOW()), RAND(), QUOTE(NOW())",
			step: "INSERT INTO `t_region` (`id`,`name`,`ts`) VALUES (1,v0,TIMESTAMPv1),(2,CONCAT('a', v2),TIMESTAMPv3)"},
		{sql: "INSERT INTO t_region (id, name, ts) VALUES (1, 'a', '2024-01-01')", eval: ""},
		{sql: "INSERT INTO t_region VALUES (1, 'a', '2024-01-01')", eval: ""},
		{sql: "UPDATE t_region SET name = 'x', ts = NOW(6) WHERE id = 1", eval: "SELECT QUOTE(NOW(6))",
			step: "UPDATE `t_region` SET `name`='x', `ts`=TIMESTAMPv0 WHERE `id`=1"},
		{sql: "DELETE FROM t_region WHERE ts < CURRENT_TIMESTAMP - INTERVAL 1 DAY", eval: "SELECT QUOTE(CURRENT_TIMESTAMP())",
			step: "DELETE FROM `t_region` WHERE `ts`<DATE_SUB(TIMESTAMPv0, INTERVAL 1 DAY)"},
		{sql: "INSERT INTO t_region (name) VALUES ('x')", err: "AUTO_INCREMENT column id"},
		{sql: "INSERT INTO t_region (id, name) VALUES (NULL, 'x')", err: "AUTO_INCREMENT column id"},
		{sql: "INSERT INTO t_region (id, name) VALUES (0, 'x')", err: "AUTO_INCREMENT column id"},
		{sql: "UPDATE t_region SET name = 'x' WHERE id = 1", err: "ON UPDATE CURRENT_TIMESTAMP column ts"},
		{sql: "UPDATE t_region SET name = UUID(), ts = NOW() WHERE id = 1", err: "UUID() outside INSERT"},
		{sql: "DELETE FROM t_region WHERE RAND() < 0.5", err: "RAND() outside INSERT"},
		{sql: "INSERT INTO t_region (id, name) VALUES (1, 'a') ON DUPLICATE KEY UPDATE name = 'b'", err: "ON DUPLICATE KEY UPDATE"},
		{sql: "INSERT INTO t_region (id, name, ts) VALUES (1, LAST_INSERT_ID(), NOW())", err: "LAST_INSERT_ID()"},
		{sql: "INSERT INTO t_region (id, name) VALUES (1, UNIX_TIMESTAMP(name))", err: "UNIX_TIMESTAMP() of a column"},
	}
	for _, c := range cases {
		_, p := flat(AnalyzeShardedWith(c.sql, rules, "shop", Sources{Schema: schema}))
		if c.err != "" {
			if p == nil || p.Err == nil || p.Err.Code != 1235 || !strings.Contains(p.Err.Message, c.err) {
				t.Errorf("%s: want refusal about %q, got %+v", c.sql, c.err, p)
			}
			continue
		}
		if p == nil || p.Err != nil || len(p.Steps) != 2 || !p.Global {
			t.Errorf("%s: plan %+v", c.sql, p)
			continue
		}
		if c.eval == "" {
			if p.Eval != nil {
				t.Errorf("%s: unexpected eval %s", c.sql, p.Eval.SQL)
			}
			continue
		}
		if p.Eval == nil || !strings.EqualFold(p.Eval.SQL, c.eval) {
			t.Errorf("%s: eval %+v, want %s", c.sql, p.Eval, c.eval)
			continue
		}
		vals := make([]string, len(p.Eval.Markers))
		for i := range vals {
			vals[i] = "v" + string(rune('0'+i))
		}
		if err := p.Eval.Apply(p.Steps, vals); err != nil {
			t.Fatal(err)
		}
		if !strings.EqualFold(p.Steps[0].SQL, c.step) || p.Steps[1].SQL != p.Steps[0].SQL {
			t.Errorf("%s:\n got %s\n and %s\nwant %s", c.sql, p.Steps[0].SQL, p.Steps[1].SQL, c.step)
		}
	}
}
