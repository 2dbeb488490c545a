package router

import (
	"testing"

	"github.com/switchyard-db/switchyard/internal/shard"
)

func TestPrepareTemplate(t *testing.T) {
	rules := loadRules(t)
	for _, c := range []struct {
		sql      string
		keyParam int // -1: no template
		want     string
	}{
		{"SELECT name FROM t_user WHERE id = ?", 0, "SELECT `name` FROM `t_user_0001` WHERE `id`=?"},
		{"SELECT COUNT(*) FROM t_user WHERE name = ? AND id = ?", 1, "SELECT COUNT(1) AS `COUNT(*)` FROM `t_user_0001` WHERE `name`=? AND `id`=?"},
		{"UPDATE t_user SET name = ? WHERE id = ?", 1, "UPDATE `t_user_0001` SET `name`=? WHERE `id`=?"},
		{"DELETE FROM t_order WHERE user_id = ?", 0, "DELETE FROM `t_order_0001` WHERE `user_id`=?"},
		{"INSERT INTO t_user (name, id) VALUES (?, ?)", 1, "INSERT INTO `t_user_0001` (`name`,`id`) VALUES (?,?)"},
		{"SELECT name FROM t_user WHERE id IN (?, ?)", -1, ""},
		{"SELECT name FROM t_user WHERE id = ? OR id = ?", -1, ""},
		{"UPDATE t_user SET id = ? WHERE id = ?", -1, ""},
		{"INSERT INTO t_user (id, name) VALUES (?, ?), (?, ?)", -1, ""},
		{"SELECT * FROM t_region WHERE id = ?", -1, ""},
		{"SELECT * FROM t_user u JOIN t_order o ON o.user_id = u.id WHERE u.id = ?", -1, ""},
		{"SELECT * FROM t_seq WHERE id = ?", -1, ""},
	} {
		tpl := PrepareTemplate(c.sql, rules, "shop")
		if c.keyParam < 0 {
			if tpl != nil {
				t.Errorf("%s: unexpected template", c.sql)
			}
			continue
		}
		if tpl == nil {
			t.Errorf("%s: no template", c.sql)
			continue
		}
		if tpl.KeyParam != c.keyParam {
			t.Errorf("%s: key parameter %d, want %d", c.sql, tpl.KeyParam, c.keyParam)
		}
		// Key 5 is in table 1 (5 % 4) on s0.
		x, sql, err := tpl.Place(shard.Int(5))
		if err != nil || x.Slice != "s0" || sql != c.want {
			t.Errorf("%s: placed %v %q (%v), want %q", c.sql, x, sql, err, c.want)
		}
	}
}
