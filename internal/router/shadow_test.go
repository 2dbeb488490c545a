package router

import (
	"testing"

	"github.com/switchyard-db/switchyard/internal/config"
)

func TestShadowHint(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want bool
	}{
		{"/*+ shadow */ INSERT INTO t VALUES (1)", true},
		{"  /*+SHADOW*/ SELECT 1", true},
		{"SELECT /*+ shadow */ * FROM t", true},
		{"/* other */ /*+ shadow */ UPDATE t SET a = 1", true},
		{"/*shadow*/ SELECT 1", false}, // not a hint comment
		{"SELECT * FROM t WHERE a = '/*+ shadow */'", false},
		{"SELECT a, /*+ shadow */ b FROM t", false},
		{"/*+ shadowy */ SELECT 1", false},
		{"/*+ shadow", false},
		{"", false},
	} {
		if got := ShadowHint(tc.sql); got != tc.want {
			t.Errorf("ShadowHint(%q) = %v, want %v", tc.sql, got, tc.want)
		}
	}
}

func TestAnalyzeShadow(t *testing.T) {
	for _, tc := range []struct {
		sql                    string
		ok, set, on, def, show bool
		label                  string
		errCode                uint16
	}{
		{sql: "SELECT 1"},
		{sql: "SELECT 'switchyard_shadow'"},
		{sql: "SET switchyard_shadow = ON", ok: true, set: true, on: true},
		{sql: "SET SESSION switchyard_shadow = 1", ok: true, set: true, on: true},
		{sql: "set @@switchyard_shadow = 'off'", ok: true, set: true},
		{sql: "SET switchyard_shadow = OFF", ok: true, set: true},
		{sql: "SET switchyard_shadow = DEFAULT", ok: true, set: true, def: true},
		{sql: "SET switchyard_shadow = 'maybe'", ok: true, set: true, errCode: 1231},
		{sql: "SET GLOBAL switchyard_shadow = ON", ok: true, errCode: 1229},
		{sql: "SET switchyard_shadow = ON, autocommit = 0", ok: true, errCode: 1235},
		{sql: "SET switchyard_shadow = ON; SELECT 1", ok: true, errCode: 1235},
		{sql: "SELECT @@switchyard_shadow", ok: true, show: true, label: "@@switchyard_shadow"},
		{sql: "SELECT @@session.switchyard_shadow AS s", ok: true, show: true, label: "s"},
		{sql: "SELECT @@switchyard_shadow + 1"}, // the backend answers 1193
	} {
		st, ok := AnalyzeShadow(tc.sql)
		var code uint16
		if st.Err != nil {
			code = st.Err.Code
		}
		if ok != tc.ok || st.Set != tc.set || st.On != tc.on || st.Default != tc.def || st.Show != tc.show || st.Label != tc.label || code != tc.errCode {
			t.Errorf("AnalyzeShadow(%q) = %+v, %v", tc.sql, st, ok)
		}
	}
}

func TestFollowedByShadow(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want bool
	}{
		{"CREATE TABLE t (id INT)", true},
		{"/* m */ ALTER TABLE t ADD COLUMN b INT", true},
		{"DROP TABLE IF EXISTS t", true},
		{"create index i on t (b)", true},
		{"CREATE DATABASE d", true},
		{"RENAME TABLE a TO b", true},
		{"CREATE TEMPORARY TABLE t (id INT)", false},
		{"DROP TEMPORARY TABLE t", false},
		{"CREATE USER u", false},
		{"TRUNCATE TABLE t", false},
		{"GRANT SELECT ON *.* TO u", false},
		{"INSERT INTO t VALUES (1)", false},
		{"CREATE TABLE a (id INT); CREATE TABLE b (id INT)", false},
		{"SELECT 'CREATE TABLE t'", false},
	} {
		if got := FollowedByShadow(tc.sql); got != tc.want {
			t.Errorf("FollowedByShadow(%q) = %v, want %v", tc.sql, got, tc.want)
		}
	}
}

func TestShadowByColumns(t *testing.T) {
	rules := []config.ShadowRule{
		{Table: "t_user", Column: "name", Regex: "^lt_"},
		{Column: "tenant", Values: []string{"0", "load"}},
	}
	for _, tc := range []struct {
		sql  string
		want bool
	}{
		{"INSERT INTO t_user (id, name) VALUES (1, 'lt_1')", true},
		{"INSERT INTO t_user (id, name) VALUES (1, 'alice'), (2, 'lt_2')", true},
		{"INSERT INTO t_user SET id = 1, name = 'lt_x'", true},
		{"INSERT INTO t_user VALUES (1, 'lt_1')", false}, // no column list
		{"INSERT INTO t_user (id, name) VALUES (1, 'alice')", false},
		{"INSERT INTO t_order (id, name) VALUES (1, 'lt_1')", false}, // other table
		{"UPDATE t_user SET x = 1 WHERE name = 'lt_9'", true},
		{"SELECT * FROM t_user u WHERE u.name = 'lt_9'", true}, // qualified by an alias
		{"SELECT * FROM t_user u JOIN t_other o ON o.id = u.id WHERE o.name = 'lt_9'", false},
		{"SELECT * FROM t_user WHERE t_user.name = 'lt_9'", true},
		{"DELETE FROM t_user WHERE 'lt_3' = name", true},
		{"SELECT * FROM t_user WHERE name IN ('a', 'lt_4')", true},
		{"SELECT * FROM t_user WHERE name NOT IN ('lt_4')", false},
		{"SELECT * FROM t_user WHERE name LIKE 'lt_%'", false},
		{"SELECT * FROM anything WHERE tenant = 0", true},
		{"SELECT * FROM anything WHERE tenant = 'load'", true},
		{"SELECT * FROM anything WHERE tenant = 1", false},
		{"SELECT * FROM anything WHERE tenant = ?", false},
		{"SELECT 1", false},
		{"not sql at all", false},
	} {
		if got := ShadowByColumns(tc.sql, rules); got != tc.want {
			t.Errorf("ShadowByColumns(%q) = %v, want %v", tc.sql, got, tc.want)
		}
	}
	if ShadowByColumns("SELECT * FROM t WHERE tenant = 0", nil) {
		t.Error("no rules marked a statement")
	}
}
