package integration

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/testtopo"
)

// shadowHarness starts a proxy whose namespace has one production slice
// (topology slice 0, the sharded table's four physical tables on it) and
// its shadow slice on topology slice 2, with a load-test user "lt"
// (shadow: true). Database it_shadow is created directly on both sides.
func shadowHarness(t *testing.T) (h *harness, prod, shadow testtopo.Node) {
	topo := testtopo.Require(t)
	sh := topo.Slices[2]
	var reps []string
	for _, r := range sh.Replicas {
		reps = append(reps, r.Addr)
	}
	nsExtra := fmt.Sprintf(`    default_slice: s0
    databases:
      - name: it_shadow
        tables:
          - {name: t_user, type: sharded, key: id, algorithm: hash, slices: [s0], tables_per_slice: 4}
          - {name: t_region, type: global}
    shadow:
      slices:
        - {name: %s, primary: %s, replicas: [%s]}
      rules:
        - {table: t_user, column: name, regex: "^lt_"}
`, topo.Slices[0].Name, sh.Primary.Addr, strings.Join(reps, ", "))
	nsExtra = strings.Replace(nsExtra, "slices: [s0]", "slices: ["+topo.Slices[0].Name+"]", 1)
	nsExtra = strings.Replace(nsExtra, "default_slice: s0", "default_slice: "+topo.Slices[0].Name, 1)
	prod, shadow = topo.Slices[0].Primary, sh.Primary
	for _, n := range []testtopo.Node{prod, shadow} {
		topo.Exec(t, n, "DROP DATABASE IF EXISTS it_shadow", "CREATE DATABASE it_shadow")
	}
	t.Cleanup(func() {
		for _, n := range []testtopo.Node{prod, shadow} {
			topo.Exec(t, n, "DROP DATABASE IF EXISTS it_shadow")
		}
	})
	h = startProxyOn(t, topo, options{nsExtra: nsExtra, users: "      - {name: lt, password: lt_pw, shadow: true}\n"})
	return h, prod, shadow
}

// physicalRows counts the rows of t_user's physical tables and t_region
// read directly on a server, with their checksums.
func physicalRows(t *testing.T, h *harness, n testtopo.Node) (count int, checksum string) {
	t.Helper()
	db := h.rootDB(n, "it_shadow")
	var sums []string
	for _, tbl := range []string{"t_user_0000", "t_user_0001", "t_user_0002", "t_user_0003", "t_region"} {
		var k int
		if err := db.QueryRow("SELECT COUNT(*) FROM " + tbl).Scan(&k); err != nil {
			t.Fatalf("%s on %s: %v", tbl, n.Addr, err)
		}
		count += k
		var name string
		var sum sql.NullString
		if err := db.QueryRow("CHECKSUM TABLE "+tbl).Scan(&name, &sum); err != nil {
			t.Fatal(err)
		}
		sums = append(sums, sum.String)
	}
	return count, strings.Join(sums, ",")
}

func TestShadowRouting(t *testing.T) {
	h, prod, shadow := shadowHarness(t)
	ctx := context.Background()
	db := h.open(plainUser, plainPass, "it_shadow", "interpolateParams=true")
	ddl := []string{
		"CREATE TABLE t_user (id BIGINT PRIMARY KEY, name VARCHAR(40))",
		"CREATE TABLE t_region (id INT PRIMARY KEY, name VARCHAR(20))",
	}
	// DDL in production runs on the shadow side too.
	mustExec(t, db, ddl...)
	mustExec(t, db, "ALTER TABLE t_user ADD COLUMN note VARCHAR(10)")
	for _, n := range []testtopo.Node{prod, shadow} {
		if got := queryString(t, h.rootDB(n, "it_shadow"), "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = 'it_shadow' AND column_name = 'note'"); got != "4" {
			t.Fatalf("ALTER on %s reached %s physical tables, want 4", n.Addr, got)
		}
	}
	mustExec(t, db, "ALTER TABLE t_user DROP COLUMN note")
	// DDL marked as shadow traffic runs on the shadow side only.
	mustExec(t, db, "/*+ shadow */ CREATE TABLE t_only_shadow (id INT PRIMARY KEY)")
	if got := queryString(t, h.rootDB(prod, "it_shadow"), "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'it_shadow' AND table_name = 't_only_shadow'"); got != "0" {
		t.Fatal("shadow DDL reached production")
	}
	queryString(t, h.rootDB(shadow, "it_shadow"), "SELECT COUNT(*) FROM t_only_shadow")
	for id := 1; id <= 4; id++ {
		mustExec(t, db, fmt.Sprintf("INSERT INTO t_user VALUES (%d, 'prod')", id))
	}
	mustExec(t, db, "INSERT INTO t_region VALUES (1, 'prod')")
	prodRows, prodSum := physicalRows(t, h, prod)
	if prodRows != 5 {
		t.Fatalf("production holds %d rows, want 5", prodRows)
	}

	// 1. The hint, per statement (text and prepared statements).
	mustExec(t, db,
		"/*+ shadow */ INSERT INTO t_user VALUES (101, 'hint'), (102, 'hint')",
		"/*+ shadow */ INSERT INTO t_region VALUES (1, 'shadow')",
		"/*+ shadow */ UPDATE t_user SET name = 'hint2' WHERE id = 102")
	prep := h.open(plainUser, plainPass, "it_shadow", "")
	if _, err := prep.Exec("/*+ shadow */ INSERT INTO t_user VALUES (?, ?)", 103, "prepared"); err != nil {
		t.Fatal(err)
	}
	if got := queryString(t, db, "/*+ shadow */ SELECT COUNT(*) FROM t_user"); got != "3" {
		t.Fatalf("shadow count through the proxy: %s", got)
	}
	if got := queryString(t, db, "SELECT COUNT(*) FROM t_user"); got != "4" {
		t.Fatalf("production count through the proxy: %s", got)
	}

	// EXPLAIN shows the side.
	for q, want := range map[string]string{
		"EXPLAIN SELECT * FROM t_user WHERE id = 1":               h.topo.Slices[0].Name,
		"/*+ shadow */ EXPLAIN SELECT * FROM t_user WHERE id = 1": h.topo.Slices[0].Name + " (shadow)",
	} {
		var got, role, dbname, physical, merge string
		if err := db.QueryRow(q).Scan(&got, &role, &dbname, &physical, &merge); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got != want {
			t.Fatalf("%s: slice %q, want %q", q, got, want)
		}
	}

	// 2. SET switchyard_shadow, per session.
	c := h.conn(db)
	if got := queryString(t, c, "SELECT @@switchyard_shadow"); got != "OFF" {
		t.Fatalf("@@switchyard_shadow = %s", got)
	}
	mustExec(t, c, "SET switchyard_shadow = ON", "INSERT INTO t_user VALUES (104, 'set')", "DELETE FROM t_user WHERE id = 101")
	if got := shadowIDs(t, c); got != "102,103,104" {
		t.Fatalf("shadow rows seen in shadow mode: %s", got)
	}
	// A transaction stays on its side.
	mustExec(t, c, "BEGIN", "INSERT INTO t_user VALUES (105, 'txn')")
	_, err := c.ExecContext(ctx, "SET switchyard_shadow = OFF")
	mysqlErr(t, err, 1235, "42000")
	mustExec(t, c, "COMMIT", "SET switchyard_shadow = DEFAULT")
	mustExec(t, c, "BEGIN", "INSERT INTO t_user VALUES (5, 'prod')")
	_, err = c.ExecContext(ctx, "/*+ shadow */ INSERT INTO t_user VALUES (106, 'mixed')")
	mysqlErr(t, err, 1235, "42000")
	mustExec(t, c, "ROLLBACK")
	_, err = c.ExecContext(ctx, "SET GLOBAL switchyard_shadow = ON")
	mysqlErr(t, err, 1229, "")

	// 3. A statement prepared in production runs where the session is when
	// it executes.
	pc := h.conn(prep)
	st, err := pc.PrepareContext(ctx, "INSERT INTO t_user VALUES (?, ?)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Exec(6, "prod"); err != nil {
		t.Fatal(err)
	}
	mustExec(t, pc, "SET switchyard_shadow = 1")
	if _, err := st.Exec(107, "prepared in production"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	mustExec(t, pc, "SET switchyard_shadow = 0")

	// 4. A column-value rule (t_user.name starting with lt_).
	mustExec(t, db, "INSERT INTO t_user (id, name) VALUES (109, 'lt_rule')", "UPDATE t_user SET name = 'lt_rule2' WHERE name = 'lt_rule'")
	if got := queryString(t, db, "SELECT COUNT(*) FROM t_user WHERE name = 'lt_rule2'"); got != "1" {
		t.Fatalf("rule-marked read found %s rows on the shadow side", got)
	}

	// 5. The user flag.
	lt := h.open("lt", "lt_pw", "it_shadow", "interpolateParams=true")
	mustExec(t, lt, "INSERT INTO t_user VALUES (108, 'user flag')")
	if got := queryString(t, lt, "SELECT @@switchyard_shadow"); got != "ON" {
		t.Fatalf("user flag: @@switchyard_shadow = %s", got)
	}

	// Production saw the production writes only; the shadow holds the rest.
	prodRows2, _ := physicalRows(t, h, prod)
	if prodRows2 != 6 {
		t.Fatalf("production holds %d rows, want 6", prodRows2)
	}
	if got := queryString(t, h.rootDB(prod, "it_shadow"), "SELECT COUNT(*) FROM t_user_0002 WHERE id >= 100"); got != "0" {
		t.Fatalf("shadow rows on production: %s", got)
	}
	if got := queryString(t, h.rootDB(prod, "it_shadow"), "SELECT name FROM t_region"); got != "prod" {
		t.Fatalf("production t_region: %s", got)
	}
	shadowRows, _ := physicalRows(t, h, shadow)
	// t_user 102,103,104,105,107,108,109 and t_region 1.
	if shadowRows != 8 {
		t.Fatalf("shadow holds %d rows, want 8", shadowRows)
	}
	if got := shadowIDs(t, lt); got != "102,103,104,105,107,108,109" {
		t.Fatalf("shadow rows: %s", got)
	}
	// Without production's own later write, its tables are as they were
	// before the shadow traffic (CHECKSUM TABLE is over the contents).
	mustExec(t, db, "DELETE FROM t_user WHERE id = 6")
	if rows, sum := physicalRows(t, h, prod); rows != prodRows || sum != prodSum {
		t.Fatalf("production changed: %d rows, checksums %s, before %d rows, %s", rows, sum, prodRows, prodSum)
	}
}

// shadowIDs lists t_user's ids in order, as one string "1,2,3".
func shadowIDs(t *testing.T, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) string {
	t.Helper()
	rows, err := q.QueryContext(context.Background(), "SELECT id FROM t_user ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(ids, ",")
}

// TestShadowReload: the shadow data sources are part of the namespace, so a
// reload removes or adds them; a session in shadow mode never falls back
// to production silently.
func TestShadowReload(t *testing.T) {
	h, prod, shadow := shadowHarness(t)
	ctx := context.Background()
	db := h.open(plainUser, plainPass, "it_shadow", "interpolateParams=true")
	mustExec(t, db, "CREATE TABLE t_plain (id INT PRIMARY KEY)")
	c := h.conn(db)
	mustExec(t, c, "SET switchyard_shadow = ON", "INSERT INTO t_plain VALUES (1)")

	i := strings.Index(h.yaml, "    shadow:\n")
	j := strings.Index(h.yaml, "\n    slices:\n") + 1 // the production slices
	if i < 0 || j < i {
		t.Fatalf("unexpected generated configuration:\n%s", h.yaml)
	}
	without := h.yaml[:i] + h.yaml[j:]
	without = strings.Replace(without, "      - {name: lt, password: lt_pw, shadow: true}\n", "", 1)
	apply := func(y string, rev int64) {
		t.Helper()
		cfg, err := config.Parse([]byte(y), "itest.yaml")
		if err != nil {
			t.Fatalf("%v\n%s", err, y)
		}
		if err := h.proxy.Apply(cfg, rev); err != nil {
			t.Fatal(err)
		}
	}
	apply(without, 2)
	_, err := c.ExecContext(ctx, "INSERT INTO t_plain VALUES (2)")
	mysqlErr(t, err, 1235, "42000")
	mustExec(t, c, "SET switchyard_shadow = OFF", "INSERT INTO t_plain VALUES (3)")
	_, err = db.ExecContext(ctx, "/*+ shadow */ INSERT INTO t_plain VALUES (4)")
	mysqlErr(t, err, 1235, "42000")

	apply(h.yaml, 3)
	mustExec(t, db, "/*+ shadow */ INSERT INTO t_plain VALUES (5)")
	for n, want := range map[testtopo.Node]string{prod: "3", shadow: "1,5"} {
		if got := queryString(t, h.rootDB(n, "it_shadow"), "SELECT GROUP_CONCAT(id ORDER BY id) FROM t_plain"); got != want {
			t.Fatalf("t_plain on %s: %s, want %s", n.Addr, got, want)
		}
	}
}
