package integration

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/switchyard-db/switchyard/internal/testtopo"
	"strings"
	"testing"
	"time"
)

const shardRules = `    default_slice: s0
    databases:
      - name: it_shard
        tables:
          - {name: t_user, type: sharded, key: id, algorithm: hash, slices: [s0, s1], tables_per_slice: 2}
          - {name: t_order, type: linked, parent: t_user, key: user_id}
          - {name: t_region, type: global}
`

func TestShardingRoutesByKey(t *testing.T) {
	h := startProxy(t, options{slices: 2, nsExtra: shardRules})
	s0, s1 := h.topo.Slices[0].Primary, h.topo.Slices[1].Primary
	h.topo.Exec(t, s0, "DROP DATABASE IF EXISTS it_shard", "CREATE DATABASE it_shard")
	h.topo.Exec(t, s1, "DROP DATABASE IF EXISTS it_shard", "CREATE DATABASE it_shard")
	t.Cleanup(func() {
		h.topo.Exec(t, s0, "DROP DATABASE IF EXISTS it_shard")
		h.topo.Exec(t, s1, "DROP DATABASE IF EXISTS it_shard")
	})
	// Reads on replicas see every committed write (the pool has several sessions).
	db := h.open(splitUser, splitPass, "it_shard", "interpolateParams=true&switchyard_read_consistency=%27global%27")
	// DDL fans out to every physical table.
	mustExec(t, db,
		"CREATE TABLE t_user (id BIGINT PRIMARY KEY, name VARCHAR(40))",
		"CREATE TABLE t_order (id BIGINT PRIMARY KEY, user_id BIGINT, amount INT)",
		"CREATE TABLE t_region (id INT PRIMARY KEY, name VARCHAR(20))",
		"CREATE TABLE t_plain (id INT PRIMARY KEY)")
	// The physical tables exist where the rules put them.
	h.topo.Exec(t, s0, "SELECT * FROM it_shard.t_user_0000", "SELECT * FROM it_shard.t_user_0001", "SELECT * FROM it_shard.t_region")
	h.topo.Exec(t, s1, "SELECT * FROM it_shard.t_user_0002", "SELECT * FROM it_shard.t_user_0003", "SELECT * FROM it_shard.t_order_0003", "SELECT * FROM it_shard.t_region")
	// Rows land where the kingshard/Gaea hash puts them: id % 4, tables
	// 0-1 on s0 and 2-3 on s1.
	for id := 1; id <= 20; id++ {
		if _, err := db.Exec("INSERT INTO t_user (id, name) VALUES (?, ?)", id, fmt.Sprintf("u%d", id)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("INSERT INTO t_order (id, user_id, amount) VALUES (?, ?, ?)", 1000+id, id, id*10); err != nil {
			t.Fatal(err)
		}
	}
	for id := 1; id <= 20; id++ {
		idx := id % 4
		node := s0
		if idx >= 2 {
			node = s1
		}
		direct := h.rootDB(node, "it_shard")
		if got := queryString(t, direct, fmt.Sprintf("SELECT name FROM t_user_%04d WHERE id = ?", idx), id); got != fmt.Sprintf("u%d", id) {
			t.Fatalf("id %d not in t_user_%04d on %s: %q", id, idx, node.Addr, got)
		}
		if got := queryString(t, direct, fmt.Sprintf("SELECT amount FROM t_order_%04d WHERE user_id = ?", idx), id); got != fmt.Sprint(id*10) {
			t.Fatalf("order of user %d not next to it: %q", id, got)
		}
		// And the proxy finds them by key.
		if got := queryString(t, db, "/*master*/ SELECT name FROM t_user WHERE id = ?", id); got != fmt.Sprintf("u%d", id) {
			t.Fatalf("proxy read of id %d: %q", id, got)
		}
	}
	// An unlisted table lives on the default slice.
	h.topo.Exec(t, s0, "SELECT * FROM it_shard.t_plain")
	// Updates and deletes by key.
	mustExec(t, db, "UPDATE t_user SET name = 'changed' WHERE id = 7", "DELETE FROM t_order WHERE user_id = 7")
	if got := queryString(t, db, "/*master*/ SELECT name FROM t_user WHERE id = 7"); got != "changed" {
		t.Fatalf("update by key: %q", got)
	}
	// A transaction may take in another slice (two-phase commit); a
	// rollback undoes it everywhere.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, "UPDATE t_user SET name = 'tx' WHERE id = 2", "UPDATE t_user SET name = 'tx' WHERE id = 6") // both on s1
	_, err = tx.Exec("UPDATE t_user SET name = 'tx' WHERE id = 1")                                              // s0
	if rerr := tx.Rollback(); err != nil || rerr != nil {
		t.Fatalf("cross-slice statement: %v, rollback: %v", err, rerr)
	}
	if got := queryString(t, db, "/*master*/ SELECT COUNT(*) FROM t_user WHERE name = 'tx'"); got != "0" {
		t.Fatalf("rolled back transaction left %s rows", got)
	}
	// Scatter queries are merged; prepared statements on sharded tables
	// are prepared by the proxy.
	if got := queryString(t, db, "/*master*/ SELECT COUNT(*) FROM t_user"); got != "20" {
		t.Fatalf("scatter count: %q", got)
	}
	// EXPLAIN shows one row per physical statement.
	rows, err := db.Query("EXPLAIN SELECT COUNT(*) FROM t_user")
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for rows.Next() {
		var slice, role, dbname, physical, merge string
		if err := rows.Scan(&slice, &role, &dbname, &physical, &merge); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(physical, fmt.Sprintf("t_user_%04d", n)) || role != "replica" || dbname != "it_shard" {
			t.Fatalf("EXPLAIN row %d: %s %s %s %s", n, slice, role, dbname, physical)
		}
		n++
	}
	rows.Close()
	if n != 4 {
		t.Fatalf("EXPLAIN returned %d rows, want 4", n)
	}
	ps := h.open(splitUser, splitPass, "it_shard", "switchyard_read_consistency=%27global%27")
	if got := queryString(t, ps, "SELECT name FROM t_user WHERE id = ?", 3); got != "u3" {
		t.Fatalf("prepared point query: %q", got)
	}
	if got := queryString(t, ps, "SELECT COUNT(*) FROM t_order WHERE user_id IN (?, ?, ?)", 1, 2, 7); got != "2" {
		t.Fatalf("prepared scatter count: %q", got)
	}
	// Metadata shows logical names.
	tables := queryStrings(t, db, "SHOW TABLES")
	if strings.Join(tables, ",") != "t_order,t_plain,t_region,t_user" {
		t.Fatalf("SHOW TABLES: %q", tables)
	}
	if dbs := queryStrings(t, db, "SHOW DATABASES LIKE 'it\\_shard'"); strings.Join(dbs, ",") != "it_shard" {
		t.Fatalf("SHOW DATABASES: %q", dbs)
	}
	// Labels as MariaDB gives them (issue 10 item 9).
	for _, c := range []struct{ q, label string }{
		{"SHOW DATABASES LIKE 'it\\_shard'", `Database (it\_shard)`},
		{"SHOW TABLES LIKE 't\\_u%'", `Tables_in_it_shard (t\_u%)`},
		{"SHOW TABLES", "Tables_in_it_shard"},
		{"SELECT id, 'user is user', 'it''s', _utf8mb4'x' FROM t_user", "id,user is user,it's,x"},
	} {
		rows, err := db.Query(c.q)
		if err != nil {
			t.Fatalf("%s: %v", c.q, err)
		}
		cols, _ := rows.Columns()
		rows.Close()
		if got := strings.Join(cols, ","); !strings.HasPrefix(got, c.label) {
			t.Errorf("%s: labels %q, want %q", c.q, got, c.label)
		}
	}
	var name, ddl string
	if err := db.QueryRow("SHOW CREATE TABLE t_user").Scan(&name, &ddl); err != nil || name != "t_user" || !strings.Contains(ddl, "CREATE TABLE `t_user` (") {
		t.Fatalf("SHOW CREATE TABLE: %v %q %q", err, name, ddl)
	}
	if got := queryString(t, db, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'it_shard' AND table_name = 't_order'"); got != "1" {
		t.Fatalf("information_schema lookup of a logical table: %q", got)
	}
	if cols := queryStrings(t, db, "DESCRIBE t_user"); strings.Join(cols, ",") != "id,name" {
		t.Fatalf("DESCRIBE: %q", cols)
	}
	if got := queryString(t, ps, "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = 'it_shard' AND table_name = ?", "t_user"); got != "2" {
		t.Fatalf("prepared information_schema lookup: %q", got)
	}
	// What is not supported yet is refused precisely, never answered wrong.
	for _, q := range []string{
		"INSERT INTO t_region SELECT * FROM t_region",
		"SELECT * FROM t_user u JOIN t_order o ON u.name = o.amount",
	} {
		_, err := db.Exec(q)
		mysqlErr(t, err, 1235, "42000")
	}
	// KILL QUERY stops every physical statement of a scatter query.
	ka, kb := h.conn(db), h.conn(db)
	kid := queryString(t, ka, "SELECT CONNECTION_ID()")
	killed := make(chan error, 1)
	began := time.Now()
	go func() {
		_, err := ka.ExecContext(context.Background(), "/*master*/ SELECT id, SLEEP(1) FROM t_user")
		killed <- err
	}()
	time.Sleep(300 * time.Millisecond)
	mustExec(t, kb, "KILL QUERY "+kid)
	select {
	case err := <-killed:
		if took := time.Since(began); took > 3*time.Second {
			t.Fatalf("killed scatter query ran %v (err %v)", took, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("KILL QUERY did not stop the scatter query")
	}
	if got := queryString(t, ka, "/*master*/ SELECT COUNT(*) FROM t_user"); got != "20" {
		t.Fatalf("session after KILL QUERY: %q", got)
	}
	ka.Close()
	kb.Close()
	h.poolsIdle(t)
}

// queryStrings returns the first column of every row.
func queryStrings(t *testing.T, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		out = append(out, vals[0].String)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

// TestScatterWithASliceDown: a scatter query whose second slice cannot be
// reached fails at once with a clear error; the connection already taken
// for the first slice goes back to its pool unused (nothing is waited for).
func TestScatterWithASliceDown(t *testing.T) {
	topo := testtopo.Require(t)
	via := *topo
	via.Slices = append([]testtopo.Slice(nil), topo.Slices[:2]...)
	via.Slices[1].Primary.Addr = "127.0.0.1:1"
	via.Slices[1].Replicas = nil
	h := startProxyOn(t, &via, options{slices: 2, nsExtra: `    default_slice: s0
    databases:
      - name: it_down
        tables:
          - {name: t, type: sharded, key: id, algorithm: mod, slices: [s0, s1], tables_per_slice: 1}
`})
	p := topo.Slices[0].Primary
	topo.Exec(t, p, "DROP DATABASE IF EXISTS it_down", "CREATE DATABASE it_down", "CREATE TABLE it_down.t_0000 (id INT PRIMARY KEY)")
	t.Cleanup(func() { topo.Exec(t, p, "DROP DATABASE IF EXISTS it_down") })
	db := h.open(plainUser, plainPass, "it_down", "interpolateParams=true")
	start := time.Now()
	_, err := db.Exec("SELECT COUNT(*) FROM t")
	if err == nil {
		t.Fatal("scatter query over an unreachable slice succeeded")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("scatter query took %v to fail: %v", took, err)
	}
	if got := queryString(t, db, "SELECT COUNT(*) FROM t WHERE id = 2"); got != "0" {
		t.Fatalf("point query on the reachable slice: %q", got)
	}
}
