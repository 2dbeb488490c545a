package integration

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"
	"time"
)

const rulesYAML = `    default_slice: s0
    databases:
      - name: it_rules
        tables:
          - {name: t_user, type: sharded, key: id, algorithm: hash, slices: [s0, s1]}
    sql_rules:
      - {name: no_mass_delete, class: delete_without_where}
      - {name: no_scan, class: sharded_full_scan, users: [w]}
      - {name: no_sleep_10, regex: "SLEEP\\(10\\)"}
      - {name: not_this, fingerprint: "SELECT name FROM t_user WHERE id = 1 AND name = 'x'"}
      - {name: slow_cap, action: limit, regex: "SLEEP", users: [w], max_execution_time: 300ms}
      - {name: one_at_a_time, action: limit, regex: "one_at_a_time", max_concurrency: 1, queue_timeout: 100ms}
`

// TestSQLRules: deny rules by class, regex and fingerprint answer 1148
// naming the rule; a time limit stops the backend statement (every part
// of a scatter) with 1969; a concurrency limit queues then refuses (1226);
// the connection stays usable throughout.
func TestSQLRules(t *testing.T) {
	h := startProxy(t, options{slices: 2, nsExtra: rulesYAML,
		users: "      - {name: slowpoke, password: pw, max_execution_time: 200ms}\n"})
	for _, s := range h.topo.Slices[:2] {
		h.topo.Exec(t, s.Primary, "DROP DATABASE IF EXISTS it_rules", "CREATE DATABASE it_rules")
	}
	t.Cleanup(func() {
		for _, s := range h.topo.Slices[:2] {
			h.rootDB(s.Primary, "").Exec("DROP DATABASE IF EXISTS it_rules")
		}
	})
	ctx := context.Background()
	db := h.open(plainUser, plainPass, "it_rules", "")
	db.SetMaxOpenConns(1) // one session: it must stay usable
	mustExec(t, db, "CREATE TABLE t_user (id INT PRIMARY KEY, name VARCHAR(20))",
		"INSERT INTO t_user VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')")

	for _, c := range []struct{ sql, rule string }{
		{"DELETE FROM t_user", "no_mass_delete"},
		{"SELECT name FROM t_user", "no_scan"},
		{"SELECT COUNT(*) FROM t_user WHERE name <> 'x'", "no_scan"},
		{"SELECT SLEEP(10)", "no_sleep_10"},
		{"select name from t_user where id = 3 and name = 'zz'", "not_this"},
	} {
		_, err := db.ExecContext(ctx, c.sql)
		me := mysqlErr(t, err, 1148, "42000")
		if me.Message != "Statement refused by Switchyard SQL rule '"+c.rule+"'" {
			t.Errorf("%s: %q", c.sql, me.Message)
		}
	}
	if got := queryString(t, db, "SELECT name FROM t_user WHERE id = 3"); got != "c" {
		t.Fatalf("keyed read: %q", got)
	}
	// The prepared form is refused at prepare time.
	_, err := db.QueryContext(ctx, "SELECT name FROM t_user WHERE name = ?", "a")
	mysqlErr(t, err, 1148, "42000")

	// Time limit of a rule: the backend answers 1969; the session goes on.
	start := time.Now()
	_, err = db.ExecContext(ctx, "SELECT SLEEP(3)")
	mysqlErr(t, err, 1969, "70100")
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("limited statement ran %v", took)
	}
	// A scatter: every part is limited (the app user may scan).
	app := h.open(splitUser, splitPass, "it_rules", "")
	slow := h.open("slowpoke", "pw", "it_rules", "")
	start = time.Now()
	_, err = slow.ExecContext(ctx, "SELECT SLEEP(1) FROM t_user")
	mysqlErr(t, err, 1969, "70100")
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("limited scatter ran %v", took)
	}
	if got := queryString(t, slow, "SELECT COUNT(*) FROM t_user"); got != "4" {
		t.Fatalf("after the limit: %q", got)
	}
	// The user may not lift the limit.
	_, err = slow.ExecContext(ctx, "SET max_statement_time = 0")
	mysqlErr(t, err, 1148, "42000")
	if got := queryString(t, db, "SELECT 'usable'"); got != "usable" {
		t.Fatal(got)
	}

	// Concurrency: one runs, one waits 100ms and is refused with 1226.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, errs[0] = app.ExecContext(ctx, "SELECT SLEEP(1.5), 'one_at_a_time'")
	}()
	// The first holds the turn once a server runs it.
	nodes := append([]*sql.DB{h.rootDB(h.topo.Slices[0].Primary, "")}, h.rootDB(h.topo.Slices[0].Replicas[0], ""))
	waitFor(t, 10*time.Second, func() bool {
		for _, root := range nodes {
			var n int
			if root.QueryRow("SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP(1.5)%'").Scan(&n) == nil && n > 0 {
				return true
			}
		}
		return false
	})
	_, errs[1] = app.ExecContext(ctx, "SELECT SLEEP(1.5), 'one_at_a_time'")
	wg.Wait()
	if errs[0] != nil {
		t.Fatalf("first: %v", errs[0])
	}
	me := mysqlErr(t, errs[1], 1226, "42000")
	if !strings.Contains(me.Message, "'max_concurrency' resource of SQL rule 'one_at_a_time'") {
		t.Fatalf("1226 message: %q", me.Message)
	}
	m := h.scrape(t)
	for _, want := range []string{`switchyard_rate_limited_total{namespace="itest",outcome="rejected",rule="one_at_a_time"} 1`,
		`switchyard_statements_refused_total{namespace="itest",reason="rule"}`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestResultLimits: a result over the user's max_result_rows or
// max_result_bytes ends with 1226 (the backend statement is stopped); the
// connection stays usable.
func TestResultLimits(t *testing.T) {
	h := startProxy(t, options{users: "      - {name: small, password: pw, max_result_rows: 5}\n" +
		"      - {name: thin, password: pw, max_result_bytes: 1KiB}\n"})
	ctx := context.Background()
	read := func(db *sql.DB, q string, args ...any) (int, error) {
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			n++
		}
		return n, rows.Err()
	}
	h.createDB("it_limits")
	small := h.open("small", "pw", "it_limits", "")
	small.SetMaxOpenConns(1)
	if n, err := read(small, "SELECT seq FROM seq_1_to_5"); err != nil || n != 5 {
		t.Fatalf("5 rows: %d %v", n, err)
	}
	start := time.Now()
	n, err := read(small, "SELECT seq FROM seq_1_to_100000000")
	me := mysqlErr(t, err, 1226, "42000")
	if n != 5 || me.Message != "User 'small' has exceeded the 'max_result_rows' resource (current value: 5)" {
		t.Fatalf("after %d rows: %q", n, me.Message)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("the backend statement was not stopped: %v", took)
	}
	if got := queryString(t, small, "SELECT 'usable'"); got != "usable" {
		t.Fatal(got)
	}
	// Prepared statements (the driver prepares queries with arguments).
	n, err = read(small, "SELECT seq FROM seq_1_to_100000000 WHERE seq > ?", 0)
	if mysqlErr(t, err, 1226, "42000"); n != 5 {
		t.Fatalf("prepared: %d rows", n)
	}
	if n, err := read(small, "SELECT seq FROM seq_1_to_5 WHERE seq > ?", 0); err != nil || n != 5 {
		t.Fatalf("prepared, 5 rows: %d %v", n, err)
	}
	thin := h.open("thin", "pw", "it_limits", "")
	_, err = read(thin, "SELECT REPEAT('x', 100) FROM seq_1_to_1000")
	mysqlErr(t, err, 1226, "42000")
	if n, err := read(thin, "SELECT REPEAT('x', 100) FROM seq_1_to_5"); err != nil || n != 5 {
		t.Fatalf("small result: %d %v", n, err)
	}
}
